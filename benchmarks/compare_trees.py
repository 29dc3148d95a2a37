"""Two checkouts of safetyrules compared in one run: records/s (CPU time, one core) per figure.

    git worktree add --detach ../before <commit>   # and build its C evaluator in place:
    (cd ../before && python -c "import tempfile; from hatch_build import build_extension; build_extension('.', True, tempfile.mkdtemp())")
    python benchmarks/compare_trees.py ../before . --rounds 2

Each tree is measured in its own process (its own package on sys.path), alternating, so that a change
of the machine's load falls on both. CPU time (``time.process_time``) rather than wall time, the best
of three passes per figure: on a shared machine the ratios are what can be read.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

_CHILD = r"""
import glob, json, os, sys, tempfile, time
tree = sys.argv[1]
sys.path[:0] = [tree, os.path.join(tree, "benchmarks")]
os.environ["SAFETYRULES_NO_CACHE"] = "1"
from synthetic import records, write_pack
import safetyrules
from safetyrules import load_rules
assert os.path.realpath(safetyrules.__file__).startswith(os.path.realpath(tree)), safetyrules.__file__


def run(rules, recs, mode, repeat=3):
    best = float("inf")
    evaluate = rules.evaluate
    for _ in range(repeat):
        start = time.process_time()
        for r in recs:
            report = evaluate(r)
            if mode == "status":
                report.status
            elif mode == "read":
                for d in report.determinations:
                    d.rule_id, d.citation["rendered"]
                for u in report.undetermined:
                    u.rule_id
            elif mode == "json":
                report.to_json()
        best = min(best, time.process_time() - start)
    return round(len(recs) / best)


out = {}
for n in (150, 20):
    with tempfile.TemporaryDirectory() as tmp:
        rules = load_rules(write_pack(tmp, n_rules=n))
    recs = records(5000)
    for mode in ("evaluate", "status", "read", "json"):
        out[f"synthetic {n} rules: {mode}"] = run(rules, recs if mode in ("evaluate", "status") else recs[:2000], mode)
rules = load_rules("mining")
examples = []
for path in sorted(glob.glob(os.path.join(tree, "examples", "*.json"))):
    with open(path, encoding="utf-8") as fh:
        record = json.load(fh)
    if record.get("site", {}).get("industry") in rules.ir.vocabularies:
        examples.append(record)
recs = [dict(e, record_id=f"{e['record_id']}-{i}") for i in range(300) for e in examples]
for mode in ("evaluate", "status", "read", "json"):
    out[f"mining examples: {mode}"] = run(rules, recs if mode in ("evaluate", "status") else recs[:300], mode)
print(json.dumps(out))
"""


def measure(tree: str) -> dict:
    done = subprocess.run([sys.executable, "-c", _CHILD, os.path.abspath(tree)], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    rows: dict = {}
    for _ in range(args.rounds):
        for side in ("before", "after"):
            for name, value in measure(getattr(args, side)).items():
                rows.setdefault(name, {"before": [], "after": []})[side].append(value)
    print(f"| figure (records/s, CPU time) | {args.before} | {args.after} |\n|---|---:|---:|")
    for name, sides in rows.items():
        print(f"| {name} | {' / '.join(f'{v:,}' for v in sides['before'])} | {' / '.join(f'{v:,}' for v in sides['after'])} |")


if __name__ == "__main__":
    main()
