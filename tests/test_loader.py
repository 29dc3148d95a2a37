"""Loading: every error in one pass, each as path:line:col: CODE message."""

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safetyrules import LoadError, load_rules
from safetyrules.loader import read_module
from tests.helpers import module_text, write_module


def load_errors(path):
    with pytest.raises(LoadError) as info:
        load_rules(path)
    return info.value.diagnostics


def write(tmp_path, text, name="m.yaml"):
    path = os.path.join(str(tmp_path), name)
    with open(path, "wb") as fh:
        fh.write(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def test_demo_pack_loads(demo_rules):
    assert {m.id for m in demo_rules.modules} == {"demo-capacity-2020", "demo-capacity-2026", "demo-province-supplement-2026"}


def test_misspelt_key_with_did_you_mean_and_position(tmp_path):
    text = module_text({"x": {"type": "number"}}, [("r1", "x > 1")]).replace("  series: t\n", "  serie: t\n")
    diags = load_errors(write(tmp_path, text))
    codes = {(d.code, d.location.line, d.location.column) for d in diags}
    assert ("E-SCHEMA-KEY", 4, 3) in codes
    assert any("did you mean 'series'" in d.message for d in diags)


def test_all_errors_reported_in_one_pass(tmp_path):
    text = module_text(
        {"output_t": {"type": "number", "unit": "t"}},
        [("r1", "outpt_t > 1"), ("r2", "output_t > 5%"), ("r3", "output_t >")],
    )
    diags = load_errors(write(tmp_path, text))
    codes = sorted(d.code for d in diags)
    assert codes == ["E-SYNTAX", "E-UNIT", "E-UNKNOWN-FACT"]  # syntax and type errors together
    syntax = next(d for d in diags if d.code == "E-SYNTAX")
    assert text.splitlines()[syntax.location.line - 1].count('"output_t >"') == 1
    text = text.replace('"output_t >"', '"output_t > 2"')
    diags = load_errors(write(tmp_path, text))
    codes = sorted(d.code for d in diags)
    assert codes == ["E-UNIT", "E-UNKNOWN-FACT"]
    unit = next(d for d in diags if d.code == "E-UNIT")
    assert "5%" in text.splitlines()[unit.location.line - 1]
    unknown = next(d for d in diags if d.code == "E-UNKNOWN-FACT")
    assert "did you mean 'output_t'" in unknown.message
    assert str(unknown).startswith(f"{unknown.location.path}:{unknown.location.line}:")


def test_expression_error_points_inside_a_folded_block(tmp_path):
    text = module_text({"a": {"type": "number"}, "b": {"type": "number"}}, []) + (
        "  - id: r1\n"
        "    citation: {article: 4, item: 1}\n"
        "    title: {zh: t, en: t}\n"
        "    severity: major\n"
        "    when: >-\n"
        "      a > 1\n"
        "      and bb > 2\n"
    )
    text = text.replace("rules:\n", "rules:\n", 1)
    diags = load_errors(write(tmp_path, text))
    d = diags[0]
    assert d.code == "E-UNKNOWN-FACT"
    lines = text.splitlines()
    assert lines[d.location.line - 1].strip() == "and bb > 2"
    assert lines[d.location.line - 1][d.location.column - 1 :].startswith("bb")


def test_a_derived_fact_that_does_not_parse_is_reported_once(tmp_path):
    path = write_module(
        tmp_path,
        facts={"a": {"type": "number"}},
        derived={"ratio": "a /"},
        rules=[("r1", "ratio > 1"), ("r2", "b > 1")],
    )
    diags = load_errors(path)
    assert sorted(d.code for d in diags) == ["E-SYNTAX", "E-UNKNOWN-FACT"]
    assert "'b'" in next(d for d in diags if d.code == "E-UNKNOWN-FACT").message


def test_cyclic_derived_facts(tmp_path):
    path = write_module(
        tmp_path,
        facts={"a": {"type": "number"}},
        derived={"x": "y + 1", "y": "z + a", "z": "x * 2"},
        rules=[("r1", "x > 1")],
    )
    diags = load_errors(path)
    assert diags[0].code == "E-CYCLE"
    assert "x -> y -> z -> x" in diags[0].message


def test_conflicting_fact_declarations_across_modules(tmp_path):
    write_module(tmp_path, "a.yaml", id="a", series="a", facts={"x": {"type": "number", "unit": "t"}}, rules=[("ra", "x > 1")])
    write_module(tmp_path, "b.yaml", id="b", series="b", facts={"x": {"type": "number", "unit": "m"}}, rules=[("rb", "x > 1")])
    diags = load_errors(str(tmp_path))
    assert [d.code for d in diags] == ["E-FACT-CONFLICT"]


def test_duplicate_rule_ids(tmp_path):
    diags = load_errors(write_module(tmp_path, facts={"x": {"type": "number"}}, rules=[("r", "x > 1"), ("r", "x > 2")]))
    assert diags[0].code == "E-DUPLICATE-ID"


@pytest.mark.parametrize(
    "content, code",
    [
        ("a: [1, 2\n", "E-YAML"),
        ("a: !!python/object/apply:os.system ['echo hi']\n", "E-YAML-TAG"),
        ("a: 1\na: 2\n", "E-DUPLICATE-KEY"),
        (b"schema_version: 1\nmodule: \xff\xfe\n", "E-ENCODING"),
        ("- 1\n- 2\n", "E-SCHEMA"),
        ("x: " + "[" * 200 + "]" * 200 + "\n", "E-TOO-DEEP"),
    ],
)
def test_bad_documents(tmp_path, content, code):
    diags = load_errors(write(tmp_path, content))
    assert diags[0].code == code
    assert diags[0].location.path.endswith("m.yaml")


@pytest.mark.parametrize(
    "content", ["x: " + "[" * 100000 + "]" * 100000 + "\n", "a:\n" + "".join(" " * (i + 1) + f"k{i}:\n" for i in range(3000))]
)
def test_absurd_nesting_is_refused_before_parsing(tmp_path, content):
    diags = load_errors(write(tmp_path, content))
    assert diags[0].code == "E-TOO-DEEP"


def test_alias_expansion_is_bounded(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 10)}]")
    diags = load_errors(write(tmp_path, "\n".join(lines) + "\n"))
    assert diags[0].code == "E-TOO-LARGE"


def test_huge_file_is_refused(tmp_path):
    diags = load_errors(write(tmp_path, "# " + "x" * (9 * 1024 * 1024) + "\n"))
    assert diags[0].code == "E-TOO-LARGE"


def test_unknown_pack_name_suggests():
    with pytest.raises(LoadError) as info:
        load_rules("dem")
    assert "did you mean 'demo'" in str(info.value)


def test_citation_rendering(demo_rules):
    rule = demo_rules.ir.rules["demo-capacity-2026.a4.i1"].rule
    assert rule.citation.rendered == "《示例矿井重大隐患判定标准》第四条第（一）项"


@pytest.mark.parametrize(
    "citation, rendered",
    [
        ({"article": 6, "item": 2, "sub_item": 3}, "第六条第（二）项第3目"),
        ({"article": 16}, "第十六条"),
        ({"item": 12}, "第（十二）项"),
        ({"section": "一", "item": 20, "sub_item": 3}, "一、（二十）3"),
        ({"clause": "5.1.3"}, "5.1.3"),
        ({"article": 21, "item": 10}, "第二十一条第（十）项"),
    ],
)
def test_citation_forms(citation, rendered):
    from safetyrules.model import Citation

    assert Citation("标准", "1号", **citation).locator == rendered


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300))
def test_arbitrary_text_never_crashes_the_loader(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("fuzz") / "m.yaml"
    path.write_text(text, encoding="utf-8")
    source, diags = read_module(str(path))
    assert source is not None or diags
    for d in diags:
        assert d.code.startswith("E-")


# ------------------------------------------------------------------ limits (issue 12)


def _load_diagnostics(path):
    """load_rules and lint (load_ir) alike: the same located errors, never a Python exception."""
    from safetyrules.compiler import load_ir

    with pytest.raises(LoadError) as first:
        load_rules(path)
    with pytest.raises(LoadError) as second:
        load_ir([path])
    assert [str(d) for d in first.value.diagnostics] == [str(d) for d in second.value.diagnostics]
    return first.value.diagnostics


@pytest.mark.parametrize("terms", [61, 200, 500, 1500])
def test_a_long_flat_sum_is_a_located_limit_error(tmp_path, terms):
    facts = {f"x{i}": {"type": "number"} for i in range(20)}
    text = module_text(facts, [("r1", " + ".join(f"x{i % 20}" for i in range(terms)) + " > 1")])
    [d] = _load_diagnostics(write(tmp_path, text))
    assert d.code == "E-SYNTAX" and "nested" in d.message and "limit is 60" in d.message
    assert d.location.line == text.splitlines().index(next(l for l in text.splitlines() if '"r1"' in l)) + 1


def test_a_sum_at_the_limit_loads_and_decides_on_every_backend(tmp_path):
    facts = {f"x{i}": {"type": "number"} for i in range(20)}
    text = module_text(facts, [("r1", " + ".join(f"x{i % 20}" for i in range(59)) + " > 58")])
    rules = load_rules(write(tmp_path, text))
    record = {
        "record_id": "r",
        "inspection_date": "2024-05-01",
        "site": {"industry": "demo"},
        "facts": {f"x{i}": 1 for i in range(20)},
    }
    for backend in (rules, rules.with_backend("native", compiled=False), rules.with_backend("interpreter")):
        assert backend.evaluate(record).matched_rule_ids == ("r1",)


@pytest.mark.parametrize("chain", [33, 300, 1000])
def test_a_long_chain_of_derived_facts_is_a_located_limit_error(tmp_path, chain):
    derived = {f"d{i}": (f"d{i - 1} + 1" if i else "x + 1") for i in range(chain)}
    text = module_text({"x": {"type": "number"}}, [("r1", f"d{chain - 1} > 1")], derived=derived)
    diags = _load_diagnostics(write(tmp_path, text))
    assert [d.code for d in diags] == ["E-LIMIT"]
    assert "more than 32 derived facts" in diags[0].message and diags[0].location.line > 1


def test_a_chain_of_32_derived_facts_loads(tmp_path):
    derived = {f"d{i}": (f"d{i - 1} + 1" if i else "x + 1") for i in range(32)}
    rules = load_rules(write(tmp_path, module_text({"x": {"type": "number"}}, [("r1", "d31 > 32")], derived=derived)))
    record = {"record_id": "r", "inspection_date": "2024-05-01", "site": {"industry": "demo"}, "facts": {"x": 1}}
    assert rules.evaluate(record).outcome_of("r1") == "matched"  # d31 = x + 32 = 33
    assert rules.evaluate(dict(record, facts={"x": 0})).outcome_of("r1") == "not_matched"  # 32 > 32 is false


def test_a_cycle_through_a_long_chain_is_reported_once(tmp_path):
    derived = {f"d{i}": f"d{(i + 1) % 10} + 1" for i in range(10)}
    diags = _load_diagnostics(write(tmp_path, module_text({"x": {"type": "number"}}, [("r1", "d0 > 1")], derived=derived)))
    assert [d.code for d in diags] == ["E-CYCLE"] and "d0 -> d1" in diags[0].message


def test_a_module_with_too_many_values_is_refused_before_its_nodes_are_built(tmp_path, monkeypatch):
    """A 6 MB module took ~1 GB and 21 s before the node limit refused it: the values are now counted
    on the parser's events (constant memory), and the node graph is never composed."""
    from safetyrules import yamlsafe

    class NoComposing(yamlsafe._LOADER):
        def get_single_node(self):
            raise AssertionError("a document over the limit was composed")

    monkeypatch.setattr(yamlsafe, "_LOADER", NoComposing)
    lines = "".join(f"  f{i}: {{type: number, label: {{zh: a, en: b}}, unit: t}}\n" for i in range(120_000))
    path = write(tmp_path, module_text({}, [("r1", "true")]).replace("facts:\n", "facts:\n" + lines, 1))
    diags = _load_diagnostics(path)
    assert [d.code for d in diags] == ["E-TOO-LARGE"] and "more than 500000 values" in diags[0].message
    assert 40_000 < diags[0].location.line < 120_000  # where the count passed the limit
