"""The coverage documents list every rule of their pack, and the examples' determinations match them."""

import json
import os
import re

import pytest

from safetyrules import load_rules
from safetyrules.loader import discover_packs
from tests.conftest import EXAMPLES, ROOT

COVERAGE = {
    name: f"{name}.md"
    for name in ("mining", "hazchem", "construction", "industry-trade", "city-gas", "power", "civil-explosives")
}


def _text(pack):
    with open(os.path.join(ROOT, "docs", "coverage", COVERAGE[pack]), encoding="utf-8") as fh:
        return fh.read()


@pytest.fixture(scope="module", params=sorted(COVERAGE))
def pack(request):
    return request.param, load_rules(discover_packs()[request.param])


def test_every_rule_is_in_the_coverage_document(pack):
    name, rules = pack
    text = _text(name)
    listed = set(re.findall(r"[a-z0-9-]+(?:\.[A-Za-z0-9_]+)+", text))
    missing = sorted(rid for rid in rules.ir.rules if rid not in listed)
    assert missing == []


def test_example_determinations_are_in_the_coverage_documents():
    all_rules = {name: load_rules(discover_packs()[name]) for name in COVERAGE}
    checked = 0
    for file in sorted(f for f in os.listdir(EXAMPLES) if f.endswith(".json")):  # one record per file; .jsonl are audit data sets
        with open(os.path.join(EXAMPLES, file), encoding="utf-8") as fh:
            record = json.load(fh)
        for name, rules in all_rules.items():
            if record["site"]["industry"] not in rules.ir.vocabularies:
                continue
            report = rules.evaluate(record)
            text = _text(name)
            for d in report.determinations:
                assert f"`{d.rule_id}`" in text, (file, d.rule_id)
                checked += 1
    assert checked > 20


def test_the_coverage_document_names_no_rule_that_does_not_exist(pack):
    name, rules = pack
    modules = {m.id for m in rules.modules}
    cited = {
        tok
        for tok in re.findall(r"`([a-z0-9-]+\.[A-Za-z0-9_.]+)`", _text(name))
        if tok.split(".")[0] in modules and not tok.endswith(".yaml")
    }
    assert sorted(cited - set(rules.ir.rules)) == []


def test_partly_encoded_standard_is_announced_from_its_effective_date():
    """AQ 3067—2026 is encoded as metadata only: records judged on or after 2026-09-30 say so."""
    rules = load_rules(discover_packs()["hazchem"])
    with open(os.path.join(EXAMPLES, "chemical-plant.json"), encoding="utf-8") as fh:
        record = json.load(fh)
    before = rules.evaluate(dict(record, inspection_date="2026-09-29"))
    after = rules.evaluate(dict(record, inspection_date="2026-09-30"))
    assert [n.code for n in before.notices] == []
    notice = next(n for n in after.notices if n.code == "PARTIALLY-ENCODED")
    assert "AQ 3067—2026" in notice.message
    # nothing of AQ 3067 was applied: the report says so instead of listing it as applied
    assert [m["id"] for m in after.modules_applied] == ["hazchem-2017"]


def test_a_record_only_an_unencoded_document_covers_is_not_reported_compliant():
    """Before 2023-05-15 the 工贸 criteria in force were the 2017 text, which is not encoded."""
    rules = load_rules(discover_packs()["industry-trade"])
    with open(os.path.join(EXAMPLES, "metallurgy-plant.json"), encoding="utf-8") as fh:
        record = json.load(fh)
    before = rules.evaluate(dict(record, inspection_date="2023-05-14"))
    assert before.status == "no_applicable_criteria" and before.modules_applied == ()
    assert any(n.code == "PARTIALLY-ENCODED" and "安监总管四〔2017〕129号" in n.message for n in before.notices)
    after = rules.evaluate(dict(record, inspection_date="2023-05-15"))
    assert after.status == "major_hazard_found" and "it-2017" not in [m["id"] for m in after.modules_applied]
