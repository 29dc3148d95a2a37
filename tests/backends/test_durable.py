"""The durable-rules backend: same reports as the native evaluator, and every known durable-rules
fault contained (one regression test each; see docs/durable.md)."""

import builtins
import gc
import json
import os
import subprocess
import sys
import textwrap

import pytest
from hypothesis import HealthCheck, given, settings

from safetyrules import load_rules
from safetyrules.errors import EvaluationError, LoadError, SafetyRulesError
from safetyrules.loader import discover_packs
from tests.helpers import in_threads, record, rules_from, write_module
from tests.strategies import record_strategy, version_dates

durable_rules_engine = pytest.importorskip("durable_rules_engine")

from safetyrules.backends import durable_compile as dc  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PACKS = discover_packs()
TESTED = sorted(n for n in PACKS if not (n.startswith("construction-") and "construction" in PACKS))


L = {"zh": "字段", "en": "field"}


def comparable(report):
    data = report.to_json()
    data["engine"].pop("backend")
    return data


def unordered(data):
    """Native may list not-matched / not-applicable rule ids in another order; the sets must agree."""
    data = dict(data)
    for key in ("not_matched", "not_applicable"):
        if key in data:
            data[key] = sorted(data[key])
    return data


def both(tmp_path, **kwargs):
    native = rules_from(tmp_path, **kwargs)
    return native, native.with_backend("durable")


def run_isolated(code: str, timeout: int = 240) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter with glibc heap checking, so that a crash fails a test
    instead of killing the test run."""
    env = dict(os.environ, MALLOC_CHECK_="3", PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run(
        [sys.executable, "-X", "faulthandler", "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# --------------------------------------------------------------------------- same answers


@pytest.mark.parametrize("name", TESTED)
def test_durable_equals_native_and_interpreter_on_generated_records(name):
    native = load_rules(PACKS[name])
    durable = native.with_backend("durable")
    reference = native.with_backend("interpreter")
    try:
        for industry in sorted(native.ir.vocabularies):

            @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
            @given(record_strategy(native.ir, industry, version_dates(native.ir, industry)))
            def check(raw):
                got = comparable(durable.evaluate(raw))
                assert got == comparable(reference.evaluate(raw))
                assert unordered(got) == unordered(comparable(native.evaluate(raw)))

            check()
    finally:
        durable.close()


def test_shipped_examples_give_the_native_reports():
    import glob

    by_industry = {}
    rulesets = {n: load_rules(PACKS[n]) for n in TESTED}
    for n, r in rulesets.items():
        for industry in r.ir.vocabularies:
            by_industry.setdefault(industry, n)
    durables = {n: r.with_backend("durable") for n, r in rulesets.items()}
    seen = 0
    for path in sorted(glob.glob(os.path.join(ROOT, "examples", "*.json"))):
        with open(path, encoding="utf-8") as fh:
            raw = json.load(fh)
        pack = by_industry.get(raw["site"]["industry"])
        if pack is None:
            continue
        seen += 1
        assert unordered(comparable(durables[pack].evaluate(raw))) == unordered(comparable(rulesets[pack].evaluate(raw)))
    assert seen >= 3


def test_all_packs_loaded_together(tmp_path):
    """One list name may be declared with different fields by different industries (demo and coal)."""
    import glob

    native = load_rules([PACKS[n] for n in TESTED])
    durable = native.with_backend("durable")
    for path in sorted(glob.glob(os.path.join(ROOT, "examples", "*.json"))):
        with open(path, encoding="utf-8") as fh:
            raw = json.load(fh)
        assert unordered(comparable(durable.evaluate(raw))) == unordered(comparable(native.evaluate(raw))), path
    durable.close()


def test_exact_ties(tmp_path):
    native, durable = both(
        tmp_path,
        facts={"a": {"type": "number"}, "b": {"type": "number"}, "c": {"type": "number"}},
        derived={"excess": "a - b * 110%", "ratio": "a / b"},
        rules=[
            ("r1", "excess >= 0"),
            ("r2", "a - b > c"),
            ("r3", "a / b > 110%"),
            ("r4", "(a - b) * 3 == c"),
            ("r5", "a > b * 110%"),
            ("r6", "ratio >= 1.1"),
            ("r7", "a == 7150"),
            ("r8", "c <= 0.3"),
        ],
    )
    report = durable.evaluate(record({"a": 7150, "b": 6500, "c": 650}))
    assert report.outcome_of("r1") == "matched"  # 7150 - 7150 >= 0 exactly
    assert report.outcome_of("r2") == "not_matched"  # 650 > 650 is false
    assert report.outcome_of("r3") == "not_matched"  # 1.1 > 1.1 is false
    assert report.outcome_of("r5") == "not_matched"  # 7150 > 6500 * 110% is false
    assert report.outcome_of("r6") == "matched"  # the derived ratio is exactly 1.1
    assert report.outcome_of("r7") == "matched"
    report = durable.evaluate(record({"a": 1000000.3, "b": 1000000.2, "c": 0.3}))
    assert report.outcome_of("r4") == "matched"  # (0.1) * 3 == 0.3 exactly (not in doubles)
    assert report.outcome_of("r8") == "matched"
    for facts in ({"a": 7150, "b": 6500, "c": 650}, {"a": 7150.000001, "b": 6500}, {"b": 0, "a": 1}, {"c": 0.30000000000000004}):
        assert comparable(durable.evaluate(record(facts))) == comparable(native.evaluate(record(facts)))


def test_rank_codes_are_exact():
    from fractions import Fraction

    lits = [Fraction(1, 10), Fraction(11, 10), Fraction(7150)]
    assert dc.rank_code(lits, 0.1) == 1
    assert dc.rank_code(lits, 0.09999999999999999) == 0
    assert dc.rank_code(lits, 1.1) == 3
    assert dc.rank_code(lits, 1.1000000000000001) == 3  # the same float: its shortest repr is 1.1
    assert dc.rank_code(lits, 7150) == 5
    assert dc.rank_code(lits, 10**30) == 6


def test_three_valued_applies_if_scope_and_items(tmp_path):
    native, durable = both(
        tmp_path,
        facts={
            "kind": {"type": "enum", "values": {"x": {"zh": "x", "en": "x"}, "y": {"zh": "y", "en": "y"}}},
            "n": {"type": "number"},
            "cranes": {
                "type": "list",
                "key": "id",
                "fields": {
                    "id": {"type": "string", "label": L},
                    "load": {"type": "number", "label": L},
                    "ok": {"type": "boolean", "label": L},
                },
            },
        },
        extra="  scope: kind != 'y'\n",
        rules=[
            {"id": "r1", "when": "n > 5", "applies_if": "kind == 'x'"},
            {"id": "r2", "when": "c.load > 100 or not c.ok", "for_each": {"list": "cranes", "as": "c"}},
            {"id": "r3", "when": "c.load > n", "for_each": {"list": "cranes", "as": "c"}, "applies_if": "n > 1"},
        ],
    )
    cases = [
        {},
        {"n": 9},
        {"n": 1, "cranes": []},
        {"kind": "x", "n": 9, "cranes": [{"id": "A", "load": 101}, {"id": "B", "ok": False}, {"id": "C", "load": 5, "ok": True}]},
        {"kind": "y", "n": 9},
        {"kind": "x", "n": 3, "cranes": [{"id": "A"}]},
    ]
    for facts in cases:
        attrs = {}
        assert comparable(durable.evaluate(record(facts, **attrs))) == comparable(native.evaluate(record(facts, **attrs))), facts


# --------------------------------------------------------------------------- durable-rules' faults


def test_ruleset_names_are_unique_per_backend_and_closed_rulesets_are_deleted(tmp_path):
    """Fault: rulesets are process-global and a name cannot be registered twice."""
    native = rules_from(tmp_path, facts={"a": {"type": "number"}}, rules=[("r1", "a > 1")])
    first, second = native.with_backend("durable"), native.with_backend("durable")
    names_first = {rs.name for g in first._backend.rulesets.values() for rs in g}
    names_second = {rs.name for g in second._backend.rulesets.values() for rs in g}
    assert names_first and not names_first & names_second
    assert first.evaluate(record({"a": 2})).outcome_of("r1") == "matched"
    first.close()
    assert all(rs.handle is None for g in first._backend.rulesets.values() for rs in g)
    with pytest.raises(EvaluationError):
        first.evaluate(record({"a": 2}))
    assert second.evaluate(record({"a": 2})).outcome_of("r1") == "matched"
    third = native.with_backend("durable")
    assert third.evaluate(record({"a": 0})).outcome_of("r1") == "not_matched"


def test_facts_that_match_no_rule_are_not_an_error(tmp_path):
    """Fault: assert/post raise MessageNotHandledException when no rule matches."""
    from durable import engine

    with pytest.raises(engine.MessageNotHandledException):
        rs = engine.Ruleset(f"probe-{os.getpid()}-mnh", None, {"r": {"all": [{"m": {"t": "never"}}], "run": lambda c: None}})
        rs.assert_fact({"sid": "1", "id": "f", "t": "other"})
    native, durable = both(
        tmp_path,
        facts={"a": {"type": "number"}, "unused": {"type": "string"}},
        rules=[("r1", "a > 1")],
    )
    for facts in ({}, {"unused": "x"}, {"a": 0}):
        assert comparable(durable.evaluate(record(facts))) == comparable(native.evaluate(record(facts)))


def test_sessions_are_deleted_and_memory_stays_flat(tmp_path):
    """Fault: each session keeps state (0.3-2 MB per record; the 1,024th live session fails)."""
    native, durable = both(
        tmp_path,
        facts={
            "a": {"type": "number"},
            "b": {"type": "number"},
            "items": {
                "type": "list",
                "key": "id",
                "fields": {"id": {"type": "string", "label": L}, "v": {"type": "number", "label": L}},
            },
        },
        derived={"r": "a / b"},
        rules=[("r1", "r > 110%"), {"id": "r2", "when": "i.v > a", "for_each": {"list": "items", "as": "i"}}],
    )
    backend = durable._backend
    raw = record({"a": 7150, "b": 6500, "items": [{"id": str(i), "v": i * 1000} for i in range(5)]})
    for _ in range(200):
        durable.evaluate(raw)
    gc.collect()
    start = durable_backend_rss()
    for _ in range(2000):  # well past durable-rules' 1,024 live sessions
        durable.evaluate(raw)
    gc.collect()
    growth = durable_backend_rss() - start
    assert growth < 8, f"RSS grew by {growth:.1f} MB over 2000 records"
    handle = next(iter(backend.rulesets.values()))[0].handle
    last_sid = str(next(backend._sessions) - 1)
    with pytest.raises(durable_rules_engine.error):
        durable_rules_engine.get_state(handle, last_sid)  # the state of the last record was deleted
    assert comparable(durable.evaluate(raw)) == comparable(native.evaluate(raw))


def durable_backend_rss() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0  # pragma: no cover


def test_large_modules_are_split_below_the_crash_limit(tmp_path):
    """Fault: a ruleset of ~100 rules or more corrupts the heap. Large modules are split into
    rulesets of at most DEFAULT_BUDGET durable rules; a 200-rule synthetic module (and the largest
    shipped module) runs clean under glibc heap checking, while one ruleset of 151 rules crashes."""
    path = _synthetic_module(tmp_path, 200)
    result = run_isolated(_SYNTHETIC_RUN.format(path=path, budget="dc.DEFAULT_BUDGET") + _LARGEST_SHIPPED)
    assert result.returncode == 0 and "OK" in result.stdout, result.stdout + result.stderr[-3000:]
    # the same module in rulesets of up to 150 durable rules: durable-rules fails (error 303, heap corruption)
    result = run_isolated(_SYNTHETIC_RUN.format(path=path, budget="150"))
    assert result.returncode != 0 and "SYNTHETIC OK" not in result.stdout, "durable-rules no longer fails at 150 rules"


_SYNTHETIC_RUN = """
import random
from safetyrules import load_rules
from safetyrules.backends import durable_compile as dc
from safetyrules.backends.durable import DurableBackend
from safetyrules.ruleset import RuleSet
native = load_rules({path!r})
durable = RuleSet(native.ir, compiled=False)
durable._backend, durable._backend_name = DurableBackend(native.ir, budget={budget}), "durable"
sizes = [n for g in durable._backend.ruleset_sizes().values() for n in g]
assert max(sizes) <= {budget} and len(sizes) >= 4, sizes
rnd = random.Random(1)
for i in range(60):
    facts = {{}}
    for name, spec in native.ir.facts.items():
        if rnd.random() < 0.2:
            continue
        kind = spec.type.kind
        facts[name] = (rnd.choice([0, 1, 2, 5, 5.5, 9, 7150, 6500]) if kind == "number" else
                       rnd.choice([True, False]) if kind == "boolean" else rnd.choice("xyzw"))
    raw = {{"record_id": str(i), "inspection_date": "2024-05-01", "site": {{"industry": "demo", "attributes": {{}}}}, "facts": facts}}
    a, b = native.evaluate(raw).to_json(), durable.evaluate(raw).to_json()
    a["engine"].pop("backend"); b["engine"].pop("backend")
    assert a == b, i
print("SYNTHETIC OK", sizes)
"""

_LARGEST_SHIPPED = """
best = None
for pack in ("mining", "hazchem", "construction"):
    try:
        rules = load_rules(pack)
    except Exception:
        continue
    for cm in rules.ir.modules:
        if best is None or len(cm.rules) > len(best[1].rules):
            best = (rules, cm)
rules, cm = best
d = rules.with_backend("durable")
sizes = d._backend.ruleset_sizes()[cm.id]
assert max(sizes) <= dc.DEFAULT_BUDGET
industry = cm.module.industries[0]
for facts in ({}, None):
    raw = {"record_id": "x", "inspection_date": cm.module.effective_from.isoformat(), "site": {"industry": industry}, "facts": facts or {}}
    a, b = rules.evaluate(raw).to_json(), d.evaluate(raw).to_json()
    a["engine"].pop("backend"); b["engine"].pop("backend")
    assert sorted(a["not_matched"]) == sorted(b["not_matched"]) and a["undetermined"] == b["undetermined"]
print("OK", cm.id, len(cm.rules), "rules in", len(sizes), "rulesets")
"""


def test_sessions_in_which_nothing_fires_do_not_crash():
    """Found here: delete_state on a session in which no action ran frees an invalid pointer.
    Every ruleset has an always-firing rule; records with no facts run clean under heap checking."""
    result = run_isolated("""
        from safetyrules import load_rules
        for pack in ("hazchem", "construction", "demo", "mining"):
            try:
                rules = load_rules(pack, backend="durable")
            except Exception as exc:
                print("skip", pack, exc)
                continue
            for industry in rules.ir.vocabularies:
                for cm in rules.ir.modules:
                    raw = {"record_id": "e", "inspection_date": cm.module.effective_from.isoformat(), "site": {"industry": industry}, "facts": {}}
                    rules.evaluate(raw)
        print("OK")
    """)
    assert result.returncode == 0 and "OK" in result.stdout, result.stdout + result.stderr[-3000:]


def test_records_are_facts_so_every_rule_sees_them(tmp_path):
    """Fault: an event is consumed by the first rule that matches it."""
    native, durable = both(
        tmp_path,
        facts={"a": {"type": "number"}},
        rules=[("r1", "a > 1"), ("r2", "a > 2"), ("r3", "a >= 5"), ("r4", "a == 5")],
    )
    report = durable.evaluate(record({"a": 5}))
    assert [d.rule_id for d in report.determinations] == ["r1", "r2", "r3", "r4"]


def test_or_gives_one_determination(tmp_path):
    """Fault: a rule whose condition has an `or` fires once per true branch."""
    native, durable = both(
        tmp_path,
        facts={
            "a": {"type": "number"},
            "b": {"type": "number"},
            "k": {"type": "boolean"},
            "items": {
                "type": "list",
                "key": "id",
                "fields": {
                    "id": {"type": "string", "label": L},
                    "x": {"type": "number", "label": L},
                    "y": {"type": "number", "label": L},
                },
            },
        },
        rules=[
            ("r1", "a > 1 or b > 1 or k"),
            ("r2", "(a > 1 or b > 1) and (a > 0 or b > b * 2)"),
            {"id": "r3", "when": "i.x > 1 or i.y > 1 or i.x > i.y", "for_each": {"list": "items", "as": "i"}},
        ],
    )
    raw = record({"a": 5, "b": 5, "k": True, "items": [{"id": "A", "x": 5, "y": 2}, {"id": "B", "x": 0, "y": 0}]})
    report = durable.evaluate(raw)
    ids = [(d.rule_id, d.item) for d in report.determinations]
    assert ids == [("r1", None), ("r2", None), ("r3", "A")]
    assert comparable(report) == comparable(native.evaluate(raw))


def test_comparisons_are_typed(tmp_path):
    """Fault: durable-rules has no type checking ('abc' > 2 is true). The IR is type-checked, and
    values reach durable-rules only in their declared type (numbers as exact rank codes)."""
    with pytest.raises(LoadError):
        rules_from(tmp_path, facts={"s": {"type": "string"}}, rules=[("r1", "s > 2")], backend="durable")
    probe = f"probe-{os.getpid()}-types"
    handle = durable_rules_engine.create_ruleset(probe, json.dumps({"r": {"all": [{"m": {"$gt": {"v": 2}}}]}}))
    code, state = durable_rules_engine.assert_fact(handle, json.dumps({"sid": "1", "id": "f", "v": "abc"}))
    fired = durable_rules_engine.start_action_for_state(handle, state)
    assert fired is not None  # durable-rules itself does think 'abc' > 2
    durable_rules_engine.complete_and_start_action(handle, state)
    durable_rules_engine.delete_state(handle, "1")
    durable_rules_engine.delete_ruleset(handle)
    native, durable = both(
        tmp_path,
        facts={"s": {"type": "string"}, "n": {"type": "number"}, "flag": {"type": "boolean"}},
        rules=[("r1", "n > 2"), ("r2", "s == '2'"), ("r3", "flag == true"), ("r4", "s != 'abc'")],
    )
    report = durable.evaluate(record({"s": "abc", "n": 2, "flag": True}))
    assert report.outcome_of("r1") == "not_matched"
    assert report.outcome_of("r2") == "not_matched"
    assert report.outcome_of("r3") == "matched"
    assert report.outcome_of("r4") == "not_matched"
    evil = "x'); \"q\\ 中文"
    assert durable.evaluate(record({"s": evil})).outcome_of("r4") == "matched"


def test_consequent_errors_are_raised_not_stored(tmp_path, monkeypatch):
    """Fault: exceptions raised inside a consequent are stored silently in the session state."""
    native, durable = both(
        tmp_path,
        facts={"a": {"type": "number"}, "b": {"type": "number"}},
        derived={"ratio": "a / b"},
        rules=[("r1", "ratio > 110%"), ("r2", "a > b")],
    )
    from safetyrules import interpreter

    real = interpreter.Interpreter.derived

    def broken(self, name):
        raise RuntimeError("boom in a consequent")

    monkeypatch.setattr(interpreter.Interpreter, "derived", broken)
    with pytest.raises(EvaluationError, match="boom in a consequent"):
        durable.evaluate(record({"a": 7150, "b": 6500}))
    monkeypatch.setattr(interpreter.Interpreter, "derived", real)
    raw = record({"a": 7150, "b": 6500})
    assert comparable(durable.evaluate(raw)) == comparable(native.evaluate(raw))  # the session was cleaned up


def test_records_with_more_than_255_facts(tmp_path):
    """Fault: a fact with more than 255 properties fails. Records are asserted as chunk facts."""
    n = 300
    facts = {f"f{i:03d}": {"type": "number"} for i in range(n)}
    rules = [(f"r{i:03d}", f"f{i:03d} > {i}") for i in range(0, n, 3)]
    rules.append(("all", " and ".join(f"f{i:03d} >= 0" for i in range(0, n, 37))))
    native, durable = both(tmp_path, facts=facts, rules=rules)
    assert len(durable._backend.compilation.layout) == n
    assert max(chunk for chunk, _ in durable._backend.compilation.layout.values()) >= 2
    raw = record({name: i + (i % 2) for i, name in enumerate(sorted(facts))})
    report = durable.evaluate(raw)
    assert comparable(report) == comparable(native.evaluate(raw))
    assert report.outcome_of("all") == "matched" and len(report.determinations) > 40


def test_unsupported_python_gives_a_clear_error(monkeypatch, tmp_path):
    """Fault: durable-rules 2.0.28 does not import on Python 3.13."""
    real_import = builtins.__import__

    def fake_import(name, globals=None, locals=None, fromlist=(), level=0):
        if level == 0 and name.split(".")[0] in ("durable", "durable_rules_engine"):
            raise ImportError("undefined symbol: _PyUnicode_Ready (simulated Python 3.13)")
        return real_import(name, globals, locals, fromlist, level)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    native = rules_from(tmp_path, facts={"a": {"type": "number"}}, rules=[("r1", "a > 1")])
    with pytest.raises(SafetyRulesError) as info:
        native.with_backend("durable")
    message = str(info.value)
    assert "3.12" in message and "native" in message and "durable-rules" in message
    assert native.evaluate(record({"a": 2})).outcome_of("r1") == "matched"  # native keeps working


def test_four_threads_give_identical_results():
    rules = load_rules(PACKS["hazchem"])
    durable = rules.with_backend("durable")
    ir = rules.ir
    records = []
    for industry in sorted(ir.vocabularies):
        strategy = record_strategy(ir, industry, version_dates(ir, industry))

        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(strategy)
        def collect(raw):
            records.append(raw)

        collect()
    expected = [comparable(durable.evaluate(raw)) for raw in records]

    def work():
        for _ in range(3):
            result = [comparable(durable.evaluate(raw)) for raw in records]
        return result

    assert all(result == expected for result in in_threads(work))
    assert [unordered(e) for e in expected] == [unordered(comparable(rules.evaluate(raw))) for raw in records]


def _synthetic_module(tmp_path, n_rules, seed=0):
    import random

    rnd = random.Random(seed)
    facts = {}
    for i in range(40):
        facts[f"n{i}"] = {"type": "number"}
    for i in range(20):
        facts[f"b{i}"] = {"type": "boolean"}
    for i in range(20):
        facts[f"e{i}"] = {"type": "enum", "values": {v: {"zh": v, "en": v} for v in "xyzw"}}
    rules = []
    for r in range(n_rules):
        a, b, c = rnd.sample(range(40), 3)
        e, bb = rnd.randrange(20), rnd.randrange(20)
        shape = r % 4
        if shape == 0:
            cond = f"(n{a} > {rnd.randint(1, 9)} or e{e} in ['x', 'y']) and not b{bb}"
        elif shape == 1:
            cond = f"n{a} >= n{b} * 110% and (e{e} == 'z' or b{bb})"
        elif shape == 2:
            cond = f"(n{a} < {rnd.randint(1, 9)} and n{c} > 2) or (e{e} not in ['w'] and b{bb}) or n{b} == 5"
        else:
            cond = f"known(n{a}) and n{a} <= {rnd.randint(1, 9)}.5 and e{e} != 'x'"
        rules.append((f"big.r{r}", cond))
    return write_module(tmp_path, name=f"big{n_rules}.yaml", id="big", facts=facts, rules=rules)
