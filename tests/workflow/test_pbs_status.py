"""profiles/pbs/pbs-status.sh against recorded qstat answers (tests/fixtures/qstat/*.txt).

A fake ``qstat`` replays a transcript: for each call it prints what the transcript recorded for
those arguments and exits with the recorded code; it logs every call, so the test also checks
that the job history (qstat -x) is read only once the server no longer lists the job.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "profiles" / "pbs" / "pbs-status.sh"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "qstat"
CALL = re.compile(r"^\$ qstat (?P<args>.*)$")

FAKE_QSTAT = f"""#!{sys.executable}
import os, re, sys
arguments = " ".join(sys.argv[1:])
with open(os.environ["QSTAT_CALLS"], "a") as log:
    print(arguments, file=log)
calls = re.split(r"^\\$ qstat ", open(os.environ["QSTAT_TRANSCRIPT"]).read(), flags=re.MULTILINE)[1:]
for call in calls:
    recorded, answer = call.split("\\n", 1)
    if recorded == arguments:
        text, code = re.fullmatch(r"(.*)\\[exit (-?\\d+)\\]\\n?", answer, flags=re.DOTALL).groups()
        sys.stdout.write(text)
        sys.exit(int(code))
sys.exit("fake qstat: no recorded answer for " + arguments)
"""


def transcript(path: Path) -> tuple[str, str, list[str]]:
    """(expected answer, job id, the qstat calls recorded) of a fixture."""
    lines = path.read_text().splitlines()
    expected = re.fullmatch(r"# expect: (\w+)", lines[0]).group(1)
    calls = [match.group("args") for line in lines if (match := CALL.match(line))]
    return expected, calls[0].split()[-1], calls


@pytest.fixture
def fake_qstat(tmp_path) -> Path:
    """A directory holding the fake qstat, to put first on PATH."""
    directory = tmp_path / "bin"
    directory.mkdir()
    program = directory / "qstat"
    program.write_text(FAKE_QSTAT)
    program.chmod(0o755)
    return directory


CASES = sorted(path.stem for path in FIXTURES.glob("*.txt"))


def test_fixtures_cover_every_required_case():
    assert {"completed", "failed", "cancelled", "unknown", "transient"} <= set(CASES)
    assert {transcript(FIXTURES / f"{name}.txt")[0] for name in CASES} == {"running", "success", "failed"}


@pytest.mark.parametrize("case", CASES)
def test_status_script_answers_the_recorded_qstat_outputs(case, fake_qstat, tmp_path):
    expected, job, calls = transcript(FIXTURES / f"{case}.txt")
    log = tmp_path / "calls.log"
    environment = dict(os.environ, PATH=f"{fake_qstat}{os.pathsep}{os.environ['PATH']}",
                       QSTAT_TRANSCRIPT=str(FIXTURES / f"{case}.txt"), QSTAT_CALLS=str(log))
    completed = subprocess.run([str(SCRIPT), job], capture_output=True, text=True, env=environment, timeout=60)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == f"{expected}\n"
    assert log.read_text().splitlines() == calls  # the history only when the server no longer lists the job
