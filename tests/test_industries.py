"""Industries belong to packs: a pack declares the industries its records name, a third-party pack can add one."""

import os

import pytest

from safetyrules import LoadError, load_rules
from safetyrules.lint import lint_ir
from safetyrules.schemas import record_schema
from safetyrules.loader import discover_packs
from tests.helpers import module_text

PACKS = discover_packs()

SHIPYARD_MANIFEST = """\
name: {name}
version: 0.1.0
title: {{zh: 船厂, en: shipyards}}
modules: ["*.yaml"]
industries:
  - id: {industry}
    name: {{zh: {zh}, en: shipyards}}
    attributes: [{attributes}]
"""


def make_pack(root, name="shipyard", industry="shipbuilding", zh="船舶修造企业", attributes="yard_kind", module_industry=None):
    folder = os.path.join(str(root), name)
    os.makedirs(folder)
    with open(os.path.join(folder, "pack.yaml"), "w", encoding="utf-8") as fh:
        fh.write(SHIPYARD_MANIFEST.format(name=name, industry=industry, zh=zh, attributes=attributes))
    facts = {
        "yard_kind": {
            "type": "enum",
            "site": True,
            "values": {"repair": {"zh": "修船", "en": "repair"}, "build": {"zh": "造船", "en": "build"}},
        },
        "dock_gas_ppm": {"type": "number", "unit": "ppm", "minimum": 0},
    }
    text = module_text(facts, [(f"{name}.r1", "dock_gas_ppm > 25")], id=f"{name}-mod", series=name)
    text = text.replace("industry: demo", f"industry: {module_industry or industry}")
    with open(os.path.join(folder, "m.yaml"), "w", encoding="utf-8") as fh:
        fh.write(text)
    return folder


def shipyard_record(ppm):
    return {
        "record_id": "s1",
        "inspection_date": "2024-05-01",
        "site": {"industry": "shipbuilding", "attributes": {"yard_kind": "repair"}},
        "facts": {"dock_gas_ppm": ppm},
    }


def test_a_pack_outside_the_repository_declares_a_new_industry(tmp_path):
    rules = load_rules(make_pack(tmp_path))
    assert rules.ir.industries["shipbuilding"].name.zh == "船舶修造企业"
    assert rules.ir.industries["shipbuilding"].attributes == ("yard_kind",)
    assert rules.evaluate(shipyard_record(26)).matched_rule_ids == ("shipyard.r1",)
    assert rules.evaluate(shipyard_record(25)).status == "no_major_hazard_found"
    schema = record_schema(rules.ir)
    industry = schema["properties"]["site"]["properties"]["industry"]
    assert industry["enum"] == ["shipbuilding"] and "船舶修造企业" in industry["description"]
    assert [i["id"] for i in rules.ir.packs[0].to_json()["industries"]] == ["shipbuilding"]


def test_a_module_in_a_pack_must_name_a_declared_industry(tmp_path):
    folder = make_pack(tmp_path, module_industry="shipbuildin")
    with pytest.raises(LoadError) as info:
        load_rules(folder)
    [d] = [d for d in info.value.diagnostics if d.code == "E-UNKNOWN-INDUSTRY"]
    assert "did you mean 'shipbuilding'" in d.message
    assert d.location.path.endswith("m.yaml") and d.location.line == 10  # the module's industry: line


def test_two_packs_share_an_industry_only_with_the_same_definition(tmp_path):
    same = load_rules([make_pack(tmp_path, "yard-a"), make_pack(tmp_path, "yard-b")])
    assert list(same.ir.industries) == ["shipbuilding"]
    with pytest.raises(LoadError) as info:
        load_rules([make_pack(tmp_path, "yard-c"), make_pack(tmp_path, "yard-d", zh="造船厂")])
    [d] = [d for d in info.value.diagnostics if d.code == "E-INDUSTRY-CONFLICT"]
    assert d.location.path.endswith(os.path.join("yard-d", "pack.yaml")) and d.location.line == 6
    assert "yard-c" in d.message


def test_an_industry_attribute_must_be_a_site_fact(tmp_path):
    with pytest.raises(LoadError) as info:
        load_rules(make_pack(tmp_path, attributes="yard_knd"))
    [d] = [d for d in info.value.diagnostics if d.code == "E-INDUSTRY-ATTRIBUTE"]
    assert "did you mean 'yard_kind'" in d.message and d.location.path.endswith("pack.yaml")
    with pytest.raises(LoadError):
        load_rules(os.path.join(make_pack(tmp_path, "other", attributes="dock_gas_ppm")))


def test_a_module_loaded_alone_may_name_an_undeclared_industry_and_lint_says_so(tmp_path):
    folder = make_pack(tmp_path)
    rules = load_rules(os.path.join(folder, "m.yaml"))
    assert rules.ir.industries == {}
    assert rules.evaluate(shipyard_record(30)).matched_rule_ids == ("shipyard.r1",)
    assert [f.code for f in lint_ir(rules.ir) if f.code == "L-INDUSTRY-UNDECLARED"] == ["L-INDUSTRY-UNDECLARED"]
    # an industry that an installed pack declares is not reported
    demo_module = load_rules(os.path.join(os.path.dirname(PACKS["demo"]), "demo", "demo-capacity-2026.yaml"))
    assert [f for f in lint_ir(demo_module.ir) if f.code == "L-INDUSTRY-UNDECLARED"] == []


def test_shipped_packs_declare_every_industry_their_modules_name():
    rules = load_rules(["mining", "hazchem", "construction", "demo"])
    named = {i for cm in rules.ir.modules for i in cm.module.industries}
    assert named == set(rules.ir.industries)
    assert {"coal_mine", "metal_nonmetal_mine", "hazardous_chemicals", "fireworks", "construction", "demo"} <= named
