#!/usr/bin/env bash
# Run by Snakemake inside the new conda environment of workflow/envs/heterodyne.yaml:
# installs the heterodyne package (dependencies come from the environment file).
set -euo pipefail
pip install --no-deps "${HETERODYNE_SOURCE:?set HETERODYNE_SOURCE to the heterodyne checkout before snakemake --use-conda}"
