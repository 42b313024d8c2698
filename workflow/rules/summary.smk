# One table over all runs: summary.csv (one row per run and method), comparison.csv (NLSQ
# against CMC) and, with several seeds, stability.csv.


rule summary:
    input:
        summary_inputs,
    output:
        **{
            name: report(path, caption=f"../report/{name}.rst", category="All runs", subcategory="tables")
            for name, path in summary_outputs().items()
        },
    log:
        f"{RESULTS}/summary.log",
    localrule: True
    conda:
        ENV
    threads: 1
    params:
        options=summary_arguments,
    shell:
        "heterodyne summarize {input} {params.options} --summary {output.summary}"
        " --comparison {output.comparison} > {log} 2>&1"
