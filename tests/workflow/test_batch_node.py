"""The node-size check and the memory of retries (heterodyne.batch.node), on hand-made requests."""

from __future__ import annotations

import pytest

from heterodyne.batch.node import JobRequest, Node, Submission, check_node, retry_mem_mb
from heterodyne.errors import HeterodyneError

NODE = Node(cpus=8, mem_mb=10_000)


def fits(requests, submissions=None, node=NODE) -> bool:
    try:
        check_node(requests, submissions or {}, node)
    except HeterodyneError:
        return False
    return True


def test_a_job_fits_up_to_the_node_and_not_one_cpu_or_megabyte_more():
    assert fits([JobRequest("cmc_shard", "run r", 8, 10_000)])
    assert not fits([JobRequest("cmc_shard", "run r", 9, 100)])
    assert not fits([JobRequest("cmc_shard", "run r", 1, 10_001)])


def test_an_undeclared_node_size_is_not_checked():
    assert fits([JobRequest("cmc_shard", "run r", 64, 10**7)], node=Node(None, None))
    assert not fits([JobRequest("cmc_shard", "run r", 64, 1)], node=Node(8, None))


def test_a_group_needs_its_largest_jobs_together():
    jobs = [JobRequest("nlsq", f"run {k}", 1, mem) for k, mem in enumerate([1000, 2000, 3000, 4000, 500])]
    assert fits(jobs, {"nlsq": Submission("batch", 3)}, Node(3, 9000))  # 4000 + 3000 + 2000
    assert not fits(jobs, {"nlsq": Submission("batch", 3)}, Node(3, 8999))
    assert not fits(jobs, {"nlsq": Submission("batch", 4)}, Node(3, 10**6))  # 4 threads
    assert fits(jobs, {"nlsq": Submission("batch", 9)}, Node(5, 10_500))  # a group never holds more jobs than there are


def test_the_message_is_one_line_naming_the_job_and_the_node():
    with pytest.raises(HeterodyneError) as caught:
        check_node([JobRequest("nlsq", "run a/base/seed0", 1, 12_345)], {}, NODE)
    assert str(caught.value) == ("rule nlsq (run a/base/seed0) needs 12345 MB, more than a node has "
                                 "(node_mem_mb = 10000); use bigger nodes, or fewer bins or frames per run")
    with pytest.raises(HeterodyneError, match=r"^group g: 2 jobs ask for 10 threads, .*node_cpus = 8\); "
                                              r"lower its group-components$"):
        check_node([JobRequest("nlsq", "a", 5, 1), JobRequest("nlsq", "b", 5, 1)], {"nlsq": Submission("g", 2)}, NODE)


@pytest.mark.parametrize("attempt, jobs, expected", [
    (1, 1, 3000), (2, 1, 6000), (3, 1, 9000), (4, 1, 10_000),  # at most a node
    (1, 4, 3000), (2, 4, 3000), (2, 2, 5000),                # at most the job's share of its group's node
])
def test_retries_get_more_memory_within_the_node(attempt, jobs, expected):
    assert retry_mem_mb(3000, attempt, NODE, jobs) == expected


def test_retries_without_a_declared_node_grow_by_the_attempt():
    assert retry_mem_mb(3000, 3, Node(None, None)) == 9000
