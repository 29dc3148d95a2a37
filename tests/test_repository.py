"""What ships names no path of a developer's machine and no notes outside the repository: rule
content cites public documents."""

import os
import re

from tests.conftest import ROOT

SHIPPED = ("rules", "docs", "safetyrules", "examples", "benchmarks", "README.md", "pyproject.toml", ".ci")
MACHINE_PATH = re.compile(r"(?<![\w.~$])(/(work|root|home|tmp|Users)/\w|[A-Z]:\\\\Users)")
OUTSIDE_NOTES = re.compile(r"shared/reference|reference/criteria|research notes|reference notes|notes file", re.I)


def _shipped_files():
    for top in SHIPPED:
        path = os.path.join(ROOT, top)
        if os.path.isfile(path):
            yield path
        for folder, dirs, files in os.walk(path):
            dirs[:] = [d for d in dirs if d not in ("__pycache__", "results")]
            for name in files:
                if name.endswith((".so", ".pyd", ".pyc", ".parquet")):
                    continue
                yield os.path.join(folder, name)


def test_no_shipped_file_names_a_machine_path_or_notes_outside_the_repository():
    found = []
    for path in _shipped_files():
        with open(path, encoding="utf-8", errors="replace") as fh:
            for number, line in enumerate(fh, 1):
                if MACHINE_PATH.search(line) or OUTSIDE_NOTES.search(line):
                    found.append(f"{os.path.relpath(path, ROOT)}:{number}: {line.strip()[:120]}")
    assert found == []


def test_the_check_finds_what_it_looks_for():
    assert MACHINE_PATH.search("see /work/shared/x.md") and MACHINE_PATH.search("--out /tmp/audit-bench")
    assert OUTSIDE_NOTES.search("from the research notes (coal-mine-2026.md)")
    assert not MACHINE_PATH.search("https://www.mem.gov.cn/gk/zfxxgkpt/202605/t.shtml")
    assert not MACHINE_PATH.search("rules/mining/coal/coal-mine-2026.yaml")
