# NLSQ fit of each run (its figures are the plot rule's). Exit 2 (did not converge) is a result:
# outputs are kept and the summary's status and convergence_warning columns say so. Config
# nlsq_jobs: one job per run (per_run), or one per dataset fitting all its runs (per_dataset; the
# windows of config `windows` are then still one job each).


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
    wildcard_constraints:
        point=NLSQ_POINTS,
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: attempt_mem_mb("nlsq", run_of(wildcards).nlsq_mem_mb(), attempt),
    params:
        run_dir=lambda wildcards, output: os.path.dirname(output.result),
    shell:
        "heterodyne --config {input.config} --method nlsq --run-dir {params.run_dir}"
        " --threads {threads} --no-plots > {log} 2>&1 || [ $? -eq 2 ]"


if config["nlsq_jobs"] == "per_dataset":

    rule nlsq_dataset:
        input:
            configs=[f"{RESULTS}/{{dataset}}/{point}/seed{seed}/run.yaml" for point, seed in RUN_POINTS],
            data=dataset_file,
        output:
            results=[f"{RESULTS}/{{dataset}}/{point}/seed{seed}/nlsq/result.json" for point, seed in RUN_POINTS],
            arrays=[f"{RESULTS}/{{dataset}}/{point}/seed{seed}/nlsq/nlsq.npz" for point, seed in RUN_POINTS],
        log:
            f"{RESULTS}/{{dataset}}/logs/nlsq.log",
        benchmark:
            f"{RESULTS}/{{dataset}}/logs/nlsq.benchmark.tsv"
        conda:
            ENV
        threads: min(8, len(RUN_POINTS))
        resources:  # per worker, as for one fit
            mem_mb=lambda wildcards, threads, attempt: attempt_mem_mb(
                "nlsq_dataset", dataset_mem_mb(wildcards.dataset, threads), attempt
            ),
        shell:
            "heterodyne nlsq-batch {input.configs:q} --threads {threads} --no-plots > {log} 2>&1 || [ $? -eq 2 ]"
