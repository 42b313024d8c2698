# Figures (config `plots`, on by default). One `plot` job per dataset redraws the figures of all
# its runs and methods from their saved outputs into <run>/<method>/plots/, up to {threads} runs
# at once in one process each (the interpreter and imports are paid once per job, not per run).
# The fits themselves run with --no-plots, so turning plots on or off never refits. After the
# summary, `heterodyne trends` draws the parameters across runs into RESULTS/trends/. All are
# marked for `snakemake --report`.


rule plot:
    input:
        results=plot_results,
        data=dataset_file,
    output:
        [
            report(
                directory(f"{RESULTS}/{{dataset}}/{point}/seed{seed}/{method}/plots"),
                patterns=["{figure}.png"],
                caption="../report/run_figures.rst",
                category="{dataset}",
                subcategory=point,
                labels={"seed": str(seed), "method": method, "figure": "{figure}"},
            )
            for point, seed, method in PLOT_RUNS
        ],
    log:
        f"{RESULTS}/{{dataset}}/logs/plot.log",
    benchmark:
        f"{RESULTS}/{{dataset}}/logs/plot.benchmark.tsv"
    conda:
        ENV
    threads: min(4, len(PLOT_RUNS))
    resources:  # per worker: the data and the model on them, as in a fit
        mem_mb=lambda wildcards, threads, attempt: attempt_mem_mb(
            "plot", dataset_mem_mb(wildcards.dataset, threads), attempt
        ),
    params:
        run_dirs=lambda wildcards, input: " ".join(shlex.quote(os.path.dirname(path)) for path in input.results),
    shell:
        "heterodyne plot {params.run_dirs} --threads {threads} > {log} 2>&1"


rule trends:
    input:
        summary=f"{RESULTS}/summary.csv",
    output:
        **{
            name: report(
                path,
                caption="../report/agreement.rst" if name == "nlsq_vs_cmc" else "../report/trends.rst",
                category="All runs",
                subcategory="figures",
            )
            for name, path in trend_files().items()
        },
    log:
        f"{RESULTS}/trends.log",
    localrule: True
    conda:
        ENV
    threads: 1
    params:
        directory=lambda wildcards, output: os.path.dirname(output[0]),
    shell:
        "heterodyne trends {input.summary} --output-dir {params.directory} > {log} 2>&1"
