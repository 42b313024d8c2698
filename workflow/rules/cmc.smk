# CMC of each run: K shard jobs (K from the data shape and optimization.cmc, known when the
# graph is built), each warm-started from the run's NLSQ fit, then one consensus job.
# A consensus with flagged shards, a high R-hat or shards that disagree exits 2: a result, outputs kept.


rule cmc_shard:
    input:
        config=f"{RUN}/run.yaml",
        data=dataset_file,
        nlsq_result=f"{RUN}/nlsq/result.json",
        nlsq_arrays=f"{RUN}/nlsq/nlsq.npz",
    output:
        f"{RUN}/cmc/shards/shard_{{shard}}.npz",
    log:
        f"{RUN}/logs/cmc_shard_{{shard}}.log",
    benchmark:
        f"{RUN}/logs/cmc_shard_{{shard}}.benchmark.tsv"
    conda:
        ENV
    threads: SHARD_THREADS
    resources:
        mem_mb=lambda wildcards, threads, attempt: attempt_mem_mb(
            "cmc_shard", run_of(wildcards).shard_mem_mb(threads), attempt
        ),
    params:
        nlsq_dir=lambda wildcards, input: os.path.dirname(input.nlsq_result),
    shell:
        "heterodyne cmc-shard --config {input.config} --nlsq {params.nlsq_dir} --shard {wildcards.shard}"
        " --output {output} --threads {threads} > {log} 2>&1"


rule cmc_combine:
    input:
        config=f"{RUN}/run.yaml",
        data=dataset_file,
        nlsq_result=f"{RUN}/nlsq/result.json",
        nlsq_arrays=f"{RUN}/nlsq/nlsq.npz",
        shards=shard_files,
    output:
        result=f"{RUN}/cmc/result.json",
        samples=f"{RUN}/cmc/cmc_samples.npz",
        nlsq=f"{RUN}/cmc/nlsq.npz",
    log:
        f"{RUN}/logs/cmc_combine.log",
    benchmark:
        f"{RUN}/logs/cmc_combine.benchmark.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: attempt_mem_mb("cmc_combine", run_of(wildcards).combine_mem_mb(), attempt),
    params:
        nlsq_dir=lambda wildcards, input: os.path.dirname(input.nlsq_result),
        run_dir=lambda wildcards, output: os.path.dirname(output.result),
    shell:
        "heterodyne cmc-combine --config {input.config} --nlsq {params.nlsq_dir} --shards {input.shards}"
        " --run-dir {params.run_dir} --no-plots > {log} 2>&1 || [ $? -eq 2 ]"
