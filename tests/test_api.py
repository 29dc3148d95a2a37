"""The public API: typed, listed, thread-safe; results match their JSON Schema; packs are found."""

import json
import os
from importlib import resources

import jsonschema
import pytest

import safetyrules
from safetyrules import load_rules
from safetyrules.loader import discover_packs
from safetyrules.schemas import record_schema
from tests.conftest import EXAMPLES, RULES, demo_record
from tests.helpers import in_threads


def result_schema():
    return json.loads(resources.files("safetyrules").joinpath("schemas/result.schema.json").read_text("utf-8"))


def test_public_api_is_listed_and_typed():
    for name in safetyrules.__all__:
        assert hasattr(safetyrules, name), name
    assert resources.files("safetyrules").joinpath("py.typed").is_file()


EXAMPLE_FILES = sorted(f for f in os.listdir(EXAMPLES) if f.endswith(".json"))


@pytest.fixture(scope="module")
def all_rules():
    return load_rules([p for n, p in sorted(discover_packs().items()) if not n.startswith("construction-")])


@pytest.mark.parametrize("name", EXAMPLE_FILES)
def test_examples_validate_against_emitted_record_schema_and_results_against_result_schema(all_rules, name):
    with open(os.path.join(EXAMPLES, name), encoding="utf-8") as fh:
        record = json.load(fh)
    jsonschema.Draft202012Validator(record_schema(all_rules.ir)).validate(record)
    report = all_rules.evaluate(record)
    jsonschema.Draft202012Validator(result_schema()).validate(report.to_json())
    assert report.modules_applied, name


def test_record_schema_rejects_unknown_facts(demo_rules):
    schema = record_schema(demo_rules.ir)
    validator = jsonschema.Draft202012Validator(schema)
    assert not validator.is_valid(demo_record({"no_such_fact": 1}))
    assert schema["properties"]["site"]["properties"]["attributes"]["properties"]["mine_type"]["title"] == "矿井类型"


def test_threads_share_one_ruleset(demo_rules):
    records = [
        demo_record({"annual_output_t": 6500 + i, "approved_capacity_t": 6500, "max_quarter_output_t": i * 10})
        for i in range(300)
    ]
    expected = [json.dumps(demo_rules.evaluate(r).to_json(), sort_keys=True) for r in records]
    results = in_threads(lambda: [json.dumps(demo_rules.evaluate(r).to_json(), sort_keys=True) for r in records])
    assert all(r == expected for r in results)


def test_ruleset_pickles(demo_rules):
    import pickle

    clone = pickle.loads(pickle.dumps(demo_rules.ir))
    from safetyrules.ruleset import RuleSet

    record = demo_record({"annual_output_t": 7150.01, "approved_capacity_t": 6500, "max_quarter_output_t": 1})
    assert RuleSet(clone).evaluate(record).to_json() == demo_rules.evaluate(record).to_json()


def test_third_party_pack_via_entry_point(monkeypatch, tmp_path):
    import shutil
    import sys
    import types

    pack_dir = tmp_path / "thirdparty"
    shutil.copytree(os.path.join(RULES, "demo"), pack_dir)
    manifest = pack_dir / "pack.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace("name: demo", "name: thirdparty-demo"), encoding="utf-8")
    module = types.ModuleType("thirdparty_pack")
    module.PACK_PATH = str(pack_dir)
    monkeypatch.setitem(sys.modules, "thirdparty_pack", module)

    class EntryPoint:
        name = "thirdparty-demo"

        def load(self):
            return module

    import importlib.metadata

    monkeypatch.setattr(
        importlib.metadata, "entry_points", lambda group=None: [EntryPoint()] if group == "safetyrules.packs" else []
    )
    assert discover_packs()["thirdparty-demo"] == str(pack_dir)
    assert {m.id for m in load_rules("thirdparty-demo").modules} >= {"demo-capacity-2026"}


def test_decimal_values_from_python_callers_serialise_like_the_json_ones():
    """Found by the fuzz suite: values given as Decimal were copied into the evidence as Decimal."""
    import json
    import os
    from decimal import Decimal

    from safetyrules import load_rules
    from tests.conftest import ROOT

    with open(os.path.join(ROOT, "examples", "coal-underground-2026.json"), encoding="utf-8") as fh:
        record = json.load(fh)

    def decimal(v):
        if isinstance(v, list):
            return [{k: decimal(x) for k, x in item.items()} if isinstance(item, dict) else decimal(item) for item in v]
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return Decimal(str(v))
        return v

    rules = load_rules("mining")
    plain = rules.evaluate(record).to_json()
    given = dict(record, facts={k: decimal(v) for k, v in record["facts"].items()})
    for backend in ("native", "interpreter"):
        report = rules.with_backend(backend).evaluate(given).to_json()
        json.dumps(report)
        assert [d["evidence"] for d in report["determinations"]] == [d["evidence"] for d in plain["determinations"]]
