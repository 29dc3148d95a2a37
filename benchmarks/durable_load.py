"""Load test of the durable backend: many records through one process, memory and speed.

    python -m benchmarks.durable_load                     # 100,000 records, every shipped pack
    python -m benchmarks.durable_load --records 5000 --ratio-records 2000

Records are the shipped examples (examples/*.json) together with variants of them (facts dropped,
numbers moved onto and off their thresholds), cycled until the count is reached; each is judged by
the durable backend of the pack that covers it. Every ``--check-every``-th report is compared with
the native backend's. RSS is read from /proc/self/status (VmRSS) at the start (after loading and
warming up), every ``--progress`` records, and at the end. The native : durable speed ratio is
measured on the first ``--ratio-records`` records, both backends on the same records.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import random
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from safetyrules import load_rules  # noqa: E402
from safetyrules.loader import discover_packs  # noqa: E402


def rss_mb() -> float:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:  # pragma: no cover - not Linux
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def comparable(report):
    data = report.to_json()
    data["engine"].pop("backend")
    return data


def variants(raw, rnd: random.Random, n: int):
    """The record itself and ``n - 1`` variants of it."""
    out = [raw]
    for i in range(n - 1):
        v = json.loads(json.dumps(raw))
        v["record_id"] = f"{raw.get('record_id', 'r')}-v{i}"
        facts = v.get("facts") or {}
        for name in list(facts):
            value = facts[name]
            roll = rnd.random()
            if roll < 0.15:
                del facts[name]
            elif isinstance(value, (int, float)) and not isinstance(value, bool) and roll < 0.5:
                facts[name] = rnd.choice([0, value, value * 2, value / 2 if isinstance(value, float) else value + 1])
        out.append(v)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--ratio-records", type=int, default=3000)
    ap.add_argument("--check-every", type=int, default=97)
    ap.add_argument("--progress", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)

    packs = discover_packs()
    names = [n for n in sorted(packs) if not (n.startswith("construction-") and "construction" in packs)]
    native = {n: load_rules(packs[n]) for n in names}
    durable = {n: r.with_backend("durable") for n, r in native.items()}
    by_industry = {}
    for n, r in native.items():
        for industry in r.ir.vocabularies:
            by_industry.setdefault(industry, n)

    rnd = random.Random(args.seed)
    pool = []
    for path in sorted(glob.glob(os.path.join(ROOT, "examples", "*.json"))):
        with open(path, encoding="utf-8") as fh:
            raw = json.load(fh)
        pack = by_industry.get(raw.get("site", {}).get("industry"))
        if pack is None:
            continue
        for v in variants(raw, rnd, 20):
            try:
                native[pack].parse_record(v)
            except Exception:
                continue  # a variant outside a fact's bounds: leave it out
            pool.append((pack, v))
    print(f"packs: {', '.join(names)}; record pool: {len(pool)} (examples and variants)")

    for pack, raw in pool:  # warm up (first use of each ruleset)
        durable[pack].evaluate(raw)

    # speed ratio, both backends on the same records, each report serialised whole (native reports
    # are otherwise finished on first read, and a ratio of unread reports would flatter native)
    sample = [pool[i % len(pool)] for i in range(args.ratio_records)]
    t0 = time.perf_counter()
    for pack, raw in sample:
        native[pack].evaluate(raw).to_json()
    t_native = time.perf_counter() - t0
    t0 = time.perf_counter()
    for pack, raw in sample:
        durable[pack].evaluate(raw).to_json()
    t_durable = time.perf_counter() - t0
    print(
        f"speed on {len(sample)} records: native {t_native / len(sample) * 1e3:.3f} ms/record, "
        f"durable {t_durable / len(sample) * 1e3:.3f} ms/record; native : durable = 1 : {t_durable / t_native:.1f} "
        f"(native is {t_durable / t_native:.1f}x faster)"
    )

    start = rss_mb()
    print(f"RSS at start: {start:.1f} MB")
    t0 = time.perf_counter()
    statuses = {}
    checked = 0
    for i in range(args.records):
        pack, raw = pool[i % len(pool)]
        report = durable[pack].evaluate(raw)
        statuses[report.status] = statuses.get(report.status, 0) + 1
        if i % args.check_every == 0:
            if comparable(report) != comparable(native[pack].evaluate(raw)):
                print(f"MISMATCH on record {i} ({raw.get('record_id')})")
                return 1
            checked += 1
        if args.progress and (i + 1) % args.progress == 0:
            print(f"  {i + 1:>7} records  RSS {rss_mb():.1f} MB  {time.perf_counter() - t0:.0f} s", flush=True)
    elapsed = time.perf_counter() - t0
    end = rss_mb()
    print(f"RSS at end: {end:.1f} MB (change {end - start:+.1f} MB)")
    print(f"{args.records} records in {elapsed:.1f} s ({args.records / elapsed:.0f} records/s); {checked} checked against native")
    print(f"statuses: {json.dumps(statuses, sort_keys=True)}")
    for r in durable.values():
        r.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
