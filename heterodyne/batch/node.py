"""The node-size check: no job of the workflow asks for more CPUs or memory than one node has.

On a cluster a job (or a group of jobs submitted as one) bigger than every node waits in the
queue forever, and the scheduler tells Snakemake nothing. The workflow config declares the node
(``node_cpus``, ``node_mem_mb``; the cluster profiles set them) and every planned job is checked
against it while the job graph is built, before any job starts.

A submission of k jobs (a group with k components, or one ungrouped job: k = 1) asks for the sum
of its jobs' threads and memory; its worst case is the k largest jobs of the rules in it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from heterodyne.errors import HeterodyneError


@dataclass(frozen=True)
class Node:
    """The declared node size; None where the config does not say (that part is not checked)."""

    cpus: int | None
    mem_mb: int | None


@dataclass(frozen=True)
class JobRequest:
    """What one planned job asks for: ``threads`` CPUs and ``mem_mb`` on its first attempt."""

    rule: str
    job: str
    threads: int
    mem_mb: int


@dataclass(frozen=True)
class Submission:
    """How a rule's jobs are submitted: in ``group`` (None: alone), ``jobs`` at a time."""

    group: str | None
    jobs: int


def check_node(requests: Iterable[JobRequest], submissions: Mapping[str, Submission], node: Node) -> None:
    """Raise HeterodyneError (one line) for the first job or group that cannot fit on ``node``."""
    grouped: dict[str, list[JobRequest]] = {}
    for request in requests:
        submission = submissions.get(request.rule, Submission(None, 1))
        if submission.group is not None:
            grouped.setdefault(submission.group, []).append(request)
            continue
        if node.cpus is not None and request.threads > node.cpus:
            raise HeterodyneError(
                f"rule {request.rule} ({request.job}) asks for {request.threads} threads, more than a node has "
                f"(node_cpus = {node.cpus}); lower its threads (set-threads) or set max-threads")
        if node.mem_mb is not None and request.mem_mb > node.mem_mb:
            raise HeterodyneError(
                f"rule {request.rule} ({request.job}) needs {request.mem_mb} MB, more than a node has "
                f"(node_mem_mb = {node.mem_mb}); use bigger nodes, or fewer bins or frames per run")
    for group, members in grouped.items():
        size = min(len(members), max(submissions[m.rule].jobs for m in members))
        threads = sum(sorted(m.threads for m in members)[-size:])
        mem_mb = sum(sorted(m.mem_mb for m in members)[-size:])
        if node.cpus is not None and threads > node.cpus:
            raise HeterodyneError(
                f"group {group}: {size} jobs ask for {threads} threads, more than a node has "
                f"(node_cpus = {node.cpus}); lower its group-components")
        if node.mem_mb is not None and mem_mb > node.mem_mb:
            raise HeterodyneError(
                f"group {group}: {size} jobs need up to {mem_mb} MB, more than a node has "
                f"(node_mem_mb = {node.mem_mb}); lower its group-components")


def retry_mem_mb(estimate_mb: int, attempt: int, node: Node, jobs_per_submission: int = 1) -> int:
    """Memory of attempt k: k × the estimate, at most the job's share of a node (node_mem_mb / jobs).

    A retry with more memory can only help a job that ran out of it, and one that asks for more
    than a node would never start; the first attempt always gets the estimate itself.
    """
    wanted = estimate_mb * attempt
    if node.mem_mb is None:
        return wanted
    return max(estimate_mb, min(wanted, node.mem_mb // jobs_per_submission))
