"""The type-checking ratchet: mypy --strict on safetyrules/ (``strict = true`` in pyproject.toml's
[tool.mypy]) may report no more errors than tools/mypy-ratchet.txt says, so that the count only goes
down (issue 15 aims at zero). The stubs it needs (types-PyYAML, types-jsonschema) are in the test extra.

    python tools/typecheck.py            # check (CI runs this)
    python tools/typecheck.py --update   # after fixing errors: lower the number on file
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RATCHET = os.path.join(ROOT, "tools", "mypy-ratchet.txt")


def mypy_errors() -> int:
    run = subprocess.run([sys.executable, "-m", "mypy", "safetyrules"], cwd=ROOT, capture_output=True, text=True)
    missing = sorted(set(re.findall(r'Library stubs not installed for "([^"]+)"', run.stdout)))
    if missing:
        # the count would include these, and differ from CI's (which installs the test extra)
        sys.exit(
            f"typecheck: no type stubs for {', '.join(missing)}: install the test extra (pip install -e '.[test]'), "
            "which pins them"
        )
    last = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else ""
    if last.startswith("Success"):
        return 0
    found = re.match(r"Found (\d+) errors?", last)
    if not found:
        sys.exit(f"typecheck: mypy did not finish: {run.stdout[-2000:]}{run.stderr[-2000:]}")
    return int(found.group(1))


def main() -> int:
    count = mypy_errors()
    with open(RATCHET, encoding="utf-8") as fh:
        allowed = int(fh.read().split()[0])
    if "--update" in sys.argv[1:]:
        with open(RATCHET, "w", encoding="utf-8") as fh:
            fh.write(f"{count}\n")
        print(f"typecheck: ratchet set to {count} (was {allowed})")
        return 0
    if count > allowed:
        print(
            f"typecheck: mypy reports {count} errors, more than the {allowed} allowed: fix the new ones "
            "(python -m mypy safetyrules)",
            file=sys.stderr,
        )
        return 1
    note = "; lower the ratchet: python tools/typecheck.py --update" if count < allowed else ""
    print(f"typecheck: {count} mypy errors (allowed {allowed}){note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
