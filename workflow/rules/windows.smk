# Windows along the sample age (config `windows`): each dataset's window runs are ordinary runs
# (run_config, nlsq, cmc) named window=<start>-<end> beside its global run `base`; a window's
# run.yaml waits for the global run's NLSQ result when it inherits values from it, and each window
# is one nlsq job whatever nlsq_jobs says. Then one `heterodyne windows` job per dataset writes
# windows.csv, changepoints.csv and (with plots) windows.png.


rule windows:
    input:
        windows=lambda wildcards: window_files(wildcards, f"{WINDOW_METHOD}/result.json"),
        globals=lambda wildcards: [
            f"{RESULTS}/{wildcards.dataset}/{point}/seed{seed}/{WINDOW_METHOD}/result.json"
            for point, seed in RUN_POINTS
        ],
    output:
        **{
            name: report(path, caption="../report/windows.rst", category="{dataset}", subcategory="windows")
            for name, path in window_outputs("{dataset}").items()
        },
    log:
        f"{RESULTS}/{{dataset}}/logs/windows.log",
    localrule: True
    conda:
        ENV
    threads: 1
    params:
        options=window_arguments,
    shell:
        "heterodyne windows {params.options} > {log} 2>&1"
