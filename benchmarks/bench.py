"""Benchmark: records/second, compile time and peak memory, on one core.

    python benchmarks/bench.py                 # synthetic 150-rule and 20-rule packs + shipped packs
    python benchmarks/bench.py --records 20000 --backend native

Measures `RuleSet.evaluate(record_dict)` end to end: record validation, version selection, the
backend's decisions, and the report (evidence for matched rules, missing facts for undetermined).
Records are seeded, so runs are comparable. Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.synthetic import records, write_pack  # noqa: E402
from safetyrules import load_rules  # noqa: E402


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def time_evaluate(rules, recs, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        for r in recs:
            rules.evaluate(r)
        best = min(best, time.perf_counter() - start)
    return len(recs) / best


def bench_synthetic(n_rules: int, n_records: int, backend: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = write_pack(tmp, n_rules=n_rules)
        start = time.perf_counter()
        rules = load_rules(path, backend=backend)
        compile_ms = (time.perf_counter() - start) * 1000
    out = {"pack": f"synthetic-{n_rules} rules/60 facts", "compile_ms": round(compile_ms, 1)}
    for missing in (0.0, 0.05):
        recs = records(n_records, missing=missing)
        sample = [rules.evaluate(r) for r in recs[:200]]
        matched = sum(len(r.determinations) for r in sample) / len(sample)
        out[f"records_per_s_missing_{int(missing * 100)}pct"] = round(time_evaluate(rules, recs))
        out[f"matched_per_record_missing_{int(missing * 100)}pct"] = round(matched, 1)
    return out


def bench_shipped(pack: str, n_records: int, backend: str) -> dict:
    import json

    start = time.perf_counter()
    rules = load_rules(pack, backend=backend)
    compile_ms = (time.perf_counter() - start) * 1000
    root = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")
    recs = []
    industries = set(rules.ir.vocabularies)
    for name in sorted(os.listdir(root)):
        with open(os.path.join(root, name), encoding="utf-8") as fh:
            rec = json.load(fh)
        if rec["site"]["industry"] in industries:
            recs.append(rec)
    if not recs:
        return {"pack": pack, "compile_ms": round(compile_ms, 1), "note": "no example records"}
    batch = (recs * (n_records // len(recs) + 1))[:n_records]
    return {
        "pack": pack,
        "rules": len(rules.ir.rules),
        "compile_ms": round(compile_ms, 1),
        "records_per_s": round(time_evaluate(rules, batch, repeat=2)),
        "example_records": len(recs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=20000)
    parser.add_argument("--backend", default="native")
    parser.add_argument("--packs", nargs="*", default=["demo", "hazchem", "construction", "mining"])
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, backend {args.backend}, {args.records} records per measurement, 1 process")
    for n in (150, 20):
        print(bench_synthetic(n, args.records, args.backend))
    for pack in args.packs:
        try:
            print(bench_shipped(pack, max(2000, args.records // 10), args.backend))
        except Exception as exc:  # a pack that does not load is reported, not fatal
            print({"pack": pack, "error": str(exc)[:200]})
    print({"peak_rss_mb": round(peak_rss_mb(), 1)})


if __name__ == "__main__":
    main()
