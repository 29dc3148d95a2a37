"""``safetyrules serve`` as a process (``python -m safetyrules.service serve``, the same command the
``safetyrules`` CLI runs), driven over HTTP: start-up, judging, SIGHUP reloads that drop no request
on one worker and on two, shutdown, and rules with errors refused at start with their diagnostics."""

import json
import os
import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest

from tests.conftest import ROOT
from tests.service.conftest import COAL, free_port


def start(*args):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "safetyrules.service", "serve", "--port", str(port), *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the service exited with {proc.returncode}: {proc.stderr.read()[-2000:]}")
        try:
            if httpx.get(url + "/v1/readyz", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    pytest.fail("the service did not become ready in 120 s")


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail("the service did not stop on SIGTERM")
    return proc.returncode, err


def hammer(url, stop_event, outcomes):
    """Judge the coal example over and over on new connections, recording every status or error."""
    body = open(COAL, "rb").read()
    while not stop_event.is_set():
        try:
            r = httpx.post(
                url + "/v1/judge", content=body, headers={"content-type": "application/json", "connection": "close"}, timeout=30
            )
            outcomes.append(r.status_code)
        except httpx.HTTPError as exc:
            outcomes.append(f"{type(exc).__name__}: {exc}")


def readyz(url):
    return httpx.get(url + "/v1/readyz", headers={"connection": "close"}, timeout=5).json()


def pids(url, workers=2):
    """The worker processes answering (each request on a new connection goes to either)."""
    seen = set()
    for _ in range(300):
        seen.add(readyz(url)["pid"])
        if len(seen) == workers:
            return seen
    pytest.fail(f"only {len(seen)} of {workers} workers answered")


def reload_under_load(proc, url, done):
    """SIGHUP while a client judges records, until ``done(readyz answer)`` holds 10 times running."""
    outcomes, stop_event = [], threading.Event()
    thread = threading.Thread(target=hammer, args=(url, stop_event, outcomes))
    thread.start()
    try:
        time.sleep(0.5)
        proc.send_signal(signal.SIGHUP)
        deadline, running = time.monotonic() + 180, 0
        while time.monotonic() < deadline and running < 10:
            try:
                running = running + 1 if done(readyz(url)) else 0
            except httpx.HTTPError:
                running = 0
            time.sleep(0.1)
        assert running == 10, "the reload did not complete"
        time.sleep(0.5)
    finally:
        stop_event.set()
        thread.join(60)
    return outcomes


def test_serve_judges_and_reloads_on_sighup_without_dropping_requests():
    proc, url = start("--rules", "mining")
    try:
        ready = httpx.get(url + "/v1/readyz").json()
        assert [p["name"] for p in ready["packs"]] == ["mining"] and ready["generation"] == 1
        report = httpx.post(
            url + "/v1/judge", content=open(COAL, "rb").read(), headers={"content-type": "application/json"}
        ).json()
        assert report["status"] == "major_hazard_found" and report["counts"]["determinations"] == 7
        outcomes = reload_under_load(proc, url, lambda r: r["generation"] == 2)
        assert httpx.get(url + "/v1/readyz").json()["generation"] == 2
        assert len(outcomes) > 5 and set(outcomes) == {200}, [o for o in outcomes if o != 200][:5]
    finally:
        code, err = stop(proc)
    assert code in (0, -signal.SIGTERM), err[-2000:]  # uvicorn ends by the signal it stopped on
    assert "serving mining" in err and "rules reloaded (generation 2): mining 0.1.0" in err


def test_two_workers_restart_one_by_one_on_sighup():
    proc, url = start("--rules", "mining", "--workers", "2")
    try:
        old = pids(url)
        outcomes = reload_under_load(proc, url, lambda r: r["pid"] not in old)
        assert not pids(url) & old
        assert set(outcomes) == {200}, [o for o in outcomes if o != 200][:5]
    finally:
        code, err = stop(proc)
    assert code in (0, -signal.SIGTERM), err[-2000:]
    assert "restarting processes" in err.lower() or "sighup" in err.lower(), err[-2000:]


def test_rules_with_errors_stop_the_command_with_their_diagnostics(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("schema_version: 1\nmodule: {id: x}\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "safetyrules.service", "serve", "--rules", str(bad), "--port", str(free_port())],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "bad.yaml" in done.stderr and "error(s) loading rules" in done.stderr and "Traceback" not in done.stderr


def test_build_page_writes_static_files(tmp_path):
    out = tmp_path / "page"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "safetyrules.service",
            "serve",
            "--rules",
            "demo",
            "--build-page",
            str(out),
            "--api",
            "http://inspect.example:8000/",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert sorted(os.listdir(out)) == ["app.css", "app.js", "data.js", "index.html"]
    html = (out / "index.html").read_text(encoding="utf-8")
    assert 'src="app.js"' in html and 'src="data.js"' in html and "static/" not in html
    data = (out / "data.js").read_text(encoding="utf-8")
    assert data.startswith("window.SAFETYRULES_DATA = ")
    parsed = json.loads(data[len("window.SAFETYRULES_DATA = ") :].rstrip().rstrip(";"))
    assert parsed["api"] == "http://inspect.example:8000/" and list(parsed["forms"]) == ["demo"]
