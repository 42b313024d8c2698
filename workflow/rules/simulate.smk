# Simulated datasets (datasets.simulate): the demo needs no data.


rule simulate:
    output:
        data=f"{SIMULATED}/{{name}}.h5",
        truth=f"{SIMULATED}/{{name}}.h5.truth.json",
    log:
        f"{SIMULATED}/{{name}}.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=SIMULATE_MEM_MB,
    params:
        options=simulate_arguments,
    shell:
        "heterodyne simulate {output.data} --truth-json {output.truth} {params.options} > {log} 2>&1"
