"""The loader's hints for YAML pitfalls in the documented flow style (issue 18, point 5)."""

import pytest

from safetyrules.compiler import load_ir
from safetyrules.errors import LoadError
from tests.helpers import HEADER

TITLE = "  title: {zh: 测试, en: test}\n"


def errors_for(tmp_path, title_line):
    text = HEADER.format(id="t-mod", series="t", start="2020-01-01", until="null")
    assert TITLE in text
    path = tmp_path / "m.yaml"
    path.write_text(
        text.replace(TITLE, title_line) + "facts: {x: {type: number, label: {zh: x, en: x}}}\n"
        "rules:\n  - {id: t-mod.r1, citation: {article: 1}, title: {zh: x, en: x}, when: x > 1, severity: major}\n",
        encoding="utf-8",
    )
    with pytest.raises(LoadError) as exc:
        load_ir([str(path)])
    return exc.value.diagnostics


@pytest.mark.parametrize(
    "title_line, code, fragments",
    [
        # the case: an ASCII comma in an unquoted en text
        (
            "  title: {zh: 惰化或抑爆, en: inerting, or suppression}\n",
            "E-SCHEMA-KEY",
            ["unknown key 'or suppression'", "unquoted ','", 'en: "…"'],
        ),
        ("  title: {zh: 测试, en: note: something}\n", "E-YAML", ["': ' inside a plain value"]),
        ("  title: {zh: 测试, en: No. 3 #A}\n", "E-YAML", ["' #' starts a comment"]),
        ("  title: {zh: *重要, en: x}\n", "E-YAML", ["'*' is an alias"]),
        ("  title: {zh: &重要 甲, en: x}\n", "E-YAML", ["'&' an anchor"]),
        ("  title: {zh: 测试, en: no}\n", "E-SCHEMA", ["False is not of type 'string'", "booleans"]),
        ("  title: {zh: 测试, en: 2026}\n", "E-SCHEMA", ["2026 is not of type 'string'", '"2026"']),
        ("  title: {zh: 测试, en: }\n", "E-SCHEMA", ["None is not of type 'string'", "empty"]),
    ],
)
def test_pitfall_has_a_hint_at_its_line(tmp_path, title_line, code, fragments):
    diags = [d for d in errors_for(tmp_path, title_line) if d.code == code]
    assert diags, [str(d) for d in errors_for(tmp_path, title_line)]
    for fragment in fragments:
        assert fragment in diags[0].message
    assert diags[0].location.line in (5, 6)  # the title line (a dropped '}' is noticed on the next)


def test_quoted_values_are_fine_and_unrelated_errors_get_no_hint(tmp_path):
    ok = tmp_path / "ok"
    ok.mkdir()
    text = HEADER.format(id="t-mod", series="t", start="2020-01-01", until="null").replace(
        TITLE, '  title: {zh: "测试", en: "inerting, or suppression: no #1"}\n'
    )
    (ok / "m.yaml").write_text(
        text + "facts: {x: {type: number, label: {zh: x, en: x}}}\n"
        "rules:\n  - {id: t-mod.r1, citation: {article: 1}, title: {zh: x, en: x}, when: x > 1, severity: major}\n",
        encoding="utf-8",
    )
    assert load_ir([str(ok / "m.yaml")]).modules[0].module.title.en == "inerting, or suppression: no #1"
    diags = errors_for(tmp_path, "  title: {zh: 测试, en: test, colour: red}\n")
    assert any("unknown key 'colour'" in d.message and "unquoted" not in d.message for d in diags)
