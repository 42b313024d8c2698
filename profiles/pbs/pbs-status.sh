#!/usr/bin/env bash
# Status of a PBS Pro job for snakemake's generic cluster executor: prints running, success or
# failed. Finished jobs are read with `qstat -x` (the server's job history); a job that qstat
# no longer knows counts as failed, so that snakemake retries it instead of waiting forever.
set -uo pipefail
info="$(qstat -x -f "$1" 2>/dev/null)" || { echo failed; exit 0; }
state="$(awk -F' = ' '/^ *job_state = / {print $2}' <<<"$info")"
if [ "$state" != "F" ]; then
  echo running
  exit 0
fi
code="$(awk -F' = ' '/^ *Exit_status = / {print $2}' <<<"$info")"
if [ "$code" = "0" ]; then echo success; else echo failed; fi
