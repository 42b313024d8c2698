# The resolved analysis config of each run (a window's takes the values it inherits from the
# global run's NLSQ result): repeat any run by hand with
#   heterodyne --config RESULTS/<dataset>/<point>/seed<seed>/run.yaml --run-dir DIR


rule run_config:
    input:
        unpack(run_config_inputs),
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
        inherit=inherit_arguments,
    shell:
        "heterodyne resolve-config {input.analysis} {params.overrides} {params.inherit} --data {input.data}"
        " --seed {wildcards.seed} --output {output} > {log} 2>&1"
