# NLSQ fit of each run (its figures are the plot rule's). Exit 2 (did not converge) is a result:
# outputs are kept and the summary's status and convergence_warning columns say so.


rule nlsq:
    input:
        config=f"{RUN}/run.yaml",
        data=dataset_file,
    output:
        result=f"{RUN}/nlsq/result.json",
        arrays=f"{RUN}/nlsq/nlsq.npz",
    log:
        f"{RUN}/logs/nlsq.log",
    benchmark:
        f"{RUN}/logs/nlsq.benchmark.tsv"
    params:
        run_dir=lambda wildcards, output: os.path.dirname(output.result),
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: run_of(wildcards).nlsq_mem_mb() * attempt,
    conda:
        ENV
    shell:
        "heterodyne --config {input.config} --method nlsq --run-dir {params.run_dir}"
        " --threads {threads} --no-plots > {log} 2>&1 || [ $? -eq 2 ]"
