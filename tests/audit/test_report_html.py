"""Reports: one self-contained HTML page with inline SVG charts, Markdown, and the JSON summary."""

import os
import re

from safetyrules.audit import AuditOptions, run_audit
from safetyrules.audit.report_html import bar_chart, column_chart
from tests.audit.conftest import demo_batch, write_jsonl


def test_reports(tmp_path, demo_rules):
    path = write_jsonl(tmp_path / "b.jsonl", demo_batch(300))
    run_audit([path], str(tmp_path / "out"), demo_rules, AuditOptions(jobs=1, title="检查 <audit> & co"))
    with open(tmp_path / "out" / "report.html", encoding="utf-8") as fh:
        html = fh.read()
    assert html.startswith("<!DOCTYPE html>")
    assert html.count("<svg") >= 3
    assert "<script" not in html
    # self-contained: nothing is fetched (the only URL is the SVG namespace name)
    assert not re.search(r'(src|href)\s*=', html)
    assert not re.search(r"url\(", html)
    assert set(re.findall(r"https?://[^\"' )]+", html)) == {"http://www.w3.org/2000/svg"}
    assert "检查 &lt;audit&gt; &amp; co" in html
    assert "rectification rate" in html and "reconciles" in html
    for klass in ("confirmed", "unsupported", "miscited", "missed", "undetermined", "superseded"):
        assert klass in html
    with open(tmp_path / "out" / "report.md", encoding="utf-8") as fh:
        md = fh.read()
    assert md.startswith("# 检查 <audit> & co")
    assert "| records in | results | errors | reconciles |" in md
    assert "## Definitions" in md and "**rectification_rate**" in md
    assert "## First error rows" in md and "malformed_json" in md


def test_empty_input(tmp_path, demo_rules):
    path = tmp_path / "empty.jsonl"
    path.write_text("")
    s = run_audit([str(path)], str(tmp_path / "out"), demo_rules, AuditOptions(jobs=1))
    assert s["reconciliation"] == {"records_in": 0, "results": 0, "errors": 0, "reconciles": True}
    assert s["metrics"]["recorded_per_1000"] is None
    assert os.path.getsize(tmp_path / "out" / "results.jsonl") == 0
    assert "<svg" in open(tmp_path / "out" / "report.html", encoding="utf-8").read()


def test_charts_escape_labels():
    svg = bar_chart([("<b>", 3), ("a" * 80, 0)])
    assert "&lt;b&gt;" in svg and "<b>" not in svg
    assert column_chart([], []) == ""
    assert "<rect" in column_chart(["2026-01"], [("x", [2], "#000")])


def test_svg_charts_are_well_formed(tmp_path, demo_rules):
    import xml.etree.ElementTree as ET

    path = write_jsonl(tmp_path / "b.jsonl", demo_batch(300))
    run_audit([path], str(tmp_path / "out"), demo_rules, AuditOptions(jobs=1))
    html = open(tmp_path / "out" / "report.html", encoding="utf-8").read()
    svgs = re.findall(r"<svg.*?</svg>", html, flags=re.S)
    assert len(svgs) >= 4
    for svg in svgs:
        root = ET.fromstring(svg)
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert root.findall(".//{http://www.w3.org/2000/svg}rect")
