"""``safetyrules audit`` (registered by safetyrules.cli.audit.add_parser) and ``python -m safetyrules.audit``."""

import argparse
import json
import os
import subprocess
import sys

from safetyrules.cli.audit import add_parser as add_audit_parser
from safetyrules.audit.__main__ import main
from tests.audit.conftest import RULES, ROOT, demo, demo_batch, write_jsonl

DEMO = os.path.join(RULES, "demo")


def test_add_audit_parser_registers_the_subcommand():
    parser = argparse.ArgumentParser(prog="safetyrules")
    sub = parser.add_subparsers(dest="command")
    add_audit_parser(sub)
    args = parser.parse_args(["audit", "in.jsonl", "-o", "out", "--report-date", "2026-12-31", "-j", "2", "--engine", "dask"])
    assert args.command == "audit" and args.inputs == ["in.jsonl"] and args.output == "out"
    assert args.report_date.isoformat() == "2026-12-31" and args.jobs == 2 and args.engine == "dask"
    assert callable(args.func)


def test_exit_codes(tmp_path, capsys):
    good = write_jsonl(tmp_path / "good.jsonl", [demo()])
    assert main([good, "-o", str(tmp_path / "o1"), "--rules", DEMO, "-j", "1"]) == 0
    err = capsys.readouterr().err
    assert "1 records: 1 audited, 0 error rows" in err
    bad = write_jsonl(tmp_path / "bad.jsonl", [demo(), "{oops"])
    assert main([bad, "-o", str(tmp_path / "o2"), "--rules", DEMO, "-j", "1"]) == 1
    assert main([str(tmp_path / "missing.jsonl"), "-o", str(tmp_path / "o3"), "--rules", DEMO]) == 2
    assert "missing.jsonl: cannot read" in capsys.readouterr().err


def test_csv_missing_column_exit_2(tmp_path, capsys):
    path = tmp_path / "x.csv"
    path.write_text("record_id,site.industry\nA,demo\n", encoding="utf-8")
    assert main([str(path), "-o", str(tmp_path / "o"), "--rules", DEMO]) == 2
    err = capsys.readouterr().err
    assert "required column(s) missing: inspection_date" in err
    assert "Traceback" not in err


def test_module_entry_point_and_dask_engine(tmp_path):
    path = write_jsonl(tmp_path / "b.jsonl", demo_batch(200))
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    for engine, out in (("local", "a"), ("dask", "b")):
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "safetyrules.audit",
                path,
                "-o",
                str(tmp_path / out),
                "--rules",
                DEMO,
                "--engine",
                engine,
                "-j",
                "1",
                "--report-date",
                "2026-12-31",
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        assert proc.returncode == 1, proc.stderr  # the batch has corrupt lines
        assert "200 records: 198 audited, 2 error rows" in proc.stderr
        assert "\r" not in proc.stderr  # no progress bar when stderr is not a terminal
    for name in ("results.jsonl", "summary.json", "report.md", "report.html"):
        assert open(tmp_path / "a" / name, "rb").read() == open(tmp_path / "b" / name, "rb").read()
    summary = json.load(open(tmp_path / "a" / "summary.json", encoding="utf-8"))
    assert summary["report_date"] == "2026-12-31"


def test_a_lone_surrogate_is_one_error_row_and_the_batch_is_written(tmp_path):
    """One valid JSON line ("\\ud800" in its record_id) used to abort the whole audit, writing nothing."""
    bad = json.dumps(dict(demo(), record_id="\ud800"))  # ASCII escapes: a valid JSON line
    path = write_jsonl(tmp_path / "in.jsonl", [demo(), bad, demo()])
    out = tmp_path / "o"
    assert main([path, "-o", str(out), "--rules", DEMO, "-j", "1", "--no-progress"]) == 1
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 3 and "error" not in rows[0] and "error" not in rows[2]
    assert rows[1]["error"]["reason"] == "invalid_record" and rows[1]["record_id"] == "\ud800"  # read back exactly


def test_a_csv_row_that_is_not_utf8_is_one_error_row(tmp_path):
    path = tmp_path / "in.csv"
    path.write_bytes(
        b"record_id,inspection_date,site.industry,site.attributes.mine_type,facts.annual_output_t,facts.approved_capacity_t\n"
        b"A,2026-08-12,demo,underground,7150,6500\n"
        b"B\xff\xfe,2026-08-12,demo,underground,1,1\n"
        b"C,2026-08-12,demo,underground,7150,6500\n"
    )
    out = tmp_path / "o"
    assert main([str(path), "-o", str(out), "--rules", DEMO, "-j", "1", "--no-progress"]) == 1
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r.get("record_id") for r in rows] == ["A", None, "C"]
    assert rows[1]["row"] == 3 and rows[1]["error"]["reason"] == "not_utf8" and "0xff" in rows[1]["error"]["message"]


def test_what_a_killed_run_left_is_removed_by_the_next(tmp_path):
    out = tmp_path / "o"
    staging = out / ".safetyrules-staging" / "999999999-dead"
    staging.mkdir(parents=True)
    (staging / "results.jsonl").write_text("partial", encoding="utf-8")
    (out / ".results.jsonl.tmp-999999999").write_text("partial", encoding="utf-8")  # an earlier version's leftover
    path = write_jsonl(tmp_path / "in.jsonl", [demo()])
    assert main([path, "-o", str(out), "--rules", DEMO, "-j", "1", "--no-progress"]) == 0
    left = sorted(os.listdir(out))
    assert [p for p in left if p.startswith(".")] == [] and "results.jsonl" in left


def test_a_killed_audit_leaves_its_temporaries_where_the_next_run_finds_them(tmp_path):
    import signal
    import time

    path = write_jsonl(tmp_path / "in.jsonl", [dict(demo(), record_id=f"R{i}") for i in range(20000)])
    out = tmp_path / "o"
    proc = subprocess.Popen(
        [sys.executable, "-m", "safetyrules", "audit", path, "-o", str(out), "--rules", DEMO, "-j", "1", "--no-progress"],
        cwd=ROOT,
    )
    deadline = time.time() + 60
    while time.time() < deadline and not (out / ".safetyrules-staging").exists():
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    left = [p for p in os.listdir(out) if not p.startswith(".safetyrules-staging")]
    assert left == []  # nothing beside the results; the staging folder holds the partial file
    assert main([path, "-o", str(out), "--rules", DEMO, "-j", "1", "--no-progress"]) == 0
    assert ".safetyrules-staging" not in os.listdir(out)
