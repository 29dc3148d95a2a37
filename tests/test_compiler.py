"""The compiler's part in exceptions and presumptions: what it checks, where it points, and the
conditions it gives the backends."""

import pytest

from safetyrules import LoadError, load_rules
from safetyrules.expr import ast
from tests.helpers import record, write_module

PRESUMED = {"value": False, "reason": {"zh": "例外由主张者证明", "en": "the exception is for its claimant"}, "source": "第四条"}


def _exception(when, **extra):
    return dict({"when": when, "label": {"zh": "例外", "en": "exception"}, "citation": {"article": 4, "item": 1}}, **extra)


def _rules(tmp_path, facts, rules, **kwargs):
    return load_rules(write_module(tmp_path, facts=facts, rules=rules, **kwargs), cache=False)


def test_a_presumption_stands_only_on_a_boolean(tmp_path):
    with pytest.raises(LoadError) as err:
        _rules(tmp_path, {"n": {"type": "number", "presumed": PRESUMED}}, [("r", "n > 1")])
    [d] = [d for d in err.value.diagnostics if d.code == "E-PRESUMPTION"]
    assert "only a boolean" in d.message and d.location.path.endswith("m.yaml") and d.location.line > 0


def test_a_presumption_value_must_be_true_or_false(tmp_path):
    with pytest.raises(LoadError) as err:
        _rules(tmp_path, {"f": {"type": "boolean", "presumed": dict(PRESUMED, value="no")}}, [("r", "f")])
    assert any(d.code.startswith("E-SCHEMA") and "presumed" in d.message + str(d.location) for d in err.value.diagnostics)


def test_an_exception_that_does_not_check_points_into_it(tmp_path):
    rule = {"id": "r", "when": "flag", "unless": [_exception("flag and n")]}
    with pytest.raises(LoadError) as err:
        _rules(tmp_path, {"flag": {"type": "boolean"}, "n": {"type": "number"}}, [rule])
    [d] = err.value.diagnostics
    assert "exception 1" in d.message and d.location.line > 0 and d.location.column > 0


def test_backends_get_when_and_no_exception_with_presumed_reads(tmp_path):
    facts = {"flag": {"type": "boolean"}, "claimed": {"type": "boolean", "presumed": PRESUMED}, "other": {"type": "boolean"}}
    rules = _rules(
        tmp_path, facts, [{"id": "r", "when": "flag", "unless": [_exception("claimed or known(claimed)"), _exception("other")]}]
    )
    rule = rules.ir.rules["r"].rule
    assert ast.to_source(rule.decision) == "flag and (not ((if(known(claimed), claimed, false) or known(claimed)) or other))"
    assert ast.to_source(rule.strict_decision) == "flag and (not ((claimed or known(claimed)) or other))"
    assert [name for name, _ in rule.unless[0].presumed] == ["claimed"] and rule.unless[1].presumed == ()
    assert rules.ir.rules["r"].base_facts == {"flag", "claimed", "other"}  # an exception's facts are read too
    strict = rules.ir.without_presumptions()
    assert strict.presumptions is False and strict.rules["r"].rule.decides is strict.rules["r"].rule.strict_decision
    assert rules.ir.presumptions is True and rules.ir.rules["r"].rule.decides is rule.decision


def test_each_module_presumes_by_its_own_declaration(tmp_path):
    """Two versions of a document may declare one fact with presumptions that cite their own clauses:
    a report cites the clause of the module that judged it."""

    def module(name, id, start, until, source):
        facts = {"flag": {"type": "boolean"}, "claimed": {"type": "boolean", "presumed": dict(PRESUMED, source=source)}}
        rule = {"id": f"{id}.r", "when": "flag", "unless": [_exception("claimed")]}
        return write_module(tmp_path, name=name, facts=facts, rules=[rule], id=id, series="s", start=start, until=until)

    old = module("old.yaml", "s-2020", "2020-01-01", "2025-12-31", "2020年文本第四条")
    new = module("new.yaml", "s-2026", "2026-01-01", "null", "2026年文本第四条")
    rules = load_rules(old, new, cache=False)
    for day, source in (("2024-05-01", "2020年文本第四条"), ("2026-05-01", "2026年文本第四条")):
        [d] = rules.evaluate(record({"flag": True}, date=day)).determinations
        assert [(p.fact, p.source) for p in d.presumptions] == [("claimed", source)]
