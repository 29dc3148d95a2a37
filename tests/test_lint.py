"""Lint findings: each has a stable code, a severity and a location, and each can be triggered."""

import json
import re

import pytest

from safetyrules.cli import main
from safetyrules.compiler import load_ir
from safetyrules.errors import Diagnostic
from safetyrules.lint import lint_ir
from tests.helpers import write_module

NUM = {"type": "number"}


def codes(tmp_path, **kwargs):
    path = write_module(tmp_path, **kwargs)
    return {f.code: f for f in lint_ir(load_ir([path]))}


@pytest.mark.parametrize(
    "rules, code",
    [
        ([{"id": "t-mod.r1", "when": "x >= 5", "thresholds": [{"fact": "x", "term": "超过"}]}], "L-THRESHOLD-READING"),
        ([{"id": "t-mod.r1", "when": "x > 5", "thresholds": [{"fact": "x", "term": "达到"}]}], "L-THRESHOLD-READING"),
        ([{"id": "t-mod.r1", "when": "x > 5 and x < 3"}], "L-NEVER-TRUE"),
        ([{"id": "t-mod.r1", "when": "x > 5 or x <= 5"}], "L-ALWAYS-TRUE"),
        ([{"id": "t-mod.r1", "when": "x > 5"}, {"id": "t-mod.r2", "when": "x > 5"}], "L-DUPLICATE-RULE"),
        ([{"id": "t-mod.r1", "when": "x > 5"}, {"id": "t-mod.r2", "when": "x > 5 and y > 1"}], "L-SUBSUMED"),
        ([{"id": "other.r1", "when": "x > 5 and y > 1"}], "L-ID-PREFIX"),
        ([{"id": "t-mod.r1", "when": "x > 5"}], "L-UNUSED-FACT"),
        ([{"id": "t-mod.r1", "when": "x > 5 and y > 1", "citation": {"sub_item": 2}}], "L-CITATION"),
    ],
)
def test_findings(tmp_path, rules, code):
    found = codes(tmp_path, facts={"x": NUM, "y": NUM}, rules=rules)
    assert code in found
    assert found[code].location.path.endswith("m.yaml") and found[code].location.line > 0


def test_clean_module_has_no_findings(tmp_path):
    found = codes(tmp_path, facts={"x": NUM, "y": NUM}, rules=[{"id": "t-mod.r1", "when": "x > 5 and y > 1", "thresholds": [{"fact": "x", "term": "超过"}]}])
    assert found == {}


def test_version_overlap_gap_and_supersession(tmp_path):
    write_module(tmp_path, "a.yaml", id="v1", series="s", start="2020-01-01", until="2022-12-31", facts={"x": NUM}, rules=[("v1.r", "x > 1")])
    write_module(tmp_path, "b.yaml", id="v2", series="s", start="2022-06-01", until="null", facts={"x": NUM}, rules=[("v2.r", "x > 1")])
    found = {f.code for f in lint_ir(load_ir([str(tmp_path)]))}
    assert "L-VERSION-OVERLAP" in found
    (tmp_path / "b.yaml").write_text((tmp_path / "b.yaml").read_text(encoding="utf-8").replace("2022-06-01", "2023-03-01").replace("  jurisdiction", "  supersedes: v0\n  jurisdiction"), encoding="utf-8")
    found = {f.code for f in lint_ir(load_ir([str(tmp_path)]))}
    assert {"L-VERSION-GAP", "L-SUPERSESSION"} <= found and "L-VERSION-OVERLAP" not in found


def test_unverified_and_partial_are_listed(tmp_path):
    extra = "  completeness: partial\n  completeness_notes: clauses 5.2 to 5.7 not encoded\n  confidence: {level: low, notes: from secondary sources, unverified: [t-mod.r1]}\n"
    found = codes(tmp_path, facts={"x": NUM}, rules=[("t-mod.r1", "x > 1")], extra=extra)
    assert {"L-UNVERIFIED", "L-PARTIAL", "L-CONFIDENCE"} <= set(found)
    assert found["L-UNVERIFIED"].severity == "note"


def test_cli_lint_json(tmp_path, capsys):
    path = write_module(tmp_path, facts={"x": NUM}, rules=[{"id": "t-mod.r1", "when": "x >= 5", "thresholds": [{"fact": "x", "term": "超过"}]}])
    assert main(["lint", path, "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False
    assert data["findings"][0]["code"] == "L-THRESHOLD-READING" and data["findings"][0]["line"] > 0


def test_findings_are_diagnostics_like_load_errors(tmp_path):
    found = codes(tmp_path, facts={"x": NUM, "y": NUM}, rules=[{"id": "t-mod.r1", "when": "x > 5 and x < 3"}])
    assert found and all(type(f) is Diagnostic for f in found.values())
    assert found["L-NEVER-TRUE"].severity == "error" and found["L-UNUSED-FACT"].severity == "warning"


def test_cli_lint_text_names_every_severity_errors_first(tmp_path, capsys):
    extra = "  completeness: partial\n  completeness_notes: clauses 5.2 to 5.7 not encoded\n"
    path = write_module(tmp_path, facts={"x": NUM, "y": NUM}, rules=[{"id": "t-mod.r1", "when": "x > 5 and x < 3"}], extra=extra)
    assert main(["lint", path]) == 1
    lines = capsys.readouterr().out.splitlines()
    severities = [line.split(": ")[1] for line in lines[:-1]]
    assert severities == sorted(severities, key=["error", "warning", "note"].index) and set(severities) == {"error", "warning", "note"}
    never = next(line for line in lines if "L-NEVER-TRUE" in line)
    assert re.match(r".*m\.yaml:\d+:\d+: error: L-NEVER-TRUE rule t-mod\.r1: ", never)
    assert lines[-1] == "1 module(s), 1 rule(s): 1 error(s), 2 warning(s)/note(s)"
