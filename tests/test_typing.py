"""The public API is typed where a caller can get it wrong: a misspelt status, outcome or citation key
fails type checking (mypy) instead of silently never matching."""

import os
import subprocess
import sys

APP = """\
from safetyrules import CitationJson, Outcome, Status, load_rules

rules = load_rules("demo")
report = rules.evaluate({})
ok_status: Status = report.status
if report.status == "major_hazard_found":
    pass
if report.status == "major_hazard_fond":  # line 8: misspelt status
    pass
outcome: Outcome = report.outcome_of("r")
if outcome == "matchd":  # line 11: misspelt outcome
    pass
citation: CitationJson = report.determinations[0].citation
print(citation["rendered"])
print(citation["renderd"])  # line 15: misspelt key
"""


def test_misspelt_status_outcome_and_citation_key_fail_type_checking(tmp_path):
    app = tmp_path / "app.py"
    app.write_text(APP, encoding="utf-8")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict-equality",
            "--follow-imports=silent",
            "--no-incremental",
            "--cache-dir",
            os.devnull,
            str(app),
        ],
        capture_output=True,
        text=True,
        cwd=root,
        timeout=600,
    )
    errors = sorted(int(line.split(":")[1]) for line in run.stdout.splitlines() if ": error:" in line)
    assert errors == [8, 11, 15], run.stdout
