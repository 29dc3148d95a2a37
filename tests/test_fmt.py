"""``safetyrules fmt``: canonical layout that keeps values and comments (issue 18, point 8)."""

import glob
import os

import pytest

from safetyrules.cli import main
from safetyrules.fmt import FormatError, format_text
from safetyrules.yamlsafe import load_yaml_text

RULES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "rules")
SHIPPED = sorted(
    f
    for f in glob.glob(os.path.join(RULES, "**", "*.yaml"), recursive=True)
    if os.path.basename(f) != "pack.yaml" and "/tests/" not in f.replace(os.sep, "/")
)

MESSY = """\
# header comment
rules:
  - when: x > 9   # the document says 超过
    severity: major
    title: {en: "more than nine", zh: 超过9人}
    id: t.r1
    citation: {item: 1, article: 4}
facts:
  x: {label: {en: x, zh: x}, type: number}
module:
  version: '2026'
  title: {zh: "测试", en: "inerting, or suppression"}
  id: t
schema_version: 1
"""


def test_key_order_quoting_and_comments():
    out = format_text(MESSY)
    lines = out.splitlines()
    assert lines[0] == "# header comment" and lines[1] == "schema_version: 1"
    assert [l.split(":")[0] for l in lines if l and not l.startswith((" ", "#"))] == [
        "schema_version",
        "module",
        "facts",
        "rules",
    ]
    assert "  - id: t.r1" in lines
    assert "    citation: {article: 4, item: 1}" in lines
    assert "    title: {zh: 超过9人, en: more than nine}" in lines
    assert "    when: x > 9  # the document says 超过" in lines
    assert '  version: "2026"' in lines  # stays a string
    assert '  title: {zh: 测试, en: "inerting, or suppression"}' in lines  # the comma is quoted
    assert load_yaml_text(out, "x")[0] == load_yaml_text(MESSY, "x")[0]
    assert format_text(out) == out


@pytest.mark.parametrize(
    "value", ["no", "2026", "1.10", "a: b", "x #y", "*重要", "&a", "", "null", "- item", "a, b", "2026-07-01"]
)
def test_text_that_yaml_would_misread_is_quoted(value):
    import json

    text = (
        "schema_version: 1\nmodule:\n  notes: "
        + json.dumps(value, ensure_ascii=False)
        + "\n  t: {en: "
        + json.dumps(value, ensure_ascii=False)
        + "}\n"
    )
    out = format_text(text)
    data = load_yaml_text(out, "x")[0]
    assert data["module"]["notes"] == value and data["module"]["t"]["en"] == value


def test_long_text_is_folded_exactly():
    words = " ".join(f"word{i}" for i in range(60))
    out = format_text(f"schema_version: 1\nmodule:\n  completeness_notes: {words}\n")
    assert "  completeness_notes: >-" in out and max(len(l) for l in out.splitlines()) <= 120
    assert load_yaml_text(out, "x")[0]["module"]["completeness_notes"] == words


def test_comment_inside_a_flow_value_spanning_lines_is_kept_on_its_line():
    text = "schema_version: 1\nmodule: {id: a,  # the id\n  series: b}\n"
    assert format_text(text).splitlines()[1:4] == ["module:", "  id: a  # the id", "  series: b"]


def test_unloadable_file_is_refused():
    with pytest.raises(FormatError):
        format_text("module: {id: a\n")


@pytest.mark.parametrize("path", SHIPPED, ids=[os.path.relpath(p, RULES) for p in SHIPPED])
def test_every_shipped_module_formats_to_the_same_values_and_comments(path):
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    out = format_text(text, path)  # raises when a value or a comment would change
    assert format_text(out, path) == out
    assert sum(1 for l in out.splitlines() if "#" in l) >= sum(1 for l in text.splitlines() if l.strip().startswith("#"))


def test_fmt_command_check_diff_and_write(tmp_path, capsys):
    module = tmp_path / "m.yaml"
    module.write_text(MESSY, encoding="utf-8")
    assert main(["fmt", "--check", str(module)]) == 1
    assert "would reformat" in capsys.readouterr().out
    assert main(["fmt", "--diff", str(module)]) == 0
    assert "+schema_version: 1" in capsys.readouterr().out
    assert module.read_text(encoding="utf-8") == MESSY
    assert main(["fmt", str(tmp_path)]) == 0
    assert main(["fmt", "--check", str(module)]) == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("module: {id: a\n", encoding="utf-8")
    assert main(["fmt", str(bad)]) == 2
    assert bad.read_text(encoding="utf-8") == "module: {id: a\n"
