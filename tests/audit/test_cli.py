"""``safetyrules audit`` (registered by add_audit_parser) and ``python -m safetyrules.audit``."""

import argparse
import json
import os
import subprocess
import sys

from safetyrules.audit.cli import add_audit_parser
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
            [sys.executable, "-m", "safetyrules.audit", path, "-o", str(tmp_path / out), "--rules", DEMO, "--engine", engine,
             "-j", "1", "--report-date", "2026-12-31"],
            capture_output=True, text=True, env=env, timeout=300,
        )
        assert proc.returncode == 1, proc.stderr  # the batch has corrupt lines
        assert "200 records: 198 audited, 2 error rows" in proc.stderr
        assert "\r" not in proc.stderr  # no progress bar when stderr is not a terminal
    for name in ("results.jsonl", "summary.json", "report.md", "report.html"):
        assert open(tmp_path / "a" / name, "rb").read() == open(tmp_path / "b" / name, "rb").read()
    summary = json.load(open(tmp_path / "a" / "summary.json", encoding="utf-8"))
    assert summary["report_date"] == "2026-12-31"
