"""Every shipped example serialises on every date its modules cover (a date in evidence once broke
``check --format json``), and its reports validate against the result schema."""

import json
import os
from datetime import timedelta

import pytest
from jsonschema import Draft202012Validator

from safetyrules import load_rules
from safetyrules.loader import discover_packs
from tests.test_api import result_schema
from tests.conftest import EXAMPLES

PACKS = discover_packs()
TESTED = sorted(n for n in PACKS if not (n.startswith("construction-") and "construction" in PACKS))


@pytest.fixture(scope="module")
def all_rules():
    return load_rules([PACKS[n] for n in TESTED])


def _dates(rules, industry, inspection_date):
    days = {inspection_date}
    for cm in rules.ir.modules:
        if industry in cm.module.industries:
            m = cm.module
            days |= {m.effective_from, m.effective_from - timedelta(days=1)}
            if m.effective_until:
                days |= {m.effective_until, m.effective_until + timedelta(days=1)}
    return sorted(days)


@pytest.mark.parametrize("name", sorted(f for f in os.listdir(EXAMPLES) if f.endswith(".json")))  # .jsonl: audit data
def test_example_serialises_on_every_date_its_modules_cover(all_rules, name):
    with open(os.path.join(EXAMPLES, name), encoding="utf-8") as fh:
        record = json.load(fh)
    validator = Draft202012Validator(result_schema())
    first = all_rules.evaluate(record)
    seen = 0
    for day in _dates(all_rules, record["site"]["industry"], first.inspection_date):
        for rules in (all_rules, all_rules.with_backend("interpreter")):
            data = rules.evaluate(record, as_of=day).to_json()
            text = json.dumps(data, ensure_ascii=False, allow_nan=False)
            text.encode("utf-8")
            errors = [e.message for e in validator.iter_errors(json.loads(text))]
            assert errors == [], (name, day)
            seen += 1
    assert seen >= 4
