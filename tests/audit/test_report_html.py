"""Reports: one self-contained HTML page with inline SVG charts, Markdown, and the JSON summary."""

import os
import re

from safetyrules.audit import AuditOptions, run_audit
from safetyrules.audit.report_html import bar_chart, column_chart
from tests.audit.conftest import demo, demo_batch, write_jsonl


def test_reports(tmp_path, demo_rules):
    path = write_jsonl(tmp_path / "b.jsonl", demo_batch(300))
    run_audit([path], str(tmp_path / "out"), demo_rules, AuditOptions(jobs=1, title="检查 <audit> & co"))
    with open(tmp_path / "out" / "report.html", encoding="utf-8") as fh:
        html = fh.read()
    assert html.startswith("<!DOCTYPE html>")
    assert html.count("<svg") >= 3
    # one inline script, nothing loaded: no src attribute, links only to anchors of the page itself
    assert html.count("<script") == 1 and "<script>" in html
    assert not re.search(r"\ssrc\s*=", html)
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert hrefs and all(h.startswith("#") for h in hrefs)
    ids = set(re.findall(r'id="([^"]+)"', html))
    assert {h[1:] for h in hrefs} <= ids  # every link lands somewhere
    assert not re.search(r"url\(", html) and "@font-face" not in html and "@import" not in html
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
    assert len(svgs) >= 3  # rectification and class bars, months; the criteria bars are in their tables
    for svg in svgs:
        root = ET.fromstring(svg)
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert root.findall(".//{http://www.w3.org/2000/svg}rect")


def _report(tmp_path, rules, records, **opts):
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = write_jsonl(tmp_path / "in.jsonl", records)
    summary = run_audit([path], str(tmp_path / "out"), rules, AuditOptions(jobs=1, **opts))
    return summary, (tmp_path / "out" / "report.html").read_text(encoding="utf-8")


def test_structure_summary_first_and_versions_beside_citations(tmp_path, demo_rules):
    summary, html = _report(tmp_path, demo_rules, demo_batch(300))
    order = [
        html.index(f'id="{k}"')
        for k in ("summary", "rectification", "classes", "criteria", "breakdowns", "records", "definitions")
    ]
    assert order == sorted(order)
    assert html.index("Needs action") < html.index('id="classes"')
    # the 2020 and 2026 texts share the citation; the label says which version is meant
    crit = {e["rule"]: e for e in summary["by_criterion"]}
    old, new = crit["demo-capacity-2020.a4.i1"], crit["demo-capacity-2026.a4.i1"]
    assert old["citation"] == new["citation"] and old["module_version"] != new["module_version"]
    assert old["module_version"] == "2020 2021-01-01 – 2026-06-30"
    for e in (old, new):
        assert f'{e["module_version"]}</span><br><span class="muted">{e["title"]}' in html
    # tables can be filtered, sorted and exported
    assert html.count('class="st"') == html.count("data-filter=") == html.count("data-csv=")


def test_drill_down_has_finding_determination_and_evidence(tmp_path, demo_rules):
    summary, html = _report(tmp_path, demo_rules, demo_batch(300))
    missed = summary["drilldown"]["class:missed"]
    assert 0 < len(missed) <= 20
    first = missed[0]
    e = next(x for x in first["entries"] if x["class"] == "missed")
    assert e["outcome"] == "matched" and e["evidence"] and any("annual_output_t" in line for line in e["evidence"])
    assert 'id="dd-class-missed"' in html and first["record_id"] in html
    for klass, n in summary["classes"].items():
        if n:
            assert f'href="#dd-class-{klass}"' in html
    # the first records, in input order, whatever the number of workers
    path = tmp_path / "in.jsonl"
    s2 = run_audit([str(path)], str(tmp_path / "out2"), demo_rules, AuditOptions(jobs=2, part_bytes=2048))
    assert s2["drilldown"] == summary["drilldown"]


def test_breakdowns_by_inspector_and_site(tmp_path, demo_rules):
    recs = [demo(record_id=f"R{i}", inspector=("王某", "李某")[i % 2]) for i in range(6)]
    for i, r in enumerate(recs):
        r["site"]["id"] = f"S{i % 3}"
    summary, html = _report(tmp_path, demo_rules, recs)
    assert [(r["key"], r["inspections"]) for r in summary["by_inspector"]] == [("李某", 3), ("王某", 3)]
    assert [(r["key"], r["inspections"]) for r in summary["by_site"]] == [("S0", 2), ("S1", 2), ("S2", 2)]
    assert 'id="t-by_inspector"' in html and 'id="t-by_site"' in html
    # without inspectors or site ids there is no such table
    summary, html = _report(tmp_path / "b", demo_rules, [demo()])
    assert summary["by_inspector"] == [] and 'id="t-by_inspector"' not in html


def test_labels_are_never_cut():
    label = "《化工和危险化学品生产经营单位重大生产安全事故隐患判定标准（试行）》第（十八）项"
    svg = bar_chart([(label, 3)])
    assert label in svg and "…" not in svg
    width = int(re.search(r'width="(\d+)"', svg).group(1))
    assert width > len(label) * 11  # the label column is as wide as the label
