"""Benchmark of ``safetyrules audit`` (not a timed test): generated records, JSON Lines and Parquet.

    python benchmarks/audit_bench.py --records 1000000 --pack demo --out OUTDIR
    python benchmarks/audit_bench.py --records 100000 --pack hazchem --formats jsonl
    python benchmarks/audit_bench.py --records 200000 --profile        # cProfile of one worker's work
    python benchmarks/audit_bench.py --records 100000 --pack campaign --formats jsonl   # with re-inspections
    python benchmarks/audit_bench.py --records 100000 --realistic --pack mining --formats jsonl

Records are generated deterministically (seeded) for the shipped ``demo`` pack (small records: capacity
figures, sometimes working faces, recorded findings with closed-loop dates, about 1 % corrupt lines),
a ``campaign`` of the same ``demo`` records with re-inspections (sites inspected five times each; hazards
listed with a status history and closed, re-inspections that find them fixed, still there or not
recorded: the 整改销号 check), or the ``hazchem`` pack (the shipped chemical-plant and trading examples with facts varied). Each audit
runs as a child process, so its peak memory (ru_maxrss of the audit and its worker processes) is
measured apart from the generator's. Figures are printed as a table and written as JSON with ``--json``.

``--realistic`` writes records of any shipped pack (``--pack mining``, ``--pack all`` for every shipped
pack in turn, mixed) generated from the pack's vocabularies by ``benchmarks/realistic.py`` (every fact
of the inspection form, 10 % missing, lists of 0-6 items), with findings as inspectors record them: most
of the criteria the record meets (85 %), now and then one it does not meet (1 %), and the same 1 % of
corrupt lines.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

STATUSES = ("listed", "assigned", "rectifying", "rectified", "verified", "closed")


def demo_record(i: int, rng: random.Random) -> dict:
    day = date(2025, 1, 1) + timedelta(days=rng.randrange(0, 730))
    version = "2026" if day >= date(2026, 7, 1) else "2020"
    underground = rng.random() < 0.9
    capacity = rng.choice((6500, 9000, 12000, 30000, 45000, 60000))
    ratio = rng.choice((0.6, 0.8, 0.95, 1.0, 1.05, 1.1, 1.12, 1.3)) if rng.random() < 0.97 else None
    facts: dict = {"approved_capacity_t": capacity}
    if ratio is not None:
        facts["annual_output_t"] = round(capacity * ratio, 2)
    if rng.random() < 0.97:
        facts["max_quarter_output_t"] = round(capacity * rng.choice((0.2, 0.25, 0.28, 0.31)), 2)
    # Working faces are recorded for every mine (an empty list when no face was inspected); about 3 % of
    # records miss a capacity figure and so leave a criterion undetermined.
    facts["working_faces"] = (
        [
            {"id": f"F-{k}", "ch4_pct": rng.choice((0.3, 0.8, 1.0, 1.4)), "electric_work_continued": rng.random() < 0.3}
            for k in range(rng.randint(1, 3))
        ]
        if rng.random() < 0.15
        else []
    )
    record = {
        "record_id": f"DEMO-{i:08d}",
        "inspection_date": day.isoformat(),
        "site": {
            "id": f"MINE-{rng.randrange(5000):04d}",
            "industry": "demo",
            "region": rng.choice(("CN-NM", "CN-SX", "CN-SN", "CN-GZ", "CN-HA")),
            "attributes": {"mine_type": "underground" if underground else "open_pit"},
        },
        "facts": facts,
    }
    findings = []
    over = ratio is not None and ratio > 1.1
    if underground and (over and rng.random() < 0.85 or rng.random() < 0.02):
        cited_version = "2020" if version == "2026" and rng.random() < 0.1 else version
        findings.append(_finding(f"demo-capacity-{cited_version}.a4.i1", day, rng))
    if rng.random() < 0.01:
        findings.append(_finding(f"demo-capacity-{version}.a5.i2", day, rng))
    if findings:
        record["findings"] = findings
    return record


def _finding(rule: str, day: date, rng: random.Random) -> dict:
    status = rng.choice(STATUSES)
    f = {
        "rule": rule,
        "status": status,
        "listed_on": day.isoformat(),
        "deadline": (day + timedelta(days=rng.choice((15, 30, 60)))).isoformat(),
    }
    if STATUSES.index(status) >= 1:
        f["assigned_on"] = (day + timedelta(days=2)).isoformat()
    if STATUSES.index(status) >= 3:
        f["rectified_on"] = (day + timedelta(days=rng.randrange(5, 90))).isoformat()
    if status == "closed":
        f["closed_on"] = (day + timedelta(days=95)).isoformat()
    return f


def campaign_records(n: int, rng: random.Random):
    """Sites inspected five times in 2026 (the 2020 text to June, the 2026 one from July), in shuffled
    order: a hazard found on a visit is listed with a status history and mostly closed; the next visits
    find it fixed (70 %), still there (15 %) or do not record the output (15 %)."""
    visits = 5
    records = []
    for s in range(-(-n // visits)):
        sid = f"MINE-{s:06d}"
        region = rng.choice(("CN-NM", "CN-SX", "CN-SN", "CN-GZ", "CN-HA"))
        inspector = f"inspector-{rng.randrange(200):03d}"
        capacity = rng.choice((6500, 9000, 12000, 30000))
        day = date(2026, 1, 1) + timedelta(days=rng.randrange(0, 60))
        state = "over" if rng.random() < 0.5 else "ok"
        for v in range(visits):
            if len(records) >= n:
                break
            i = len(records)
            if v:
                roll = rng.random()
                state = "ok" if roll < 0.7 else "over" if roll < 0.85 else "unknown"
            facts = {"approved_capacity_t": capacity, "max_quarter_output_t": round(capacity * 0.25, 2), "working_faces": []}
            if state != "unknown":
                facts["annual_output_t"] = round(capacity * (1.2 if state == "over" else 0.9), 2)
            rec = {
                "record_id": f"CAMP-{i:08d}",
                "inspection_date": day.isoformat(),
                "inspector": inspector,
                "site": {"id": sid, "industry": "demo", "region": region, "attributes": {"mine_type": "underground"}},
                "facts": facts,
            }
            if state == "over" and rng.random() < 0.9:
                version = "2026" if day >= date(2026, 7, 1) else "2020"
                done = day + timedelta(days=rng.randrange(10, 40))
                history = [
                    {"status": "listed", "on": day.isoformat()},
                    {"status": "assigned", "on": (day + timedelta(days=2)).isoformat()},
                ]
                if rng.random() < 0.8:
                    history += [
                        {"status": "rectified", "on": done.isoformat()},
                        {"status": "closed", "on": (done + timedelta(days=3)).isoformat()},
                    ]
                rec["findings"] = [
                    {
                        "id": f"{sid}-F{v}",
                        "rule": f"demo-capacity-{version}.a4.i1",
                        "listed_on": day.isoformat(),
                        "deadline": (day + timedelta(days=30)).isoformat(),
                        "history": history,
                    }
                ]
            records.append(rec)
            day += timedelta(days=rng.randrange(45, 75))
    rng.shuffle(records)
    return records


def hazchem_templates():
    with open(os.path.join(ROOT, "examples", "chemical-plant.json"), encoding="utf-8") as fh:
        a = json.load(fh)
    with open(os.path.join(ROOT, "examples", "hazchem-trading.json"), encoding="utf-8") as fh:
        b = json.load(fh)
    return [a, b]


def hazchem_record(i: int, rng: random.Random, templates) -> dict:
    rec = copy.deepcopy(rng.choice(templates))
    rec["record_id"] = f"HC-{i:08d}"
    day = date(2025, 1, 1) + timedelta(days=rng.randrange(0, 640))
    rec["inspection_date"] = day.isoformat()
    rec["site"]["region"] = rng.choice(("CN-NM", "CN-JS", "CN-SD", "CN-ZJ"))
    facts = rec["facts"]
    for k, v in list(facts.items()):
        if isinstance(v, bool) and rng.random() < 0.2:
            facts[k] = not v
    kept = [f for f in rec.get("findings", []) if rng.random() < 0.8]
    for f in kept:
        f["listed_on"] = day.isoformat()
        f["status"] = rng.choice(STATUSES)
        f["deadline"] = (day + timedelta(days=30)).isoformat()
    rec["findings"] = kept
    return rec


def realistic_records(n: int, pack: str, rng: random.Random):
    """Realistic records of a shipped pack (or of every one, mixed, for ``all``) with recorded findings."""
    from benchmarks.realistic import RecordGenerator
    from safetyrules import load_rules
    from safetyrules.packs import shipped_pack_names

    names = shipped_pack_names() if pack == "all" else [pack]
    sources = []
    for k, name in enumerate(names):
        rules = load_rules(name)
        sources.append((rules, RecordGenerator(rules, seed=rng.randrange(2**31) + k)))
    for i in range(n):
        rules, gen = sources[i % len(sources)]
        rec = gen.record(i)
        report = rules.evaluate(rec)
        day = date.fromisoformat(rec["inspection_date"])
        cited = [d.rule_id for d in report.determinations if rng.random() < 0.85]
        if rng.random() < 0.01 and rules.ir.rules:
            cited.append(rng.choice(sorted(rules.ir.rules)))
        if cited:
            rec["findings"] = [_finding(rule, day, rng) for rule in dict.fromkeys(cited)]
        yield rec


def generate(path_jsonl: str, n: int, pack: str, seed: int = 8, corrupt: float = 0.01, realistic: bool = False) -> None:
    rng = random.Random(seed)
    templates = hazchem_templates() if pack == "hazchem" and not realistic else None
    campaign = campaign_records(n, rng) if pack == "campaign" else None
    stream = realistic_records(n, pack, rng) if realistic else None
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    with open(path_jsonl, "w", encoding="utf-8") as fh:
        buf = []
        for i in range(n):
            if campaign is not None:
                rec = campaign[i]
            elif stream is not None:
                rec = next(stream)
            else:
                rec = demo_record(i, rng) if pack == "demo" else hazchem_record(i, rng, templates)
            line = dumps(rec)
            if rng.random() < corrupt:
                line = line[: rng.randrange(1, len(line) - 1)]  # a truncated, malformed line
            buf.append(line)
            if len(buf) >= 10000:
                fh.write("\n".join(buf) + "\n")
                buf = []
        if buf:
            fh.write("\n".join(buf) + "\n")


def to_parquet(path_jsonl: str, path_parquet: str, pack: str, row_group: int = 50_000) -> int:
    """Flat dotted columns (as in CSV); lists and findings as JSON text. Corrupt lines are left out."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer = None
    rows = []
    written = 0

    def flush():
        nonlocal writer, rows, written
        if not rows:
            return
        columns = sorted({k for r in rows for k in r})
        table = pa.Table.from_pylist(rows, schema=schema_for(columns))
        if writer is None:
            writer = pq.ParquetWriter(path_parquet, table.schema)
        writer.write_table(table, row_group_size=row_group)
        written += len(rows)
        rows = []

    fixed_columns = None

    def schema_for(columns):
        nonlocal fixed_columns
        if fixed_columns is None:
            fixed_columns = columns
        fields = []
        for c in fixed_columns:
            if c in ("facts.annual_output_t", "facts.approved_capacity_t", "facts.max_quarter_output_t"):
                fields.append(pa.field(c, pa.float64()))
            else:
                fields.append(pa.field(c, pa.string()))
        return pa.schema(fields)

    with open(path_jsonl, encoding="utf-8") as fh:
        for line in fh:
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            flat = {"record_id": rec["record_id"], "inspection_date": rec["inspection_date"]}
            if "inspector" in rec:
                flat["inspector"] = rec["inspector"]
            for k, v in rec["site"].items():
                if k == "attributes":
                    for a, av in v.items():
                        flat[f"site.attributes.{a}"] = av
                else:
                    flat[f"site.{k}"] = v
            for k, v in rec["facts"].items():
                flat[f"facts.{k}"] = json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else v
            if pack in ("demo", "campaign"):
                for k in (
                    "facts.annual_output_t",
                    "facts.approved_capacity_t",
                    "facts.max_quarter_output_t",
                    "facts.working_faces",
                ):
                    flat.setdefault(k, None)
                    if flat[k] is not None and k != "facts.working_faces":
                        flat[k] = float(flat[k])
            else:
                flat = {k: (v if isinstance(v, str) or v is None else json.dumps(v)) for k, v in flat.items()}
            flat["findings"] = json.dumps(rec.get("findings", []), ensure_ascii=False)
            rows.append(flat)
            if len(rows) >= row_group:
                if fixed_columns is not None:
                    for r in rows:
                        for c in fixed_columns:
                            r.setdefault(c, None)
                flush()
        if fixed_columns is not None:
            for r in rows:
                for c in fixed_columns:
                    r.setdefault(c, None)
        flush()
    if writer is not None:
        writer.close()
    return written


def run_audit_child(path: str, out: str, pack: str, jobs: int, backend: str, engine: str = "local") -> dict:
    """Run the audit in a child process: wall time, its summary, and its peak memory.

    Memory is sampled every 50 ms from /proc (psutil) over the audit process and its workers: the peak
    of their summed resident memory, and the largest single process. (``ru_maxrss`` of a child is not
    used: on Linux it keeps the high-water mark of the forked copy of this benchmark process from
    before ``exec``, which after generating the data is larger than the audit itself.)
    """
    import psutil

    if pack == "all":
        from safetyrules.packs import shipped_pack_names

        pack = ",".join(shipped_pack_names())
    cmd = [
        sys.executable,
        "-m",
        "safetyrules.audit",
        path,
        "-o",
        out,
        "--rules",
        "demo" if pack == "campaign" else pack,
        "--no-progress",
        "--jobs",
        str(jobs),
        "--backend",
        backend,
        "--engine",
        engine,
    ]
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak_total = peak_single = 0
    try:
        root = psutil.Process(proc.pid)
        while proc.poll() is None:
            total = 0
            try:
                for p in [root] + root.children(recursive=True):
                    try:
                        rss = p.memory_info().rss
                    except psutil.Error:
                        continue
                    total += rss
                    peak_single = max(peak_single, rss)
            except psutil.Error:
                pass
            peak_total = max(peak_total, total)
            time.sleep(0.05)
    finally:
        stdout, stderr = proc.communicate()
    wall = time.perf_counter() - start
    # CPU time of the audit and its workers (waited for by the audit): on a shared machine it moves
    # less with the load than the wall time does
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"audit failed ({proc.returncode}): {stderr}")
    with open(os.path.join(out, "summary.json"), encoding="utf-8") as fh:
        summary = json.load(fh)
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_total_mib": peak_total / 2**20,
        "peak_process_mib": peak_single / 2**20,
        "summary": summary,
        "stderr": stderr.strip(),
    }


def profile(path: str, pack: str, limit: int) -> None:
    import cProfile
    import pstats

    from safetyrules import load_rules
    from safetyrules.audit.readers import iter_parts
    from safetyrules.audit.metrics import SampleRoom
    from safetyrules.audit.runner import AuditContext, audit_part

    if pack == "all":
        from safetyrules.packs import shipped_pack_names

        rules = load_rules(shipped_pack_names())
    else:
        rules = load_rules(pack)
    ctx = AuditContext(rules.ir, "native")
    parts = list(iter_parts(path, "jsonl"))
    prof = cProfile.Profile()
    start = time.perf_counter()
    prof.enable()
    n = 0
    room = SampleRoom()  # as the runners do: a part skips the drill-down keys earlier parts filled
    for p in parts:
        agg = audit_part(p, ctx, room.full()).aggregate
        room.add(agg)
        n += agg.records
        if n >= limit:
            break
    prof.disable()
    wall = time.perf_counter() - start
    print(f"one process, profiled: {n:,} records in {wall:.1f} s ({n / wall:,.0f} rec/s under the profiler)")
    pstats.Stats(prof).sort_stats("tottime").print_stats(25)
    pstats.Stats(prof).sort_stats("cumulative").print_stats(30)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--pack", default="demo", help="demo, hazchem or campaign; with --realistic any shipped pack, or all")
    ap.add_argument(
        "--realistic", action="store_true", help="records generated from the pack's vocabularies (benchmarks/realistic.py)"
    )
    ap.add_argument("--out", default=os.path.join(tempfile.gettempdir(), "safetyrules-audit-bench"))
    ap.add_argument("--formats", default="jsonl,parquet")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--backend", default="native")
    ap.add_argument("--engine", default="local")
    ap.add_argument("--profile", action="store_true", help="profile one process over the generated JSON Lines instead")
    ap.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = ap.parse_args(argv)
    if not args.realistic and args.pack not in ("demo", "hazchem", "campaign"):
        ap.error(f"--pack {args.pack}: choose demo, hazchem or campaign (or any shipped pack with --realistic)")
    os.makedirs(args.out, exist_ok=True)
    tag = f"realistic-{args.pack}" if args.realistic else args.pack
    jsonl = os.path.join(args.out, f"{tag}-{args.records}.jsonl")
    if not os.path.exists(jsonl):
        t = time.perf_counter()
        generate(jsonl, args.records, args.pack, realistic=args.realistic)
        print(
            f"generated {jsonl} ({os.path.getsize(jsonl) / 2**20:,.0f} MiB) in {time.perf_counter() - t:.0f} s", file=sys.stderr
        )
    if args.profile:
        profile(jsonl, "demo" if args.pack == "campaign" else args.pack, min(args.records, 200_000))
        return 0
    figures = []
    for fmt in args.formats.split(","):
        path = jsonl
        if fmt == "parquet":
            path = jsonl[: -len(".jsonl")] + ".parquet"
            if not os.path.exists(path):
                t = time.perf_counter()
                n = to_parquet(jsonl, path, args.pack)
                print(
                    f"wrote {path} ({n:,} rows, {os.path.getsize(path) / 2**20:,.0f} MiB) in {time.perf_counter() - t:.0f} s",
                    file=sys.stderr,
                )
        out = os.path.join(args.out, f"out-{tag}-{fmt}")
        r = run_audit_child(path, out, args.pack, args.jobs, args.backend, args.engine)
        rec = r["summary"]["reconciliation"]
        figures.append(
            {
                "format": fmt,
                "pack": tag,
                "records": rec["records_in"],
                "results": rec["results"],
                "errors": rec["errors"],
                "reconciles": rec["reconciles"],
                "wall_s": round(r["wall_s"], 2),
                "records_per_s": round(rec["records_in"] / r["wall_s"]),
                "cpu_s": round(r["cpu_s"], 2),
                "records_per_cpu_s": round(rec["records_in"] / max(r["cpu_s"], 1e-9)),
                "peak_total_mib": round(r["peak_total_mib"], 1),
                "peak_process_mib": round(r["peak_process_mib"], 1),
                "jobs": args.jobs,
                "backend": args.backend,
                "engine": args.engine,
                "input_mib": round(os.path.getsize(path) / 2**20, 1),
                "rectification": {
                    k: v
                    for k, v in r["summary"].get("rectification", {}).items()
                    if k not in ("by_industry", "definitions", "examples", "not_evidenced_reasons")
                },
            }
        )
    print(
        f"{'format':8} {'pack':8} {'records':>10} {'errors':>7} {'wall s':>7} {'rec/s':>9} {'CPU s':>7} {'rec/CPU s':>9} "
        f"{'peak MiB (all / largest process)':>33} jobs"
    )
    for f in figures:
        mem = f"{f['peak_total_mib']:.0f} / {f['peak_process_mib']:.0f}"
        print(
            f"{f['format']:8} {f['pack']:8} {f['records']:>10,} {f['errors']:>7,} {f['wall_s']:>7.1f} {f['records_per_s']:>9,} "
            f"{f['cpu_s']:>7.1f} {f['records_per_cpu_s']:>9,} {mem:>33} {f['jobs']}"
        )
        if f["rectification"].get("findings"):
            print("  整改销号: " + ", ".join(f"{k} {v}" for k, v in f["rectification"].items()))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(figures, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
