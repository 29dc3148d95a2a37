"""The schemas' quick yes/no check: a yes must be jsonschema's yes (then the loader skips jsonschema)."""

import copy
import glob
import os
import random

import pytest
from jsonschema import Draft202012Validator

from safetyrules import fastschema, loader
from safetyrules.yamlsafe import load_yaml_text

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODULE_FILES = sorted(
    p
    for p in glob.glob(os.path.join(ROOT, "rules", "**", "*.yaml"), recursive=True)
    if os.path.basename(p) != "pack.yaml" and "/tests/" not in p.replace(os.sep, "/")
)
MANIFESTS = sorted(glob.glob(os.path.join(ROOT, "rules", "**", "pack.yaml"), recursive=True))


def read(path):
    with open(path, encoding="utf-8") as fh:
        return loader.jsonable(load_yaml_text(fh.read(), path)[0])


def full(schema):
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


@pytest.fixture(scope="module")
def module_check():
    check = fastschema.compile_check(loader.module_schema())
    assert check is not None, "the module schema uses a keyword the quick check does not know: every load pays jsonschema"
    return check


def test_every_shipped_module_and_manifest_passes_both(module_check):
    validator = full(loader.module_schema())
    assert MODULE_FILES and MANIFESTS
    for path in MODULE_FILES:
        doc = read(path)
        assert validator.is_valid(doc), path
        assert module_check(doc) is True, path
    manifest_check = fastschema.compile_check(loader._MANIFEST_SCHEMA)
    assert manifest_check is not None
    for path in MANIFESTS:
        doc = read(path)
        assert full(loader._MANIFEST_SCHEMA).is_valid(doc), path
        assert manifest_check(doc) is True, path


def _small(doc, rng):
    """A shipped module cut down to a few facts, derived facts, categories and rules (kept valid)."""
    out = {k: doc[k] for k in ("schema_version", "module", "overlay") if k in doc}
    for section in ("facts", "derived"):
        if doc.get(section):
            names = list(doc[section])
            lists = [n for n in names if doc[section][n].get("type") == "list"]
            keep = set(rng.sample(names, min(3, len(names)))) | set(lists[:1])
            out[section] = {n: doc[section][n] for n in names if n in keep}
    for section in ("categories", "rules"):
        if doc.get(section):
            items = doc[section]
            special = [r for r in items if isinstance(r, dict) and ("for_each" in r or "thresholds" in r)][:2]
            out[section] = rng.sample(items, min(3, len(items))) + special
    return out


def _nodes(value, path=()):
    yield path, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _nodes(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _nodes(v, path + (i,))


POOL = [
    None, True, False, 0, 1, 1.0, 2.5, -1, 0.0, 1000, 10**6, float("nan"), "", "x", "X-1", "a b", "1abc",
    "national", "tighten", "not_applicable", "enum", "list", "number", "major", "minor", "high", "inclusive",
    "2026-02-30", "2026-01-01", "2026-01-01\n", "2026-1-1", "20260101", "CN-BJ", "CN-bj", "1.2.a", "A.1",
    [], [1], ["coal_mine"], ["x", 1], {}, {"zh": "甲", "en": "a"}, {"zh": ""}, {"level": "low"}, {"article": 0},
]  # fmt: skip
#: keys that another key's value makes required or forbidden (if/then/else in the schema)
CONDITIONAL = ["when", "fields", "key", "values", "action", "type"]


def _values_by_key(docs):
    """Every key of the shipped modules with up to 12 values it has somewhere, and values it must not have."""
    seen = {}
    for doc in docs:
        for _, node in _nodes(doc):
            if isinstance(node, dict):
                for k, v in node.items():
                    bucket = seen.setdefault(k, {})
                    if len(bucket) < 12:
                        bucket.setdefault(repr(v)[:200], v)
    out = {k: list(v.values()) for k, v in seen.items()}
    for k in ("effective_from", "effective_until", "issued"):
        out[k] += ["2026-02-30", "2026-13-01", "2026-1-01", "2026-02-28", 20260101]
    return out


def _mutate(doc, rng, by_key):
    """One to three changes: a key set to a value it has elsewhere (or a bad one), a key added that
    another key's value requires or forbids, a key or an item removed, a value replaced by another."""
    doc = copy.deepcopy(doc)
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        nodes = list(_nodes(doc))
        dicts = [v for _, v in nodes if isinstance(v, dict)]
        kind = rng.random()
        if kind < 0.35:
            node = rng.choice(dicts)
            key = rng.choice(list(node) or CONDITIONAL)
            node[key] = copy.deepcopy(rng.choice(by_key.get(key, POOL) + POOL[:3]))
        elif kind < 0.55:
            node = rng.choice(dicts)
            key = rng.choice(CONDITIONAL)
            node[key] = copy.deepcopy(rng.choice(by_key[key]))
        elif kind < 0.7:
            node = rng.choice(dicts)
            if node:
                del node[rng.choice(list(node))]
        else:
            path, value = rng.choice(nodes[1:])
            parent = doc
            for step in path[:-1]:
                parent = parent[step]
            if isinstance(value, list) and value and kind < 0.75:
                del value[rng.randrange(len(value))]
            elif kind < 0.9:
                parent[path[-1]] = copy.deepcopy(rng.choice(POOL))
            else:  # a value from elsewhere in the module: a text where a string goes, a rule where a fact goes...
                parent[path[-1]] = copy.deepcopy(rng.choice(nodes)[1])
    return doc


def test_altered_modules_get_jsonschemas_answer(module_check):
    """A yes of the quick check on a document jsonschema refuses would let a bad module through; a no
    on one it accepts only costs time. On the installed jsonschema the two answer alike."""
    rng = random.Random(16)
    validator = full(loader.module_schema())
    docs = [read(p) for p in MODULE_FILES]
    by_key = _values_by_key(docs)
    bases = [_small(d, rng) for d in docs]
    assert all(validator.is_valid(b) for b in bases)
    answers = {True: 0, False: 0}
    for i in range(3000):
        doc = _mutate(bases[i % len(bases)], rng, by_key)
        expected = validator.is_valid(doc)
        got = module_check(doc)
        assert not (got and not expected), f"quick yes, jsonschema no: {next(validator.iter_errors(doc)).message}"
        assert got == expected, f"quick no, jsonschema yes (slower, not wrong) on {doc}"
        answers[expected] += 1
    assert min(answers.values()) > 300  # both answers well exercised


IF_THEN_ELSE = {"if": {"properties": {"k": {"const": "x"}}}, "then": {"required": ["w"]}, "else": {"not": {"required": ["w"]}}}


@pytest.mark.parametrize(
    "schema, instance, valid",
    [
        ({"const": 1}, 1.0, True),
        ({"const": 1}, True, False),
        ({"const": True}, 1, False),
        ({"const": "1"}, 1, False),
        ({"enum": [None, "a"]}, None, True),
        ({"enum": [None, "a"]}, 0, False),
        ({"type": "integer"}, 3.0, True),
        ({"type": "integer"}, 3.5, False),
        ({"type": "integer"}, True, False),
        ({"type": "number"}, False, False),
        ({"type": ["string", "null"]}, None, True),
        ({"minimum": 1}, 1, True),
        ({"minimum": 1}, 0.999, False),
        ({"minimum": 1}, "0", True),  # bounds apply to numbers only
        ({"maximum": 9}, 9, True),
        ({"maximum": 9}, 9.001, False),
        ({"exclusiveMinimum": 1}, 1, False),
        ({"exclusiveMaximum": 9}, 8.5, True),
        ({"minLength": 1}, "", False),
        ({"minLength": 1}, "区", True),
        ({"pattern": "^[a-z]+$"}, "abc\n", True),  # re.search and $, as jsonschema
        ({"format": "date"}, "2026-02-28", True),
        ({"format": "date"}, "2026-02-29", False),
        ({"format": "date"}, "2026-01-01\n", False),
        ({"format": "date"}, 20260101, True),
        ({"minItems": 1, "items": {"type": "string"}}, [], False),
        ({"items": False}, [], True),
        ({"items": False}, [1], False),
        ({"required": ["a"], "additionalProperties": False, "properties": {"a": {}}}, {"a": 1, "b": 2}, False),
        ({"additionalProperties": {"type": "string"}, "properties": {"n": {"type": "integer"}}}, {"n": 1, "s": "x"}, True),
        ({"additionalProperties": {"type": "string"}}, {"s": 1}, False),
        ({"propertyNames": {"pattern": "^[a-z]+$"}}, {"A": 1}, False),
        ({"minProperties": 1}, {}, False),
        ({"maxProperties": 1}, {"a": 1, "b": 2}, False),
        ({"oneOf": [{"type": "integer"}, {"type": "number"}]}, 1, False),
        ({"oneOf": [{"type": "integer"}, {"type": "string"}]}, 1, True),
        ({"not": {"required": ["a"]}}, {"a": 1}, False),
        (IF_THEN_ELSE, {"k": "x"}, False),
        (IF_THEN_ELSE, {"k": "y"}, True),
        ({"uniqueItems": True}, ["a", "b"], True),
        ({"uniqueItems": True}, ["a", "a"], False),
        ({"uniqueItems": True}, [1, 1.0], False),
        ({"uniqueItems": True}, [1, True], True),
        ({"uniqueItems": True}, [[1, {"a": True}], [1, {"a": True}]], False),
        ({"const": [1, {"a": None}]}, [1.0, {"a": None}], True),
        ({"const": [1, {"a": None}]}, [True, {"a": None}], False),
        ({"enum": [{"a": 1}]}, {"a": 1, "b": 2}, False),
        ({"$defs": {"t": {"type": "string"}}, "properties": {"a": {"$ref": "#/$defs/t"}}}, {"a": 1}, False),
        ({"$defs": {"n": {"type": "array", "items": {"$ref": "#/$defs/n"}}}, "$ref": "#/$defs/n"}, [[[]], []], True),
        ({"$defs": {"n": {"type": "array", "items": {"$ref": "#/$defs/n"}}}, "$ref": "#/$defs/n"}, [[[1]]], False),
    ],
)
def test_keywords_answer_as_jsonschema(schema, instance, valid):
    assert full(schema).is_valid(instance) is valid  # the expectation is jsonschema's
    check = fastschema.compile_check(schema)
    assert check is not None
    assert check(instance) is valid


@pytest.mark.parametrize(
    "schema",
    [
        {"patternProperties": {"^a": {}}},  # a keyword it does not implement
        {"prefixItems": [{}]},
        {"$ref": "https://example.invalid/other.json"},
        {"$ref": "#/$defs/missing"},
        {"format": "email"},
        {"not": {"format": "date"}},  # a date check whose no would have to be exact
        {"properties": {"a": {"$id": "https://example.invalid/a"}}},
        {"type": "decimal"},
        {"not": {"uniqueItems": True}},
    ],
)
def test_unknown_schemas_get_no_quick_check(schema):
    assert fastschema.compile_check(schema) is None


def test_loader_skips_jsonschema_for_a_valid_module_and_reports_as_before_otherwise(tmp_path, monkeypatch):
    from tests.helpers import module_text

    good = module_text({"x": {"type": "number"}}, [("r1", "x > 1")])
    bad = good.replace("  series: t\n", "  serie: t\n").replace('"severity": "major"', '"severity": 3')
    paths = {}
    for name, text in (("good.yaml", good), ("bad.yaml", bad)):
        paths[name] = tmp_path / name
        paths[name].write_text(text, encoding="utf-8")
    diags = loader.read_module(str(paths["bad.yaml"]))[1]
    assert {d.code for d in diags} == {"E-SCHEMA-KEY", "E-SCHEMA-REQUIRED", "E-SCHEMA"}
    with_quick = [str(d) for d in diags]

    def no_jsonschema():
        raise AssertionError("jsonschema ran on a valid module")

    monkeypatch.setattr(loader, "_module_validator", no_jsonschema)
    src, diags = loader.read_module(str(paths["good.yaml"]))
    assert src is not None and diags == []
    monkeypatch.undo()
    monkeypatch.setattr(loader, "_module_quick_check", lambda: None)  # jsonschema alone, as before the check
    assert [str(d) for d in loader.read_module(str(paths["bad.yaml"]))[1]] == with_quick
    assert loader.read_module(str(paths["good.yaml"]))[1] == []
