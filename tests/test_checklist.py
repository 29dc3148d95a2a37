"""``safetyrules docs``: the checklists rendered from packs, and the checked-in copies under docs/checklists/."""

import argparse
import glob
import os
import re
from html.parser import HTMLParser

import pytest

from safetyrules.checklist import (
    build_view,
    pretty_condition,
    render_html,
    render_markdown,
    write_checklists,
)
from safetyrules.cli.docs import add_parser as add_docs_parser
from safetyrules.compiler import load_ir
from safetyrules.expr import ast
from safetyrules.expr.parser import parse
from safetyrules.loader import discover_packs

from .conftest import ROOT, RULES
from .helpers import write_module

CHECKLISTS = os.path.join(ROOT, "docs", "checklists")
PACKS = discover_packs()


@pytest.fixture(scope="module")
def demo_ir():
    return load_ir([os.path.join(RULES, "demo")])


@pytest.fixture(scope="module")
def demo_md(demo_ir):
    return render_markdown(demo_ir, "demo")


@pytest.fixture(scope="module")
def demo_html(demo_ir):
    return render_html(demo_ir, "demo")


# ------------------------------------------------------------------------------------------ content


def test_markdown_item_has_citation_facts_threshold_and_condition(demo_md):
    md = demo_md
    # module header: document, number, issuer, dates, confidence, illustration warning
    assert "《示例矿井重大隐患判定标准》示例令第2号" in md
    assert "示例部（虚构） / Demo Ministry (fictitious)" in md
    assert "2021-01-01 至 2026-06-30" in md
    assert "in force from 2026-07-01" in md
    assert "可信度 Confidence: 高 / high" in md
    assert "示例，非真实文件" in md and "not a real document" in md
    # module -> category -> item
    assert "### 超能力组织生产" in md and "*producing beyond capacity*" in md
    assert "#### ☐ 第四条第（一）项 全年产量超过核定生产能力的110%" in md
    # citation (rendered) and rule id
    assert "《示例矿井重大隐患判定标准》第四条第（一）项（`demo-capacity-2020.a4.i1`）" in md
    # facts to record: labels zh/en, unit
    assert "全年原煤产量 *annual raw-coal output*（`annual_output_t`；数值 number, 单位 unit t" in md
    # derived fact and its expression
    assert "`capacity_ratio = annual_output_t / approved_capacity_t`" in md
    # threshold: term, reading, comparison
    assert "**超过** 110% — 不含本数" in md
    assert "exclusive: a value exactly at the threshold does not count；条件中 in the condition: `capacity_ratio > 110%`" in md
    assert "**达到** 1.0 — 含本数" in md and "`face.ch4_pct >= 1.0`" in md
    # list facts: item fields with their labels and units; enum values; scope
    assert "甲烷浓度 *methane concentration*（`ch4_pct`；数值 number, 单位 unit %, 范围 range 0–100）" in md
    assert "`underground` 井工 underground；`open_pit` 露天 open-pit" in md
    assert "模块适用范围 Module scope: `mine_type == 'underground'`" in md
    assert "(face.ch4_pct >= 1.0) and face.electric_work_continued" in md
    # descriptions are in the module's glossary
    assert "Output of the last full calendar year, from the mine's production statistics." in md


def test_html_item_has_citation_facts_threshold_and_condition(demo_html):
    h = demo_html
    assert "《示例矿井重大隐患判定标准》第四条第（一）项" in h
    assert 'id="r-demo-capacity-2020.a4.i1"' in h
    assert '全年原煤产量 <span class="en">annual raw-coal output</span>' in h
    assert "<strong>超过</strong> 110% — 不含本数" in h
    assert "<code>capacity_ratio &gt; 110%</code>" in h
    assert "<code>face.ch4_pct &gt;= 1.0</code>" in h
    assert "mine_type == &#x27;underground&#x27;" in h
    assert "示例部（虚构） / Demo Ministry (fictitious)" in h


def test_modules_of_a_document_stand_together_in_effective_order(demo_md):
    assert demo_md.index("## 示例矿井重大隐患判定标准（2020）") < demo_md.index("## 示例矿井重大隐患判定标准（2026）")


def _in_order(text, start, labels):
    """The position of each label in text after start, failing if one is missing."""
    positions, at = [], text.index(start)
    for label in labels:
        at = text.index(label, at)
        positions.append(at)
    return positions


def test_both_renderings_show_the_view_models_rows_in_its_order(demo_ir, demo_md, demo_html):
    # the view model decides the rows of a module's header and of an item; each renderer only formats
    view = build_view(demo_ir, "demo")
    rows_seen = 0
    for mv in view.modules:
        header = [r.label for r in mv.rows if r.key != "unverified"]
        assert header[:3] == ["模块 Module", "文件 Document", "发布机关 Issuer"]
        _in_order(demo_md, f"## {mv.module.title.zh}", [f"- {label}: " for label in header])
        _in_order(demo_html, f'id="m-{mv.module.id}"', [f"<dt>{label}</dt>" for label in header])
        item = mv.categories[0].items[0]
        labels = [r.label for r in item.rows]
        assert labels[0] == "依据 Citation" and "判定条件 Condition" in labels
        _in_order(demo_md, f"#### ☐ {item.rule.citation.locator} {item.rule.title.zh}", [f"- {label}" for label in labels])
        _in_order(demo_html, f'id="r-{item.rule.id}"', [f'<span class="field">{label}' for label in labels])
        rows_seen += len(header) + len(labels)
    assert rows_seen > 20


def test_pretty_conditions_parse_back_to_the_same_tree():
    for name in ("demo", "hazchem", "construction"):
        ir = load_ir([PACKS[name]])
        for cr in ir.rules.values():
            for expr in (cr.rule.when, cr.rule.applies_if):
                if expr is None:
                    continue
                text = pretty_condition(expr)
                assert ast.to_source(parse(text)) == ast.to_source(expr), cr.id


def test_unknown_pack_name_is_refused(demo_ir):
    with pytest.raises(ValueError):
        render_markdown(demo_ir, "no-such-pack")


# ------------------------------------------------------------------------------------------ flags and escaping

EXTRA = """\
  confidence:
    level: medium
    notes: Some items not re-read.
    unverified: [t-mod.a]
  completeness: partial
  completeness_notes: Items 7 to 9 are not encoded.
"""


@pytest.fixture()
def tricky_ir(tmp_path):
    path = write_module(
        tmp_path,
        facts={"x": {"type": "number", "unit": "m", "description": "measured <b>here</b> & there"}},
        rules=[
            {
                "id": "t-mod.a",
                "when": "x > 3",
                "title": {"zh": "标题<script>alert(1)</script>", "en": "a & b <i>"},
                "thresholds": [{"fact": "x", "term": "超过"}],
            },
            {"id": "t-mod.b", "when": "x <= 1", "notes": 'x "quoted" <note>'},
        ],
        extra=EXTRA,
    )
    return load_ir([path])


def test_html_escapes_all_text(tricky_ir):
    h = render_html(tricky_ir)
    assert "<script" not in h
    assert "<b>here</b>" not in h and "&lt;b&gt;here&lt;/b&gt;" in h
    assert "标题&lt;script&gt;alert(1)&lt;/script&gt;" in h
    assert "a &amp; b &lt;i&gt;" in h
    assert "&quot;quoted&quot; &lt;note&gt;" in h
    assert "<code>x &gt; 3</code>" in h


def test_unverified_partial_and_confidence_are_flagged(tricky_ir):
    h = render_html(tricky_ir)
    md = render_markdown(tricky_ir)
    # the unverified rule is flagged at the item, the other is not
    item_a = h[h.index('id="r-t-mod.a"') : h.index('id="r-t-mod.b"')]
    item_b = h[h.index('id="r-t-mod.b"') :]
    assert "未核实 UNVERIFIED" in item_a and 'class="item unverified"' in h
    assert "未核实" not in item_b
    md_a = md[md.index("#### ☐ 第四条第（一）项") : md.index("#### ☐ 第四条第（二）项")]
    assert "⚠ 未核实 Unverified" in md_a
    # module header: partial, confidence, unverified list
    for text in (h, md):
        assert "Items 7 to 9 are not encoded." in text
        assert "部分编码 Partly encoded" in text
        assert "Some items not re-read." in text
        assert "中 / medium" in text
    assert "⚠ 未核实条目 Unverified items: `t-mod.a`" in md


# ------------------------------------------------------------------------------------------ HTML page


class _TagChecker(HTMLParser):
    VOID = {"meta", "br", "hr", "img", "link", "input", "wbr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []
        self.errors = []
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
        else:
            self.stack.pop()


def test_html_is_self_contained_and_well_formed(demo_html):
    h = demo_html
    checker = _TagChecker()
    checker.feed(h)
    checker.close()
    assert checker.errors == [] and checker.stack == []
    tags = checker.tags
    assert h.startswith("<!DOCTYPE html>")
    assert not any(t in ("script", "link", "img", "iframe", "object", "embed", "source", "video", "audio") for t, _ in tags)
    for tag, attrs in tags:
        assert "src" not in attrs, tag
        if "href" in attrs:
            # only ordinary links (to the official text) and anchors inside the page; nothing is loaded
            assert tag == "a", tag
    style = h[h.index("<style>") : h.index("</style>")]
    assert "url(" not in style and "@import" not in style and "http" not in style
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//[^"'>]*\.(css|js|woff2?|ttf|png|jpe?g|svg|gif)""", h)
    assert "@media print" in style
    # every in-page link points at an element of the page
    ids = {attrs["id"] for _, attrs in tags if "id" in attrs}
    for _tag, attrs in tags:
        href = attrs.get("href") or ""
        if href.startswith("#"):
            assert href[1:] in ids, href


# ------------------------------------------------------------------------------------------ determinism


def test_output_is_deterministic(demo_ir, demo_md, demo_html):
    again = load_ir([os.path.join(RULES, "demo")])
    assert render_markdown(again, "demo") == demo_md == render_markdown(demo_ir, "demo")
    assert render_html(again, "demo") == demo_html == render_html(demo_ir, "demo")
    # the whole rule set without a pack name is the pack's content too
    assert render_markdown(demo_ir) == demo_md


def test_write_checklists(tmp_path, demo_md, demo_html):
    paths = write_checklists(["demo"], str(tmp_path))
    assert [os.path.basename(p) for p in paths] == ["demo.md", "demo.html"]
    with open(os.path.join(str(tmp_path), "demo.md"), encoding="utf-8", newline="") as fh:
        assert fh.read() == demo_md
    with open(os.path.join(str(tmp_path), "demo.html"), encoding="utf-8", newline="") as fh:
        assert fh.read() == demo_html
    assert write_checklists(["demo"], str(tmp_path / "md-only"), formats=("md",)) == [str(tmp_path / "md-only" / "demo.md")]


# ------------------------------------------------------------------------------------------ the checked-in docs


def _checked_in():
    return sorted(glob.glob(os.path.join(CHECKLISTS, "*.md")) + glob.glob(os.path.join(CHECKLISTS, "*.html")))


def test_checklists_are_checked_in():
    names = {os.path.basename(p) for p in _checked_in()}
    assert {"demo.md", "demo.html"} <= names


@pytest.mark.parametrize("path", _checked_in(), ids=os.path.basename)
def test_checked_in_checklist_is_current(path):
    name, ext = os.path.splitext(os.path.basename(path))
    assert name in PACKS, f"{path} is not the checklist of a shipped pack: remove it"
    ir = load_ir([PACKS[name]])
    fresh = render_markdown(ir, name) if ext == ".md" else render_html(ir, name)
    with open(path, encoding="utf-8", newline="") as fh:
        current = fh.read()
    assert current == fresh, f"{path} is out of date: regenerate with `safetyrules docs {name} -o docs/checklists`"


# ------------------------------------------------------------------------------------------ command line


def _parser():
    parser = argparse.ArgumentParser(prog="safetyrules")
    sub = parser.add_subparsers(dest="command")
    add_docs_parser(sub)
    return parser


def test_docs_command_writes_files(tmp_path, capsys, demo_md):
    args = _parser().parse_args(["docs", "demo", "-o", str(tmp_path), "--format", "md"])
    assert args.func(args) == 0
    assert os.listdir(str(tmp_path)) == ["demo.md"]
    assert capsys.readouterr().out.strip() == str(tmp_path / "demo.md")
    args = _parser().parse_args(["docs", os.path.join(RULES, "demo"), "-o", str(tmp_path)])
    assert args.func(args) == 0
    assert sorted(os.listdir(str(tmp_path))) == ["demo.html", "demo.md"]


def test_docs_command_to_stdout(capsys, demo_html):
    args = _parser().parse_args(["docs", "demo", "-o", "-", "--format", "html"])
    assert args.func(args) == 0
    assert capsys.readouterr().out == demo_html
    args = _parser().parse_args(["docs", "demo", "-o", "-"])
    assert args.func(args) == 2


def test_docs_command_is_wired_into_the_cli(tmp_path):
    from safetyrules.cli import main

    assert main(["docs", "demo", "-o", str(tmp_path), "--format", "html"]) == 0
    assert os.listdir(str(tmp_path)) == ["demo.html"]
    assert main(["docs", "no-such-pack", "-o", str(tmp_path)]) == 2
