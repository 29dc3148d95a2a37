"""The form description: the checklist's grouping (module → category → item), facts asked once per
industry with who reads them, scopes and applicability facts, lists with their item fields."""

import os
from datetime import date

import pytest

from safetyrules import load_rules
from safetyrules.checklist import build_view
from safetyrules.service.form import FORM_VERSION, FormError, form_description
from tests.conftest import RULES


@pytest.fixture(scope="module")
def trade():
    return load_rules(os.path.join(RULES, "industry-trade"))


def facts_of(form, industry):
    ind = next(i for i in form["industries"] if i["id"] == industry)
    return {f["name"]: f for f in ind["facts"]}, ind


def test_items_follow_the_checklist(service_rules):
    form = form_description(service_rules, "mining")
    view = build_view(service_rules.ir, "mining")
    assert form["form_version"] == FORM_VERSION
    assert [m["id"] for m in form["modules"]] == [mv.module.id for mv in view.modules]
    for m, mv in zip(form["modules"], view.modules):
        assert [i["rule_id"] for c in m["categories"] for i in c["items"]] == [
            iv.rule.id for cv in mv.categories for iv in cv.items
        ]
    orders = [i["order"] for m in form["modules"] for c in m["categories"] for i in c["items"]]
    assert orders == list(range(len(orders)))


def test_date_and_industry_narrow_the_modules(service_rules):
    form = form_description(service_rules, "mining", as_of=date(2026, 6, 30), industry="coal_mine")
    assert [m["id"] for m in form["modules"]] == ["coal-mine-2020"]
    assert [i["id"] for i in form["industries"]] == ["coal_mine"]
    assert form["industries"][0]["name"] == {"zh": "煤矿", "en": "coal mines"}
    assert form["industries"][0]["modules"] == ["coal-mine-2020"]
    with pytest.raises(
        FormError, match="industry 'bakery' is not in pack 'mining' \\(its industries: coal_mine, metal_nonmetal_mine\\)"
    ):
        form_description(service_rules, "mining", industry="bakery")
    with pytest.raises(FormError, match="pack 'power' is not loaded \\(loaded packs: mining, construction\\)"):
        form_description(service_rules, "power")


def test_a_shared_fact_is_described_once_with_every_rule_reading_it(service_rules):
    form = form_description(service_rules, "mining", as_of=date(2026, 9, 16), industry="coal_mine")
    facts, ind = facts_of(form, "coal_mine")
    items = {i["rule_id"]: i for m in form["modules"] for c in m["categories"] for i in c["items"]}
    readers = [rid for rid, item in items.items() if "mine_type" in item["facts"]]
    assert len(readers) > 50 and facts["mine_type"]["read_by"] == readers
    # every fact an item reads is described, and every description names only items that read it
    for rid, item in items.items():
        for name in item["facts"]:
            assert rid in facts[name]["read_by"]
    for f in facts.values():
        assert all(name in items[rid]["facts"] for rid in f["read_by"] for name in [f["name"]])
    # site attributes first, in the pack's order
    names = [f["name"] for f in ind["facts"]]
    assert names[:3] == ["mine_type", "mine_status", "gas_class"] and ind["attributes"] == names[:3]
    first_plain = next(i for i, f in enumerate(ind["facts"]) if not f["site"])
    assert all(not f["site"] for f in ind["facts"][first_plain:])


def test_types_units_values_and_bounds(service_rules):
    form = form_description(service_rules, "mining", as_of=date(2026, 9, 16), industry="coal_mine")
    facts, _ = facts_of(form, "coal_mine")
    mine_type = facts["mine_type"]
    assert mine_type["type"] == "enum" and mine_type["site"] is True
    assert {"value": "underground", "label": mine_type["values"][0]["label"]} in mine_type["values"]
    assert all(v["label"]["zh"] for v in mine_type["values"])
    faces = facts["working_faces"]
    assert faces["type"] == "list" and faces["key"] == "id" and faces["fields"][0]["name"] == "id"
    air = next(f for f in faces["fields"] if f["name"] == "air_actual_m3_min")
    assert air["unit"] == "m3/min" and air["type"] in ("number", "integer") and "coal-mine-2026.a8.i1.s2" in air["read_by"]
    assert facts["annual_output_t"]["unit"] == "t" and facts["annual_output_t"]["label"]["zh"]
    counts = next(f for f in facts["mining_districts"]["fields"] if f["name"] == "working_coal_faces_count")
    assert counts["type"] == "integer" and counts["minimum"] == 0


def test_items_carry_citation_condition_applicability_and_list(service_rules):
    form = form_description(service_rules, "mining", as_of=date(2026, 9, 16), industry="coal_mine")
    module = form["modules"][0]
    items = {i["rule_id"]: i for c in module["categories"] for i in c["items"]}
    item = items["coal-mine-2026.a8.i1.s2"]
    assert item["citation"]["rendered"] == "《煤矿重大事故隐患判定标准》第八条第（一）项"
    assert item["for_each"]["list"] == "working_faces" and item["for_each"]["label"].startswith("采掘工作面")
    assert item["applies_if"] == "mine_type == 'underground'" and item["applies_if_facts"] == ["mine_type"]
    assert item["fields"]["working_faces"] == ["id", "air_actual_m3_min", "air_required_m3_min"]
    assert item["thresholds"][0]["term"] == "小于" and item["thresholds"][0]["reading"] == "exclusive"
    # the facts that decide applicability are asked by the module before its items; lists are named
    assert module["asks"][0] == "mine_type" and "working_faces" in module["lists"]
    category = next(c for c in module["categories"] if c["id"] == "a8")
    assert category["title"]["zh"] == "通风系统不完善、不可靠"


def test_module_scopes_and_the_facts_that_decide_them(trade):
    form = form_description(trade, "industry-trade", as_of=date(2026, 1, 1))
    modules = {m["id"]: m for m in form["modules"]}
    assert "it-2017" not in modules  # not in force on that date
    assert modules["it-dust-2023"]["scope"] == {"condition": "dust_explosion_area == true", "facts": ["dust_explosion_area"]}
    assert modules["it-general-2023"]["scope"] is None
    facts, ind = facts_of(form, "industry_trade")
    assert facts["it_sector"]["scope_of"] == [
        "it-building-materials-2023",
        "it-light-industry-2023",
        "it-machinery-2023",
        "it-metallurgy-2023",
        "it-nonferrous-2023",
        "it-textile-2023",
        "it-tobacco-2023",
    ]
    assert "dust_removal_systems" in modules["it-dust-2023"]["lists"]
    assert ind["attributes"][0] == "it_sector"


def test_items_carry_their_exceptions_and_presumptions(demo_rules):
    form = form_description(demo_rules, "demo")
    items = {i["rule_id"]: i for m in form["modules"] for c in m["categories"] for i in c["items"]}
    [exception] = items["demo-capacity-2026.a4.i1"]["exceptions"]
    assert exception["text"] == "衰老矿井除外" and exception["condition"] == "ageing_mine"
    assert exception["presumed"]["ageing_mine"]["value"] is False
    assert "ageing_mine" in items["demo-capacity-2026.a4.i1"]["facts"]  # asked: the form can record it
    assert items["demo-capacity-2026.a5.i2"]["exceptions"] == []
