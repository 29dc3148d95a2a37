"""Any JSON value anywhere in a record gives a report or a RecordError, the same on every backend,
and whatever comes out serialises as UTF-8 JSON.

A short run is part of the test suite; a long run is the documented command in docs/reliability.md:
``SAFETYRULES_FUZZ_EXAMPLES=20000 python -m pytest tests/fuzz``.
"""

import json
import os

import pytest
from hypothesis import HealthCheck, given, settings

from safetyrules import RecordError, load_rules
from safetyrules.loader import discover_packs
from tests.fuzz.strategies import hostile_records, json_values, python_values

PACKS = discover_packs()
TESTED = sorted(n for n in PACKS if not (n.startswith("construction-") and "construction" in PACKS))
EXAMPLES = int(os.environ.get("SAFETYRULES_FUZZ_EXAMPLES", "40"))


def outcome(rules, record):
    """What a backend makes of a record: its serialised report, or its error's problems."""
    try:
        report = rules.evaluate(record)
    except RecordError as exc:
        text = json.dumps(exc.to_json(), ensure_ascii=False, allow_nan=False)
        text.encode("utf-8")  # a lone surrogate in a message would fail here
        str(exc).encode("utf-8")
        return ("error", exc.problems)
    data = report.to_json()
    json.dumps(data, ensure_ascii=False, allow_nan=False).encode("utf-8")
    data["engine"].pop("backend")
    return ("report", data)


@pytest.fixture(scope="module", params=TESTED)
def backends(request):
    native = load_rules(PACKS[request.param])
    return [native, native.with_backend("native", compiled=False), native.with_backend("interpreter")]


def test_any_json_value_anywhere(backends):
    ir = backends[0].ir
    for industry in sorted(ir.vocabularies):

        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
        @given(hostile_records(ir, industry))
        def check(record):
            results = [outcome(rules, record) for rules in backends]
            assert results[1] == results[0] and results[2] == results[0]

        check()


def test_python_only_values_anywhere(backends):
    ir = backends[0].ir
    industry = sorted(ir.vocabularies)[0]

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    @given(hostile_records(ir, industry, values=python_values))
    def check(record):
        results = [outcome(rules, record) for rules in backends]
        assert results[1] == results[0] and results[2] == results[0]

    check()


@pytest.fixture(scope="module")
def demo():
    return load_rules(PACKS["demo"])


def test_any_json_value_as_the_whole_record(demo):
    @settings(max_examples=EXAMPLES * 5, deadline=None, suppress_health_check=list(HealthCheck))
    @given(json_values)
    def check(value):
        with pytest.raises(RecordError):
            demo.evaluate(value)

    check()
