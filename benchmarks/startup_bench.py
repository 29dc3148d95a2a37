"""Benchmark: start-up -- compiling the shipped packs, and one `safetyrules check` with and without the cache.

    python benchmarks/startup_bench.py                  # every shipped pack, 7 runs of each figure
    python benchmarks/startup_bench.py --runs 15 --json startup.json

Figures, each the median of ``--runs``:

    compile     load_ir(pack) in this process with the cache off (imports excluded), split into
                resolving the pack, reading its modules (YAML, schema, expressions) and compiling
                (the split timed apart, with the cycle collector paused as load_ir pauses it)
    cache hit   load_rules(pack) served from the cache (the same process: imports excluded)
    import      `python -c "import safetyrules"` and `import safetyrules.cli`, beside `python -c pass`
    check       `python -m safetyrules check RECORD --rules mining` as a new process, wall time:
                cold (SAFETYRULES_NO_CACHE=1) and warm (the cache filled by a first run)

The subprocesses use a cache folder and a bytecode folder of this run's own (a temporary folder), so
neither the user's cache nor the checkout is touched; bytecode is written even where the environment
says not to (PYTHONDONTWRITEBYTECODE), because an installed package has its .pyc files and the figure
is meant to be what its users see. Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from safetyrules import cache, compiler, load_rules  # noqa: E402
from safetyrules.loader import read_module, resolve_sources  # noqa: E402
from safetyrules.packs import shipped_pack_names  # noqa: E402

#: the record `check` judges: an underground coal mine under the 2026 text (mining pack)
RECORD = os.path.join(ROOT, "examples", "coal-underground-2026.json")


def median_ms(samples) -> float:
    return round(statistics.median(samples) * 1000, 1)


def time_compile(pack: str, runs: int) -> dict:
    """Cold compilation in this process, with the cache off, by stage."""
    resolve, read, comp, total = [], [], [], []
    for _ in range(runs):
        gc.disable()  # as load_ir does, so that the stages add up to it
        t0 = time.perf_counter()
        pairs, _ = resolve_sources([pack])
        t1 = time.perf_counter()
        sources = [read_module(path, p.name if p else None)[0] for p, path in pairs]
        t2 = time.perf_counter()
        packs = tuple({p.name: p for p, _ in pairs if p}.values())
        compiler.compile_modules([s for s in sources if s], packs)
        t3 = time.perf_counter()
        gc.enable()
        compiler.load_ir([pack])
        t4 = time.perf_counter()
        resolve.append(t1 - t0)
        read.append(t2 - t1)
        comp.append(t3 - t2)
        total.append(t4 - t3)
    return {
        "load_ir_ms": median_ms(total),
        "resolve_ms": median_ms(resolve),
        "read_ms": median_ms(read),
        "compile_ms": median_ms(comp),
    }


def time_cache_hit(pack: str, runs: int) -> dict:
    load_rules(pack)  # fills the entry
    hits, first = [], []
    with open(RECORD, encoding="utf-8") as fh:
        record = json.load(fh)
    for _ in range(runs):
        t0 = time.perf_counter()
        rules = load_rules(pack)
        t1 = time.perf_counter()
        hits.append(t1 - t0)
        if pack == "mining":
            rules.evaluate(record)
            first.append(time.perf_counter() - t1)
    out = {"cache_hit_ms": median_ms(hits)}
    if first:
        out["first_record_ms"] = median_ms(first)  # the C evaluator's program for the modules in force
    return out


def wall(argv, env, runs: int) -> float:
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        samples.append(time.perf_counter() - t0)
    return median_ms(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--packs", nargs="*", default=None, help="default: every shipped pack")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    packs = args.packs or shipped_pack_names()
    figures: dict = {"python": sys.version.split()[0], "runs": args.runs, "load_average": os.getloadavg()[0]}

    with tempfile.TemporaryDirectory(prefix="safetyrules-startup-") as tmp:
        env = dict(os.environ)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env.pop("SAFETYRULES_NO_CACHE", None)
        env["PYTHONPYCACHEPREFIX"] = os.path.join(tmp, "pyc")
        env["SAFETYRULES_CACHE_DIR"] = os.path.join(tmp, "cache")
        os.environ["SAFETYRULES_CACHE_DIR"] = env["SAFETYRULES_CACHE_DIR"]
        os.environ.pop("SAFETYRULES_NO_CACHE", None)

        print(f"{'pack':<18} {'load_ir':>9} {'resolve':>9} {'read':>9} {'compile':>9} {'cache hit':>10} {'1st record':>11}")
        figures["packs"] = {}
        for pack in packs:
            row = time_compile(pack, args.runs)
            row.update(time_cache_hit(pack, args.runs))
            figures["packs"][pack] = row
            print(
                f"{pack:<18} {row['load_ir_ms']:>7} ms {row['resolve_ms']:>6} ms {row['read_ms']:>6} ms "
                f"{row['compile_ms']:>6} ms {row['cache_hit_ms']:>7} ms {row.get('first_record_ms', ''):>8}"
                + (" ms" if "first_record_ms" in row else "")
            )

        py = sys.executable
        check = [py, "-m", "safetyrules", "check", RECORD, "--rules", "mining"]
        wall([py, "-c", "import safetyrules.cli"], env, 2)  # bytecode written once, not timed
        cold_env = dict(env, SAFETYRULES_NO_CACHE="1")
        process = {
            "python -c pass": wall([py, "-c", "pass"], env, args.runs),
            "import safetyrules": wall([py, "-c", "import safetyrules"], env, args.runs),
            "import safetyrules.cli": wall([py, "-c", "import safetyrules.cli"], env, args.runs),
            "check mining, cache off": wall(check, cold_env, args.runs),
        }
        cache.clear(env["SAFETYRULES_CACHE_DIR"])
        t0 = time.perf_counter()
        subprocess.run(check, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        process["check mining, cache filled by this run"] = round((time.perf_counter() - t0) * 1000, 1)
        process["check mining, warm cache"] = wall(check, env, args.runs)
        figures["process_ms"] = process
        print()
        for name, ms in process.items():
            print(f"{name:<40} {ms:>8} ms")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(figures, fh, indent=2)


if __name__ == "__main__":
    main()
