# Model comparison (config `model_comparison`, off by default): one `heterodyne compare` job per
# global run, after its NLSQ fit, tests the model's named reductions against the fit and fits
# each reduction into <run>/nlsq/model_comparison.csv; then one local job gathers every run's
# table into RESULTS/model_comparison.csv, the run columns of summary.csv first.


rule compare:
    input:
        result=f"{RUN}/nlsq/result.json",
        arrays=f"{RUN}/nlsq/nlsq.npz",
        data=dataset_file,
    output:
        f"{RUN}/nlsq/model_comparison.csv",
    log:
        f"{RUN}/logs/compare.log",
    benchmark:
        f"{RUN}/logs/compare.benchmark.tsv"
    conda:
        ENV
    threads: 1
    resources:  # one fit at a time, as in the NLSQ job
        mem_mb=lambda wildcards, attempt: attempt_mem_mb("compare", run_of(wildcards).nlsq_mem_mb(), attempt),
    params:
        run_dir=lambda wildcards, input: os.path.dirname(input.result),
        options=comparison_arguments,
    shell:
        "heterodyne compare {params.run_dir:q} {params.options} --threads {threads} > {log} 2>&1"


rule model_comparison:
    input:
        comparison_tables,
    output:
        report(
            f"{RESULTS}/model_comparison.csv",
            caption="../report/model_comparison.rst",
            category="All runs",
            subcategory="tables",
        ),
    log:
        f"{RESULTS}/model_comparison.log",
    localrule: True
    conda:
        ENV
    threads: 1
    params:
        options=collect_arguments,
    shell:
        "heterodyne compare {params.options} --collect {output:q} > {log} 2>&1"
