"""Benchmark: records/second, compile time and peak memory, on one core.

    python benchmarks/bench.py                 # synthetic 150-rule and 20-rule packs + shipped packs
    python benchmarks/bench.py --records 20000 --backend native
    python benchmarks/bench.py --realistic     # ... and realistic records for every shipped pack
    python benchmarks/bench.py --realistic --only-realistic --baseline

Measures `RuleSet.evaluate(record_dict)` end to end -- record validation, version selection, the
backend's three-valued decisions with exact ties, and the report object -- and then what a caller
does with the report, each as its own figure:

    evaluate   the report's verdict is decided (its lists and evidence are built on first read)
    status     ... and report.status is read
    read       ... and the determinations (rule ids, citations) and undetermined rules are read
    evidence   ... and also each determination's evidence and facts, each undetermined rule's needs
    json       ... and report.to_json(): every determination with its evidence, every missing fact

For the native backend both paths are measured: the compiled evaluator ("native") and generated
Python only ("native-python", what runs where no C compiler was available). Records are seeded, so
runs are comparable. Run it on an otherwise idle machine.

``--realistic`` adds, for every shipped pack, records generated from the pack's own vocabularies
(``benchmarks/realistic.py``: plausible values near the rules' thresholds, lists of 0-6 items, 10 % of
facts missing) beside the synthetic figures. ``--baseline`` adds the plain generated function of
``benchmarks/baseline.py`` on the same records, and the ratio of the full path's speed to it.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Callable, Tuple

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.synthetic import records, write_pack  # noqa: E402
from safetyrules import load_rules  # noqa: E402


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _evaluate(rules, recs):
    evaluate = rules.evaluate
    for r in recs:
        evaluate(r)


def _status(rules, recs):
    evaluate = rules.evaluate
    for r in recs:
        evaluate(r).status  # noqa: B018 - reading the property is what is measured


def _read(rules, recs):
    evaluate = rules.evaluate
    for r in recs:
        report = evaluate(r)
        for d in report.determinations:
            d.rule_id, d.citation["rendered"]  # noqa: B018 - reading them is what is measured
        for u in report.undetermined:
            u.rule_id  # noqa: B018


def _evidence(rules, recs):
    evaluate = rules.evaluate
    for r in recs:
        report = evaluate(r)
        for d in report.determinations:
            d.rule_id, d.citation["rendered"], d.evidence, d.facts  # noqa: B018
        for u in report.undetermined:
            u.rule_id, u.needs  # noqa: B018


def _json(rules, recs):
    evaluate = rules.evaluate
    for r in recs:
        evaluate(r).to_json()


MODES = {"evaluate": _evaluate, "status": _status, "read": _read, "evidence": _evidence, "json": _json}
#: how time is counted (--clock): the wall clock, or this process's CPU time
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


@dataclass(frozen=True)
class Settings:
    """What to measure and how (from the command line)."""

    modes: Tuple[str, ...] = tuple(MODES)
    python_path: bool = True  # the native backend's generated-Python path too
    clock: Callable[[], float] = time.perf_counter


def time_evaluate(rules, recs, repeat: int = 3, mode: str = "evaluate", clock: Callable[[], float] = time.perf_counter) -> float:
    best = float("inf")
    run = MODES[mode]
    for _ in range(repeat):
        gc.collect()
        start = clock()
        run(rules, recs)
        best = min(best, clock() - start)
    return len(recs) / best


def first_evaluation_ms(rules, record) -> float:
    """The first record of a (pack, date) also lowers the modules in force for the compiled evaluator."""
    start = time.perf_counter()
    rules.evaluate(record)
    return (time.perf_counter() - start) * 1000


def paths(rules, backend: str, settings: Settings):
    """(label, rule set) for each evaluation path of the backend."""
    if backend == "native" and settings.python_path:
        return [("native", rules), ("native-python", rules.with_backend("native", compiled=False))]
    return [(backend, rules)]


def bench_synthetic(n_rules: int, n_records: int, backend: str, settings: Settings = Settings()) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = write_pack(tmp, n_rules=n_rules)
        start = time.perf_counter()
        rules = load_rules(path, backend=backend)
        compile_ms = (time.perf_counter() - start) * 1000
    out = {"pack": f"synthetic-{n_rules} rules/60 facts", "compile_ms": round(compile_ms, 1)}
    out["first_record_ms"] = round(first_evaluation_ms(rules, records(1)[0]), 1)
    for missing in (0.0, 0.05):
        recs = records(n_records, missing=missing)
        tag = f"missing_{int(missing * 100)}pct"
        sample = [rules.evaluate(r) for r in recs[:200]]
        out[f"matched_per_record_{tag}"] = round(sum(len(r.determinations) for r in sample) / len(sample), 1)
        for label, path in paths(rules, backend, settings):
            for mode in settings.modes:
                out[f"{label}_{mode}_{tag}"] = round(time_evaluate(path, recs, mode=mode, clock=settings.clock))
    return out


def bench_shipped(pack: str, n_records: int, backend: str, settings: Settings = Settings()) -> dict:
    import json

    start = time.perf_counter()
    rules = load_rules(pack, backend=backend)
    compile_ms = (time.perf_counter() - start) * 1000
    root = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")
    recs = []
    industries = set(rules.ir.vocabularies)
    for name in sorted(os.listdir(root)):
        if not name.endswith(".json"):
            continue  # one record a file; the JSON Lines example is an audit's input
        with open(os.path.join(root, name), encoding="utf-8") as fh:
            rec = json.load(fh)
        if rec["site"]["industry"] in industries:
            recs.append(rec)
    if not recs:
        return {"pack": pack, "compile_ms": round(compile_ms, 1), "note": "no example records"}
    # copies, so that each evaluation reads its own objects as it would in a real batch
    batch = [json.loads(json.dumps(r)) for r in (recs * (n_records // len(recs) + 1))[:n_records]]
    out = {"pack": pack, "rules": len(rules.ir.rules), "compile_ms": round(compile_ms, 1), "example_records": len(recs)}
    out["first_record_ms"] = round(first_evaluation_ms(rules, recs[0]), 1)
    for label, path in paths(rules, backend, settings):
        for mode in settings.modes:
            out[f"{label}_{mode}"] = round(time_evaluate(path, batch, repeat=2, mode=mode, clock=settings.clock))
    return out


def bench_realistic(
    pack: str, n_records: int, backend: str, missing: float = 0.10, baseline: bool = False, settings: Settings = Settings()
) -> dict:
    from benchmarks.realistic import records_for, self_check

    start = time.perf_counter()
    rules = load_rules(pack, backend=backend)
    load_ms = (time.perf_counter() - start) * 1000
    recs = records_for(rules, n_records, seed=1, missing=missing)
    counts = self_check(rules, recs[:500])
    sample = [rules.evaluate(r) for r in recs[:500]]
    out = {
        "pack": f"{pack} (realistic)",
        "rules": len(rules.ir.rules),
        "load_ms": round(load_ms, 1),
        "missing_pct": round(missing * 100),
        "matched_per_record": round(sum(len(r.determinations) for r in sample) / len(sample), 1),
        "undetermined_per_record": round(sum(len(r.undetermined) for r in sample) / len(sample), 1),
        "statuses": counts,
    }
    # reading the lists explains every determination and undetermined rule (the reference interpreter):
    # two orders of magnitude slower on these records, so measured on the first few hundred
    few = recs[:300]
    for label, path in paths(rules, backend, settings):
        for mode in settings.modes:
            fast_mode = label == "native" and mode in ("evaluate", "status")
            out[f"{label}_{mode}"] = round(
                time_evaluate(path, recs if fast_mode else few, repeat=2, mode=mode, clock=settings.clock)
            )
    if baseline:
        from benchmarks.baseline import compare

        out.update(compare(rules, recs))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=20000)
    parser.add_argument("--backend", default="native")
    parser.add_argument("--packs", nargs="*", default=["demo", "hazchem", "construction", "mining"])
    parser.add_argument("--modes", nargs="*", default=list(MODES), choices=list(MODES))
    parser.add_argument("--no-synthetic", dest="synthetic", action="store_false")
    parser.add_argument("--no-python", dest="python_path", action="store_false", help="the native backend's compiled path only")
    parser.add_argument("--clock", choices=list(CLOCKS), default="wall")
    parser.add_argument("--realistic", action="store_true", help="also realistic records of every shipped pack")
    parser.add_argument("--only-realistic", action="store_true", help="realistic records only (no synthetic, no examples)")
    parser.add_argument("--realistic-records", type=int, default=5000, help="records per shipped pack (realistic)")
    parser.add_argument("--baseline", action="store_true", help="also the plain generated function (benchmarks/baseline.py)")
    args = parser.parse_args()
    settings = Settings(tuple(args.modes), args.python_path, CLOCKS[args.clock])
    print(
        f"python {sys.version.split()[0]}, backend {args.backend}, {args.records} records per measurement, 1 process, {args.clock} clock"
    )
    for n in (150, 20) if args.synthetic and not args.only_realistic else ():
        print(bench_synthetic(n, args.records, args.backend, settings))
        if args.baseline:
            from benchmarks.baseline import bench_synthetic_baseline

            print(bench_synthetic_baseline(n, args.records))
    for pack in () if args.only_realistic else args.packs:
        try:
            print(bench_shipped(pack, max(2000, args.records // 10), args.backend, settings))
        except Exception as exc:  # a pack that does not load is reported, not fatal
            print({"pack": pack, "error": str(exc)[:200]})
    if args.realistic or args.only_realistic:
        from safetyrules.packs import shipped_pack_names

        for pack in shipped_pack_names():
            print(bench_realistic(pack, args.realistic_records, args.backend, baseline=args.baseline, settings=settings))
    print({"peak_rss_mb": round(peak_rss_mb(), 1)})


if __name__ == "__main__":
    main()
