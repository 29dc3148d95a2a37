"""Load benchmark of ``safetyrules serve``: requests/s and p50/p99 latency for one record per request
and for batches of 100, on 1 and N workers, and what one request costs above the library's own time.

    python benchmarks/service_bench.py                       # mining pack, 1 and 2 workers, 10 s per run
    python benchmarks/service_bench.py --workers 1 4 --duration 30 --concurrency 1 8

The library's own time is measured first, in this process: ``evaluate`` + ``to_json`` + JSON
encoding of the same record (the work a request cannot avoid). Each server is started as
``python -m safetyrules.service serve`` (the command the CLI runs) and driven by a small HTTP/1.1
client on keep-alive connections (asyncio streams: a heavier client would measure itself on a small
machine). Overhead = p50 latency of single-record requests at concurrency 1 minus the library's p50.
The target (issue 14): under 2 ms on one worker.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE = os.path.join(ROOT, "examples", "coal-underground-2026.json")


def percentile(values, q):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, int(round(q / 100 * (len(ordered) - 1)))))
    return ordered[k]


def library_time(pack: str, record: dict, n: int) -> dict:
    sys.path.insert(0, ROOT)
    from safetyrules import load_rules

    rules = load_rules(pack)
    times = []
    for _ in range(n):
        t = time.perf_counter()
        json.dumps(rules.evaluate(record).to_json(), ensure_ascii=False).encode("utf-8")
        times.append(time.perf_counter() - t)
    return {"p50_ms": percentile(times, 50) * 1000, "p99_ms": percentile(times, 99) * 1000}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(pack: str, workers: int):
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "safetyrules.service",
            "serve",
            "--rules",
            pack,
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"the server exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/readyz", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        sys.exit("the server did not become ready")
    if workers > 1:  # every worker loads the rules: wait until all answer
        seen, tries = set(), 0
        while len(seen) < workers and tries < 500:
            req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/readyz", headers={"Connection": "close"})
            with urllib.request.urlopen(req, timeout=10) as r:
                seen.add(json.loads(r.read())["pid"])
            tries += 1
    return proc, port


def stop_server(proc) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()


async def _read_response(reader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    await reader.readexactly(length)
    return status


async def _worker(port, request, deadline, latencies, failures):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < deadline:
            t = time.perf_counter()
            writer.write(request)
            status = await _read_response(reader)
            latencies.append(time.perf_counter() - t)
            if status != 200:
                failures.append(status)
    finally:
        writer.close()


def drive(port: int, path: str, body: bytes, concurrency: int, seconds: float) -> dict:
    request = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body

    async def run():
        latencies, failures = [], []
        warm = time.perf_counter() + min(1.0, seconds / 5)
        await asyncio.gather(*[_worker(port, request, warm, [], []) for _ in range(concurrency)])
        start = time.perf_counter()
        deadline = start + seconds
        await asyncio.gather(*[_worker(port, request, deadline, latencies, failures) for _ in range(concurrency)])
        return latencies, failures, time.perf_counter() - start

    latencies, failures, elapsed = asyncio.run(run())
    return {
        "requests": len(latencies),
        "failures": len(failures),
        "rps": len(latencies) / elapsed,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pack", default="mining")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 4])
    ap.add_argument("--duration", type=float, default=10.0, help="seconds per run")
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--library-runs", type=int, default=2000)
    args = ap.parse_args(argv)

    with open(EXAMPLE, encoding="utf-8") as fh:
        record = json.load(fh)
    single = json.dumps(record, ensure_ascii=False).encode("utf-8")
    batch = json.dumps([dict(record, record_id=f"R-{i}") for i in range(args.batch)], ensure_ascii=False).encode("utf-8")

    lib = library_time(args.pack, record, args.library_runs)
    print(
        f"library, in process (evaluate + to_json + JSON encoding, {os.path.basename(EXAMPLE)}): "
        f"p50 {lib['p50_ms']:.3f} ms, p99 {lib['p99_ms']:.3f} ms"
    )
    print(
        f"{'workers':>7} {'kind':>9} {'conc':>4} {'requests':>8} {'req/s':>9} {'records/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'fail':>4}"
    )
    rows = []
    for workers in args.workers:
        proc, port = start_server(args.pack, workers)
        try:
            for kind, path, body, per in (
                ("single", "/v1/judge", single, 1),
                (f"batch{args.batch}", "/v1/judge/batch", batch, args.batch),
            ):
                for conc in args.concurrency:
                    r = drive(port, path, body, conc, args.duration)
                    rows.append((workers, kind, conc, r))
                    print(
                        f"{workers:>7} {kind:>9} {conc:>4} {r['requests']:>8} {r['rps']:>9.1f} {r['rps'] * per:>10.0f} "
                        f"{r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} {r['failures']:>4}",
                        flush=True,
                    )
        finally:
            stop_server(proc)
    one = [r for w, k, c, r in rows if w == 1 and k == "single" and c == 1]
    if one:
        overhead = one[0]["p50_ms"] - lib["p50_ms"]
        print(
            f"overhead of one single-record request on 1 worker at p50: {overhead:.2f} ms above the library "
            f"({'within' if overhead < 2 else 'ABOVE'} the 2 ms target)"
        )
    return 1 if any(r["failures"] for *_, r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
