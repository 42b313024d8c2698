# Data previews (config `preview`, off by default): one `heterodyne preview` job per dataset draws
# its c2 maps, cuts, spectra and per-bin summary into RESULTS/<dataset>/preview/, from the data
# alone, so they can be looked at before (or without) any fit.


rule preview:
    input:
        data=dataset_file,
    output:
        directory(f"{RESULTS}/{{dataset}}/preview"),
    log:
        f"{RESULTS}/{{dataset}}/logs/preview.log",
    conda:
        ENV
    threads: 1
    resources:  # the data, as a fit holds them
        mem_mb=lambda wildcards, attempt: attempt_mem_mb("preview", dataset_mem_mb(wildcards.dataset, 1), attempt),
    shell:
        "heterodyne preview {input.data} --output-dir {output} > {log} 2>&1"
