"""Benchmark: peak memory while realistic records stream through `safetyrules check --format jsonl`.

    python benchmarks/memory_bench.py                                   # 10,000 and 100,000 mining records
    python benchmarks/memory_bench.py --records 10000 100000 1000000 --json memory.json   # the long run
    python benchmarks/memory_bench.py --mode library --records 10000 100000

Records come from ``benchmarks/realistic.py`` (every record generated afresh, seeded: the pack's whole
inspection form, 10 % of facts missing, lists of 0-6 items), as JSON Lines. ``--records`` are
checkpoints of one run, which goes on to the largest.

``cli`` (default): one ``python -m safetyrules check - --rules PACK --format jsonl`` process reads the
records from a pipe (standard input), fed by this process, and writes its reports into a pipe this
process drains and counts (in place of /dev/null, so that a checkpoint is taken when that many reports
have come out, or, for a `check` that writes nothing until the end, when it has used no CPU for a
second: it has judged every record sent and waits for more). At each checkpoint the child's peak resident memory so far is read from
``/proc/PID/status`` (``VmHWM``; Linux), and when it ends, from the kernel's accounting of the finished
process (``os.wait4``'s ``ru_maxrss``, the ``resource.getrusage`` figure of a child). The compiled-rules
cache is a folder of this run's own.

``library``: ``RuleSet.evaluate_many`` over the generator in this process, each result's ``to_json()``
written to /dev/null as a JSON line; the peak is ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` (which
includes the generator and the rules).

Memory is flat when the peak at the last checkpoint is that of the first. Generating a mining record
costs about as much as checking it (≈ 700 records/s each on this machine), so the two processes share
the cores: the records/s printed are not the command's speed (see bench.py and examples_jsonl.py).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from typing import Callable, Dict, List, Optional

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from benchmarks.realistic import RecordGenerator  # noqa: E402
from safetyrules import load_rules  # noqa: E402

#: ru_maxrss is in kilobytes on Linux, in bytes on macOS
_RU_UNIT = 1 if sys.platform == "darwin" else 1024


def _mb(n_bytes: float) -> float:
    return round(n_bytes / (1024 * 1024), 1)


def _proc_status(pid: int) -> Dict[str, float]:
    """VmHWM (peak so far) and VmRSS (now) of a process, in MB, where /proc has them."""
    out: Dict[str, float] = {}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                if key in ("VmHWM", "VmRSS"):
                    out[key] = _mb(int(value.split()[0]) * 1024)
    except OSError:
        pass
    return out


def _cpu_ticks(pid: int) -> Optional[int]:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime
    except (OSError, IndexError, ValueError):
        return None


def _wait_for(pid: int, done: Callable[[], bool]) -> None:
    """Until ``done()``, or until the child has used no CPU for a second: a `check` that keeps
    every output until the end (before it streamed) writes nothing to count, and is measured once it
    has judged every record sent and waits for more."""
    last, idle = _cpu_ticks(pid), 0
    while not done():
        time.sleep(0.1)
        now = _cpu_ticks(pid)
        idle = idle + 1 if now is not None and now == last else 0
        last = now
        if idle >= 10:
            return


def run_cli(pack: str, checkpoints: List[int], seed: int, missing: float) -> dict:
    gen = RecordGenerator(load_rules(pack), seed=seed, missing=missing)
    total = checkpoints[-1]
    rows = []
    with tempfile.TemporaryDirectory(prefix="safetyrules-memory-") as tmp:
        env = dict(os.environ, SAFETYRULES_CACHE_DIR=os.path.join(tmp, "cache"))
        env.pop("SAFETYRULES_NO_CACHE", None)
        argv = [sys.executable, "-m", "safetyrules", "check", "-", "--rules", pack, "--format", "jsonl"]
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert proc.stdin is not None and proc.stdout is not None
        written = [0, 0]  # lines, bytes of reports

        def drain() -> None:
            assert proc.stdout is not None
            while True:
                chunk = proc.stdout.read1(1 << 20)
                if not chunk:
                    return
                written[0] += chunk.count(b"\n")
                written[1] += len(chunk)

        reader = threading.Thread(target=drain, daemon=True)
        reader.start()
        t0 = time.perf_counter()
        nxt = 0
        for i in range(total):
            proc.stdin.write((json.dumps(gen.record(i), ensure_ascii=False) + "\n").encode("utf-8"))
            if i + 1 == checkpoints[nxt]:
                proc.stdin.flush()
                _wait_for(proc.pid, lambda n=i + 1: written[0] >= n or proc.poll() is not None)
                status = _proc_status(proc.pid)
                elapsed = time.perf_counter() - t0
                rows.append(
                    {
                        "records": i + 1,
                        "peak_rss_mb": status.get("VmHWM"),
                        "rss_mb": status.get("VmRSS"),
                        "seconds": round(elapsed, 1),
                        "records_per_s": round((i + 1) / elapsed),
                        "output_mb": _mb(written[1]),
                    }
                )
                print(_line(rows[-1]), flush=True)
                nxt += 1
        proc.stdin.close()
        _, status_code, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status_code)
        reader.join()
    return {
        "mode": "cli",
        "command": " ".join(argv[1:]),
        "exit_code": proc.returncode,
        "reports": written[0],
        "peak_rss_mb_at_exit": _mb(usage.ru_maxrss * _RU_UNIT),
        "checkpoints": rows,
    }


def run_library(pack: str, checkpoints: List[int], seed: int, missing: float) -> dict:
    rules = load_rules(pack)
    gen = RecordGenerator(rules, seed=seed, missing=missing)
    before = _mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * _RU_UNIT)
    total = checkpoints[-1]
    rows = []
    t0 = time.perf_counter()
    nxt = 0
    with open(os.devnull, "w", encoding="utf-8") as sink:
        for i, result in enumerate(rules.evaluate_many(gen.record(k) for k in range(total)), 1):
            sink.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")
            if i == checkpoints[nxt]:
                elapsed = time.perf_counter() - t0
                rows.append(
                    {
                        "records": i,
                        "peak_rss_mb": _mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * _RU_UNIT),
                        "rss_mb": _proc_status(os.getpid()).get("VmRSS"),
                        "seconds": round(elapsed, 1),
                        "records_per_s": round(i / elapsed),
                    }
                )
                print(_line(rows[-1]), flush=True)
                nxt += 1
    return {"mode": "library", "peak_rss_mb_before_records": before, "checkpoints": rows}


def _line(row: dict) -> str:
    return (
        f"{row['records']:>10,} records  peak RSS {row['peak_rss_mb']} MB  RSS now {row['rss_mb']} MB  "
        f"{row['seconds']} s  {row['records_per_s']:,} records/s"
    )


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, nargs="+", default=[10_000, 100_000], help="checkpoints (default: 10000 100000)")
    parser.add_argument("--pack", default="mining")
    parser.add_argument("--mode", choices=("cli", "library"), default="cli")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--missing", type=float, default=0.10)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    checkpoints = sorted(set(args.records))
    print(f"{args.mode}: {args.pack}, realistic records, checkpoints {checkpoints}, load average {os.getloadavg()[0]:.1f}")
    run = run_cli if args.mode == "cli" else run_library
    figures = run(args.pack, checkpoints, args.seed, args.missing)
    figures.update(pack=args.pack, python=sys.version.split()[0], load_average_at_end=round(os.getloadavg()[0], 1))
    if "peak_rss_mb_at_exit" in figures:
        print(
            f"exit code {figures['exit_code']}, {figures['reports']:,} reports, peak RSS at exit {figures['peak_rss_mb_at_exit']} MB"
        )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(figures, fh, indent=2)


if __name__ == "__main__":
    main()
