"""The command line: exit codes, formats, and bad input without tracebacks."""

import json
import os
import subprocess
import sys

import pytest

from safetyrules.cli import main
from tests.conftest import EXAMPLES, RULES, demo_record

DEMO = os.path.join(RULES, "demo")


def write_json(tmp_path, value, name="r.json"):
    path = tmp_path / name
    path.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
    return str(path)


def test_check_found_exits_1_with_citation(capsys):
    code = main(["check", os.path.join(EXAMPLES, "demo-underground.json"), "--rules", DEMO])
    out = capsys.readouterr().out
    assert code == 1
    assert "《示例矿井重大隐患判定标准》第四条第（一）项" in out


def test_check_json_output(capsys):
    code = main(["check", os.path.join(EXAMPLES, "demo-underground.json"), "--rules", DEMO, "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 1
    assert data["status"] == "major_hazard_found"
    assert {d["rule_id"] for d in data["determinations"]} == {"demo-capacity-2026.a4.i1", "demo-capacity-2026.a5.i2"}


def test_check_clean_exits_0(tmp_path, capsys):
    facts = {"annual_output_t": 10, "approved_capacity_t": 100, "max_quarter_output_t": 3, "working_faces": []}
    assert main(["check", write_json(tmp_path, demo_record(facts)), "--rules", DEMO]) == 0


def test_check_undetermined_exits_3(tmp_path, capsys):
    assert main(["check", write_json(tmp_path, demo_record({})), "--rules", DEMO]) == 3
    assert "undetermined" in capsys.readouterr().out.lower()


@pytest.mark.parametrize(
    "content, fragment",
    [
        ("{not json", "malformed JSON"),
        ("[1, 2]", "must be an object"),
        (
            '{"record_id": "a", "inspection_date": "2026-08-01", "site": {"industry": "demo"}, "facts": {"annual_output_t": "x"}}',
            "$.facts.annual_output_t",
        ),
        ("[" * 100 + "]" * 100, "must be an object"),
        ('{"record_id": "a", "notes": ' + "[" * 40 + "]" * 40 + "}", "nested deeper than 32"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ],
)
def test_bad_record_files_exit_2_without_traceback(tmp_path, capsys, content, fragment):
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    assert main(["check", str(path), "--rules", DEMO]) == 2
    err = capsys.readouterr().err
    assert fragment in err
    assert "Traceback" not in err


def test_not_utf8_record(tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_bytes(b'{"record_id": "\xff"}')
    assert main(["check", str(path), "--rules", DEMO]) == 2
    assert "not UTF-8" in capsys.readouterr().err


def test_missing_file(capsys):
    assert main(["check", "/nonexistent/record.json", "--rules", DEMO]) == 2


def test_bad_rules_exit_2(tmp_path, capsys):
    bad = tmp_path / "m.yaml"
    bad.write_text("schema_version: 1\nmodule: {}\nrules: []\n", encoding="utf-8")
    assert main(["check", os.path.join(EXAMPLES, "demo-underground.json"), "--rules", str(bad)]) == 2
    assert "E-SCHEMA" in capsys.readouterr().err


def test_lint_and_list(capsys):
    assert main(["lint", DEMO]) == 0
    assert main(["list", "--rules", DEMO, "--format", "json"]) == 0
    out = capsys.readouterr().out
    data = json.loads(out[out.index("{") :])
    rules = {r["id"]: r for m in data["modules"] for r in m["rules"]}
    assert rules["demo-capacity-2020.a5.i2"]["citation"]["rendered"] == "《示例矿井重大隐患判定标准》第五条第（二）项"


def test_test_command_runs_demo_cases(capsys):
    assert main(["test", DEMO, "--min-coverage", "100"]) == 0
    assert "rule coverage 100.0%" in capsys.readouterr().out


def test_test_command_reports_a_failing_case_with_location(tmp_path, capsys):
    import shutil

    pack = tmp_path / "demo"
    shutil.copytree(DEMO, pack)
    cases = pack / "tests" / "demo.test.yaml"
    cases.write_text(
        cases.read_text(encoding="utf-8").replace(
            "demo-capacity-2026.a4.i1: not_matched", "demo-capacity-2026.a4.i1: matched", 1
        ),
        encoding="utf-8",
    )
    assert main(["test", str(pack)]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "demo.test.yaml:" in out and "expected matched, got not_matched" in out


def test_usage_error_exits_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["check"])
    assert info.value.code == 2


def test_as_of_override(tmp_path, capsys):
    facts = {"annual_output_t": 6000, "approved_capacity_t": 6500, "max_quarter_output_t": 1950.01}
    path = write_json(tmp_path, demo_record(facts, date="2026-06-30"))
    assert main(["check", path, "--rules", DEMO, "--format", "json"]) == 3
    capsys.readouterr()
    assert main(["check", path, "--rules", DEMO, "--format", "json", "--as-of", "2026-07-01"]) == 1


def test_module_entry_point_runs():
    proc = subprocess.run([sys.executable, "-m", "safetyrules", "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and "safetyrules" in proc.stdout


def test_test_command_json_and_junit(tmp_path, capsys):
    from xml.etree import ElementTree as ET

    junit = tmp_path / "out.xml"
    assert main(["test", DEMO, "--format", "json", "--junit", str(junit)]) == 0
    data = json.loads(capsys.readouterr().out)
    (pack,) = data["packs"]
    assert pack["rule_coverage_percent"] == 100.0
    assert pack["threshold_coverage_percent"] == 100.0
    # every elementary test of the demo pack is seen true and false (--min-coverage gates it too)
    assert pack["condition_coverage_percent"] == 100.0 and pack["conditions_not_seen_both_ways"] == []
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite.get("name") == "demo" and len(suite.findall("testcase")) == pack["cases"]


def test_invalid_pack_is_refused_not_tested(tmp_path, capsys):
    import shutil

    pack = tmp_path / "demo"
    shutil.copytree(DEMO, pack)
    (pack / "demo-capacity-2026.yaml").write_text("schema_version: 1\nmodule: {id: x}\n", encoding="utf-8")
    assert main(["test", str(pack)]) == 2
    assert "not tested" in capsys.readouterr().err


def test_huge_record_file_is_refused(tmp_path, capsys):
    path = tmp_path / "huge.json"
    path.write_text('{"record_id": "x", "notes": "' + "x" * (9 * 1024 * 1024) + '"}', encoding="utf-8")
    assert main(["check", str(path), "--rules", DEMO]) == 2
    assert "limit" in capsys.readouterr().err


def test_jsonl_batch_reports_bad_lines_and_keeps_going(tmp_path, capsys):
    good = json.dumps(
        demo_record({"annual_output_t": 1, "approved_capacity_t": 10, "max_quarter_output_t": 1, "working_faces": []})
    )
    path = tmp_path / "batch.jsonl"
    path.write_text("\n".join([good, "{broken", good]) + "\n", encoding="utf-8")
    assert main(["check", str(path), "--rules", DEMO, "--format", "jsonl"]) == 2
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.strip().splitlines()]
    assert [("error" in line) for line in lines] == [False, True, False]
    assert lines[1]["source"].endswith("batch.jsonl:2")
    assert "batch.jsonl:2" in captured.err


def test_schema_commands(capsys):
    assert main(["schema", "module"]) == 0
    module_schema = json.loads(capsys.readouterr().out)
    assert module_schema["$schema"].endswith("2020-12/schema") and "rules" in module_schema["properties"]
    assert main(["schema", "record", "--rules", DEMO, "--industry", "demo"]) == 0
    record_schema = json.loads(capsys.readouterr().out)
    assert "annual_output_t" in record_schema["properties"]["facts"]["properties"]


def test_overlay_report_command(capsys):
    assert main(["overlay-report", DEMO, "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["supplements"][0]["module_id"] == "demo-province-supplement-2026"
    assert main(["overlay-report", DEMO]) == 0
    assert "TIGHTEN" in capsys.readouterr().out


def test_check_durable_backend_matches_native(capsys):
    record = os.path.join(EXAMPLES, "demo-underground.json")
    assert main(["check", record, "--rules", DEMO, "--format", "json"]) == 1
    native = json.loads(capsys.readouterr().out)
    assert main(["check", record, "--rules", DEMO, "--format", "json", "--backend", "durable"]) == 1
    durable = json.loads(capsys.readouterr().out)
    native["engine"].pop("backend"), durable["engine"].pop("backend")
    assert native == durable


# ------------------------------------------------------------------ hostile input (issue 12)


def test_check_on_a_lone_surrogate_exits_2_with_a_message(tmp_path, capsys):
    path = tmp_path / "r.json"
    path.write_text(json.dumps(demo_record({}, record_id="\ud800")), encoding="utf-8")  # ASCII escapes: valid JSON
    assert main(["check", str(path), "--rules", DEMO]) == 2
    err = capsys.readouterr().err
    assert "$.record_id: text is not valid Unicode" in err and "Traceback" not in err


def test_check_json_serialises_dates_in_reports(capsys):
    """The 2022 hoist item reads a date: its report (facts and evidence) went through json.dumps."""
    code = main(
        [
            "check",
            os.path.join(EXAMPLES, "construction-highrise.json"),
            "--rules",
            "construction",
            "--as-of",
            "2024-06-01",
            "--format",
            "jsonl",
        ]
    )
    assert code in (1, 3)
    data = json.loads(capsys.readouterr().out)
    assert data["as_of"] == "2024-06-01"
    dates = [
        v for d in data["determinations"] for v in d["facts"].values() if isinstance(v, str) and v[:2] == "20" and len(v) == 10
    ]
    assert dates, "the example's determinations read a date fact"


def test_an_internal_error_exits_70_in_one_line_and_the_traceback_with_debug(monkeypatch, tmp_path, capsys):
    from safetyrules import cli
    from safetyrules.cli import lint as lint_command

    def broken(args):
        raise TypeError("a bug")

    monkeypatch.setattr(lint_command, "cmd_lint", broken)
    assert main(["lint", DEMO]) == cli.EXIT_INTERNAL == 70
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error: TypeError: a bug" in err and "--debug" in err
    assert main(["--debug", "lint", DEMO]) == 70
    assert "Traceback" in capsys.readouterr().err


@pytest.mark.parametrize("kind", ["a file", "under a file"])
def test_output_paths_that_cannot_be_folders_exit_2_with_a_message(tmp_path, capsys, kind):
    blocker = tmp_path / "taken"
    blocker.write_text("x", encoding="utf-8")
    out = str(blocker) if kind == "a file" else str(blocker / "sub")
    record = write_json(tmp_path, demo_record({}), "r.jsonl")
    assert main(["audit", record, "-o", out, "--rules", DEMO, "-j", "1", "--no-progress"]) == 2
    assert main(["docs", DEMO, "-o", out]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "taken" in err


def test_check_reads_standard_input():
    with open(os.path.join(EXAMPLES, "demo-underground.json"), "rb") as fh:
        run = subprocess.run(
            [sys.executable, "-m", "safetyrules", "check", "-", "--rules", DEMO, "--format", "json"],
            stdin=fh,
            capture_output=True,
            timeout=120,
        )
    assert run.returncode == 1, run.stderr
    assert json.loads(run.stdout)["record_id"] == "DEMO-2026-0001"
