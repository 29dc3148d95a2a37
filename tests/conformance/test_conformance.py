"""The language's conformance cases (language.yaml) on every backend, with each backend's list of
what it does not support (exceptions.yaml)."""

import importlib.util
import os

import pytest
import yaml

from safetyrules import load_rules
from tests.conformance.strategies import CONSTRUCTS
from tests.helpers import module_text

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "language.yaml"), encoding="utf-8") as fh:
    SUITE = yaml.safe_load(fh)
with open(os.path.join(HERE, "exceptions.yaml"), encoding="utf-8") as fh:
    EXCEPTIONS = yaml.safe_load(fh)
CASES = SUITE["cases"]
# durable-rules is a test dependency on the Pythons it builds on (pyproject.toml); elsewhere it is not a backend
BACKENDS = ["native", "native-python", "interpreter"] + (["durable"] if importlib.util.find_spec("durable_rules_engine") else [])


def _rule_id(i):
    return f"case{i}"


def _rule(i, case):
    rule = {"id": _rule_id(i), "when": case["expr"]}
    if "unless" in case:
        rule["unless"] = [
            {"when": text, "label": {"zh": f"例外{j}", "en": f"exception {j}"}, "citation": {"article": 4, "item": i + 1}}
            for j, text in enumerate(case["unless"])
        ]
    return rule


@pytest.fixture(scope="module")
def module_path(tmp_path_factory):
    """One module: every case's expression is a rule, so the suite compiles once per backend."""
    folder = tmp_path_factory.mktemp("conformance")
    path = os.path.join(str(folder), "language.yaml")
    rules = [_rule(i, case) for i, case in enumerate(CASES)]
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(module_text(SUITE["vocabulary"], rules, id="conformance"))
    return path


@pytest.fixture(scope="module")
def backends(module_path):
    native = load_rules(module_path)
    out = {
        "native": native,
        "native-python": native.with_backend("native", compiled=False),
        "interpreter": native.with_backend("interpreter"),
    }
    if "durable" in BACKENDS:
        out["durable"] = native.with_backend("durable")
    yield out
    for rules in out.values():
        rules.close()


def test_the_suite_is_well_formed():
    names = [c["name"] for c in CASES]
    assert len(names) == len(set(names))
    assert all(c["expect"] in ("matched", "not_matched", "undetermined") for c in CASES)
    assert all(c.get("strict", "matched") in ("matched", "not_matched", "undetermined") for c in CASES)
    for backend, skipped in EXCEPTIONS.items():
        assert set(skipped or {}) <= set(names), backend
    # every construct of the language has a case
    text = " ".join(c["expr"] + " " + " ".join(c.get("unless", ())) for c in CASES)
    for construct in CONSTRUCTS:
        assert construct in text, construct


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("index", range(len(CASES)), ids=[c["name"] for c in CASES])
def test_case(backends, backend, index):
    case = CASES[index]
    reason = (EXCEPTIONS.get(backend) or {}).get(case["name"])
    record = {"record_id": f"c{index}", "inspection_date": "2024-05-01", "site": {"industry": "demo"}, "facts": case["facts"]}
    if reason:
        try:
            outcome = backends[backend].evaluate(record).outcome_of(_rule_id(index))
        except Exception:  # an unsupported case may crash the backend: that is what the list records
            return
        assert outcome != case["expect"], f"{backend} now supports {case['name']!r}: remove it from exceptions.yaml"
        return
    report = backends[backend].evaluate(record)
    outcome = report.outcome_of(_rule_id(index))
    assert outcome == case["expect"], case["expr"]
    if "evidence" in case:
        [determination] = [d for d in report.determinations if d.rule_id == _rule_id(index)]
        read = {k: v for e in determination.evidence for k, v in e.values}
        assert {k: read.get(k) for k in case["evidence"]} == case["evidence"]
    if "presumed" in case:
        [determination] = [d for d in report.determinations if d.rule_id == _rule_id(index)]
        assert [p.fact for p in determination.presumptions] == case["presumed"]


EXCEPTION_CASES = [i for i, c in enumerate(CASES) if "unless" in c]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("index", EXCEPTION_CASES, ids=[CASES[i]["name"] for i in EXCEPTION_CASES])
def test_case_strictly(backends, backend, index):
    """The same case without presumptions: an exception reading an unrecorded fact stays unknown."""
    case = CASES[index]
    record = {"record_id": f"c{index}", "inspection_date": "2024-05-01", "site": {"industry": "demo"}, "facts": case["facts"]}
    report = backends[backend].evaluate(record, presumptions=False)
    assert report.engine["presumptions"] is False
    assert report.outcome_of(_rule_id(index)) == case.get("strict", case["expect"]), case["expr"]
    assert all(not d.presumptions for d in report.determinations)
