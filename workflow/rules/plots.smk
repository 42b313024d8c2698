# Figures (config `plots`, on by default). Per run and method, `heterodyne plot` redraws the
# run's figures from its saved outputs into <run>/<method>/plots/: the fits themselves run with
# --no-plots, so turning plots on or off never refits. After the summary, `heterodyne trends`
# draws the parameters across runs into RESULTS/trends/. All are marked for `snakemake --report`.


rule plot:
    input:
        result=f"{RUN}/{{method}}/result.json",
        data=dataset_file,
    output:
        report(
            directory(f"{RUN}/{{method}}/plots"),
            patterns=["{figure}.png"],
            caption="../report/run_figures.rst",
            category="{dataset}",
            subcategory="{point}",
            labels={"seed": "{seed}", "method": "{method}", "figure": "{figure}"},
        ),
    log:
        f"{RUN}/logs/plot_{{method}}.log",
    benchmark:
        f"{RUN}/logs/plot_{{method}}.benchmark.tsv"
    params:
        run_dir=lambda wildcards, input: os.path.dirname(input.result),
    threads: 1
    resources:  # the data and the model on them, as in the fit
        mem_mb=lambda wildcards, attempt: run_of(wildcards).nlsq_mem_mb() * attempt,
    conda:
        ENV
    shell:
        "heterodyne plot {params.run_dir} > {log} 2>&1"


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
    params:
        directory=lambda wildcards, output: os.path.dirname(output[0]),
    localrule: True
    threads: 1
    conda:
        ENV
    shell:
        "heterodyne trends {input.summary} --output-dir {params.directory} > {log} 2>&1"
