#!/usr/bin/env bash
# Status of a PBS Pro job for snakemake's generic cluster executor: prints running, success or
# failed, and always exits 0 (a non-zero exit would stop snakemake).
#
#   1. qstat -f JOB: a job the server lists (queued, running, held, exiting) is running.
#   2. Only when qstat says the job id is unknown, or that the job has finished, is the server's
#      job history read (qstat -x -f JOB): state F with Exit_status = 0 is success, any other
#      Exit_status (a failed command, a qdel, a wall-time or memory kill) or none is failed.
#   3. Any other qstat error (server down or busy, no answer within 60 s) is transient: running,
#      and snakemake asks again at its next check. A running job is never reported failed for it.
# A job that even the history does not know (history off or expired: PBS Pro keeps finished jobs
# job_history_duration, two weeks by default, when job_history_enable is set) counts as failed, so
# that snakemake reruns it instead of waiting forever.
set -uo pipefail
job="$1"

field() { # the value of "name = value" in qstat -f output
  awk -F' = ' -v name="$1" '$1 ~ "^ *" name "$" {print $2; exit}' <<<"$2"
}

gone() { # qstat's answer for a job it no longer lists
  grep -qiE 'Unknown Job Id|Job has finished' <<<"$1"
}

live="$(timeout 60 qstat -f "$job" 2>&1)"
code=$?
if [ $code -ne 0 ] && ! gone "$live"; then
  echo running  # a transient error: ask again at the next check
  exit 0
fi
if [ $code -eq 0 ] && [ "$(field job_state "$live")" != F ]; then
  echo running
  exit 0
fi

history="$(timeout 60 qstat -x -f "$job" 2>&1)"
code=$?
if [ $code -ne 0 ]; then
  if gone "$history"; then echo failed; else echo running; fi
elif [ "$(field job_state "$history")" != F ]; then
  echo running
elif [ "$(field Exit_status "$history")" = 0 ]; then
  echo success
else
  echo failed
fi
