"""Generated modules and records: every backend gives the reference interpreter's report.

Each example is a module of well-typed generated expressions (derived facts, rules with for_each and
applies_if, sometimes a scope) over a fixed vocabulary, loaded once, and a few generated records
evaluated on every backend. The reports (without the engine's backend name) must be equal, and a
record one backend refuses every backend must refuse with the same error.

``SAFETYRULES_GEN_EXAMPLES`` raises the number of examples (60 by default) and
``SAFETYRULES_GEN_DURABLE_EXAMPLES`` those of durable-rules (10 by default; it is slow), e.g. for a
long run before a release.
"""

import importlib.util
import json
import os
import re
from dataclasses import replace

import yaml

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from safetyrules import load_rules
from safetyrules.errors import LoadError
from safetyrules.expr.types import ANY_UNIT
from tests.conformance.strategies import (
    BASE_TYPES,
    COND,
    FIELD_TYPES,
    CONSTRUCTS,
    FUNCTIONS,
    GeneratedModule,
    Ty,
    expressions,
    Ctx,
    modules,
    records,
)
from tests.helpers import module_text

EXAMPLES = int(os.environ.get("SAFETYRULES_GEN_EXAMPLES", "60"))
DURABLE_EXAMPLES = int(os.environ.get("SAFETYRULES_GEN_DURABLE_EXAMPLES", "10"))
HAS_DURABLE = importlib.util.find_spec("durable_rules_engine") is not None
SETTINGS = dict(
    deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture]
)


def write(tmp_path_factory, generated: GeneratedModule) -> str:
    extra = f"  scope: {_yaml_string(generated.scope)}\n" if generated.scope is not None else ""
    text = module_text(
        generated.facts,
        [r.as_dict() for r in generated.rules],
        id="generated",
        derived={name: expr for name, expr, _ in generated.derived},
        extra=extra,
    )
    path = os.path.join(str(tmp_path_factory.mktemp("generated")), "generated.yaml")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
    return path


def _yaml_string(text: str) -> str:
    return json.dumps(text)  # JSON strings are YAML flow scalars


def load(path: str, generated: GeneratedModule):
    """The module on the native backend; a refusal is a generator bug and fails with the module's text."""
    try:
        rules = load_rules(path)
    except LoadError as exc:
        with open(path, encoding="utf-8") as fh:
            raise AssertionError(f"the generator made a module that does not load:\n{exc}\n\n{fh.read()}") from None
    for name, _, ty in generated.derived:  # the generator's idea of each type is the checker's
        assert _ty_of(rules.ir.derived[name].expr.ty) == ty, name
    return rules


def _ty_of(t) -> Ty:
    if t.kind == "boolean":
        return COND
    if t.kind == "number":
        return Ty("number", t.unit)
    if t.kind == "enum":
        return Ty("enum", values=frozenset(t.values))
    return Ty(t.kind)


def outcome(rules, raw):
    """What a backend makes of a record, with presumptions and strictly: its reports as JSON without the
    backend's name, or its error."""
    try:
        data = rules.evaluate(raw).to_json()
        strict = rules.evaluate(raw, presumptions=False).to_json()
    except Exception as exc:  # a crash is compared too: the assertion names the backend that made it
        return ("error", type(exc).__name__, str(exc))
    data["engine"].pop("backend")
    strict["engine"].pop("backend")
    return ("report", data, strict)


#: How to recognise, in the expressions of one rule, a case a backend lists in exceptions.yaml: a
#: disagreement is excused only when the rules that disagree on their own all show a listed case's
#: construct. Once a case leaves exceptions.yaml its construct is checked again here.
_ARITHMETIC = re.compile(r"[-+*/]")
KNOWN_CONSTRUCTS = {
    "known of an unrecorded fact beside recorded ones": lambda text: "known(" in text,
    "known of an unrecorded fact compared as a value": lambda text: "known(" in text,
    "date chosen by a condition with arithmetic": lambda text: "if(" in text and _ARITHMETIC.search(text),
    "enum chosen by a condition with arithmetic": lambda text: "if(" in text and _ARITHMETIC.search(text),
    "a comparison with arithmetic compared as a value": lambda text: ("==" in text or "!=" in text) and _ARITHMETIC.search(text),
}
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "exceptions.yaml"), encoding="utf-8") as fh:
    EXCEPTIONS = {backend: set(cases or {}) for backend, cases in yaml.safe_load(fh).items()}


def _texts(generated: GeneratedModule, rule) -> str:
    """Everything a rule's outcome depends on, string literals and dates left out."""
    parts = [rule.when, rule.applies_if or "", generated.scope or "", *rule.unless] + [expr for _, expr, _ in generated.derived]
    return re.sub(r"'(?:[^'\\]|\\.)*'", "''", " ".join(parts))


def excused(tmp_path_factory, generated: GeneratedModule, backend: str, raw) -> bool:
    """Whether a disagreement of ``backend`` on ``raw`` comes from cases it lists in exceptions.yaml:
    each rule is evaluated alone, and every rule that still disagrees must show a listed construct."""
    listed = [KNOWN_CONSTRUCTS[name] for name in EXCEPTIONS.get(backend, ()) if name in KNOWN_CONSTRUCTS]
    if not listed:
        return False
    culprits = []
    for rule in generated.rules:
        alone = replace(generated, rules=(rule,))
        native = load(write(tmp_path_factory, alone), alone)
        rules = {
            "native": native,
            "native-python": native.with_backend("native", compiled=False),
            "durable": native.with_backend("durable") if backend == "durable" else None,
        }[backend]
        try:
            if outcome(rules, raw) != outcome(native.with_backend("interpreter"), raw):
                culprits.append(rule)
        finally:
            if backend == "durable":
                rules.close()
    return bool(culprits) and all(any(seen(_texts(generated, r)) for seen in listed) for r in culprits)


def compare(tmp_path_factory, generated: GeneratedModule, reference, others: dict, raws) -> None:
    for raw in raws:
        expected = outcome(reference, raw)
        assert expected[0] == "report" or expected[1] == "RecordError", expected
        for name, rules in others.items():
            got = outcome(rules, raw)
            if got == expected:
                continue
            # the native backend runs the generated Python for what the C evaluator does not take (a
            # module that reads text): where it gives generated Python's answer, that one's list applies
            if name == "native" and got == outcome(others["native-python"], raw):
                name = "native-python"
            assert excused(tmp_path_factory, generated, name, raw), f"{name} differs from the interpreter on {raw}"


@settings(max_examples=EXAMPLES, **SETTINGS)
@given(generated=modules(), raws=st.lists(records(), min_size=1, max_size=5))
def test_native_backends_agree_with_the_interpreter(tmp_path_factory, generated, raws):
    native = load(write(tmp_path_factory, generated), generated)
    others = {"native": native, "native-python": native.with_backend("native", compiled=False)}
    compare(tmp_path_factory, generated, native.with_backend("interpreter"), others, raws)


if HAS_DURABLE:  # durable-rules builds on CPython 3.11 and 3.12 only (docs/durable.md)

    @settings(max_examples=DURABLE_EXAMPLES, **SETTINGS)
    @given(generated=modules(max_rules=3, depth=3), raws=st.lists(records(), min_size=1, max_size=3))
    def test_durable_agrees_with_the_interpreter(tmp_path_factory, generated, raws):
        native = load(write(tmp_path_factory, generated), generated)
        durable = native.with_backend("durable")
        try:
            compare(tmp_path_factory, generated, native.with_backend("interpreter"), {"durable": durable}, raws)
        finally:
            durable.close()


# ------------------------------------------------------------------ the generator itself


def test_the_function_table_names_the_languages_functions():
    from safetyrules.expr.parser import FUNCTIONS as PARSED

    assert set(FUNCTIONS) == PARSED - {"date"}


def test_the_vocabulary_has_every_kind_of_fact():
    kinds = {t.kind for t in BASE_TYPES.values()} | {t.kind for f in FIELD_TYPES.values() for t in f.values()}
    assert kinds == {"condition", "number", "date", "enum", "string"}
    units = {t.unit for t in BASE_TYPES.values() if t.kind == "number"}
    assert len(units) >= 4 and ANY_UNIT not in units


def test_the_generator_covers_every_construct():
    """Over a fixed set of draws (derandomized: the same every run) every construct of the grammar
    comes up, and quantifiers inside quantifiers too."""
    seen = set()
    nested = []

    @settings(max_examples=500, database=None, derandomize=True, **SETTINGS)
    @given(expressions(COND, Ctx(), 4))
    def draw(term):
        seen.update(c for c in CONSTRUCTS if c in term.text)
        if re.search(r" where .*\b(any|all|count)\(\w+ in ", term.text):
            nested.append(term.text)

    draw()
    assert set(CONSTRUCTS) - seen == set()
    assert nested


def test_the_generator_makes_exceptions_that_read_presumed_facts():
    """Exceptions come up, and some read a fact (or item field) that has a presumption, so that the
    presumptive and strict judgements are both compared."""
    presumed = []

    @settings(max_examples=200, database=None, derandomize=True, **SETTINGS)
    @given(modules())
    def draw(generated):
        presumed.extend(t for r in generated.rules for t in r.unless if re.search(r"\bother\b|\.powered\b", t))

    draw()
    assert presumed
