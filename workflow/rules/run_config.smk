# The resolved analysis config of each run: repeat any run by hand with
#   heterodyne --config RESULTS/<dataset>/<point>/seed<seed>/run.yaml --run-dir DIR


rule run_config:
    input:
        analysis=config["analysis"],
        data=dataset_file,
    output:
        f"{RUN}/run.yaml",
    log:
        f"{RUN}/logs/run_config.log",
    localrule: True
    conda:
        ENV
    threads: 1
    params:
        overrides=override_arguments,
    shell:
        "heterodyne resolve-config {input.analysis} {params.overrides} --data {input.data}"
        " --seed {wildcards.seed} --output {output} > {log} 2>&1"
