# heterodyne batch workflow: datasets x sweep points x seeds -> run configs -> NLSQ,
# CMC shards and consensus -> summary.csv, and figures per run and across runs (config `plots`);
# with config `windows`, runs over windows along each dataset's age -> windows.csv, changepoints.csv;
# with config `model_comparison`, the model's named reductions against each run's fit -> model_comparison.csv.
# Every rule is a thin call of the `heterodyne` CLI.
#
#   snakemake --cores all                                  # the demo (config/config.yaml)
#   snakemake --cores all --configfile config/examples/sweep.yaml
#   snakemake --cores all --configfile config/examples/windows.yaml
#   snakemake --workflow-profile profiles/slurm --configfile my.yaml
#   snakemake --report report.html                        # afterwards: tables and figures in one file
#
# A --configfile replaces the demo config (config/config.yaml) instead of being merged into it.

import os

from snakemake.utils import min_version

min_version("9.0")


report: "workflow/report/workflow.rst"


if not workflow.overwrite_configfiles:

    configfile: os.path.join(workflow.basedir, "config", "config.yaml")


include: "workflow/rules/common.smk"
include: "workflow/rules/simulate.smk"
include: "workflow/rules/run_config.smk"
include: "workflow/rules/nlsq.smk"
include: "workflow/rules/cmc.smk"
include: "workflow/rules/summary.smk"
include: "workflow/rules/plots.smk"
include: "workflow/rules/preview.smk"
include: "workflow/rules/windows.smk"
include: "workflow/rules/comparison.smk"


check_node_size()  # the jobs one by one (groups are known only once the job graph is built, see all_targets)


rule all:
    default_target: True
    input:
        all_targets,
