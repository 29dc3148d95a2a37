"""Reading rule modules and pack manifests from YAML into the model, with located diagnostics.

Loading is in two passes. This module does the first, per file: safe YAML with positions, JSON Schema
validation (all errors at once, with a did-you-mean for misspelt keys) and parsing of every expression.
The compiler does the second, across modules: vocabulary merging, type checking, derived-fact cycles.
"""

from __future__ import annotations

import glob
import json
import os
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Dict, FrozenSet, Iterable, List, Optional, Sequence, Set, Tuple

if TYPE_CHECKING:  # imported where used: a start-up served from the cache never validates (safetyrules.cache)
    from jsonschema import Draft202012Validator

from . import expr as expr_lang
from . import fastschema
from .errors import Diagnostic, Location, did_you_mean
from .expr.ast import Expr
from .expr.types import BOOLEAN, DATE, DIMENSIONLESS, ENUM, LIST, NUMBER, STRING, Type
from .model import (
    Category,
    Citation,
    Confidence,
    DerivedFact,
    Document,
    FactSpec,
    ForEach,
    Industry,
    Jurisdiction,
    Module,
    OverlayChange,
    Pack,
    Presumption,
    Rule,
    RuleException,
    Text,
    Threshold,
    default_threshold_reading,
)
from .yaml_hints import type_hint, unknown_key_hint, yaml_error_hint
from .yamlsafe import Path, Positions, YamlError, decode_text, load_yaml_text

MANIFEST_NAME = "pack.yaml"
#: industry ids: what records write as ``site.industry`` (declared by packs, see ``Industry``)
INDUSTRY_ID_PATTERN = "^[a-z][a-z0-9_]*$"


@lru_cache(maxsize=None)
def module_schema() -> Dict[str, Any]:
    """The JSON Schema (draft 2020-12) of rule modules, as shipped in the package."""
    text = resources.files("safetyrules").joinpath("schemas/module.schema.json").read_text("utf-8")
    schema: Dict[str, Any] = json.loads(text)
    return schema


@lru_cache(maxsize=None)
def _module_validator() -> Draft202012Validator:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(module_schema(), format_checker=Draft202012Validator.FORMAT_CHECKER)


@lru_cache(maxsize=None)
def _module_quick_check() -> Optional[fastschema.Check]:
    """The module schema's yes/no check (``fastschema``): a module it accepts has no schema error, so
    jsonschema runs only to report the errors of one it does not."""
    return fastschema.compile_check(module_schema())


def jsonable(value: Any) -> Any:
    """YAML values as JSON sees them (dates become ISO strings) for schema validation."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


class ExprSite:
    """Maps a character offset inside an expression string back to its file line and column.

    Expressions are often folded block scalars (``when: >-``), so the offset is walked across the
    scalar's source lines as YAML joined them.
    """

    def __init__(self, positions: Positions, doc_path: Path, lines: Sequence[str]) -> None:
        self.base = positions.at(doc_path)
        self.lines = lines

    def location(self, offset: int) -> Location:
        base = self.base
        if not base.line or base.line > len(self.lines):
            return base
        raw = self.lines[base.line - 1]
        start = base.column - 1
        segments: List[Tuple[int, int, int]] = []  # (line, first column, length)
        if start < len(raw) and raw[start] in ">|":
            line_no = base.line + 1
            indent = None
            while line_no <= len(self.lines):
                text = self.lines[line_no - 1]
                if not text.strip():
                    line_no += 1
                    continue
                lead = len(text) - len(text.lstrip(" "))
                if indent is None:
                    indent = lead
                if lead < indent:
                    break
                segments.append((line_no, indent + 1, len(text.rstrip()) - indent))
                line_no += 1
        else:
            quoted = start < len(raw) and raw[start] in "'\""
            first_col = start + 2 if quoted else start + 1
            segments.append((base.line, first_col, len(raw) - first_col + 1))
            line_no = base.line + 1
            while line_no <= len(self.lines) and len(segments) < 200:
                text = self.lines[line_no - 1]
                lead = len(text) - len(text.lstrip(" "))
                if not text.strip() or lead < base.column or ":" in text.split("#")[0][: lead + 2]:
                    break
                segments.append((line_no, lead + 1, len(text.rstrip()) - lead))
                line_no += 1
        remaining = offset
        for line_no, col, length in segments:
            if remaining <= length:
                return Location(base.path, line_no, col + remaining)
            remaining -= length + 1
        return base


@dataclass
class ModuleSource:
    """A module file after the first pass: the model with expressions parsed but not yet type-checked."""

    module: Module
    positions: Positions
    raw: Dict[str, Any]
    #: derived facts and rules whose expression did not parse (reported already; left out of the module)
    broken_names: FrozenSet[str] = frozenset()


class _Collector:
    def __init__(self) -> None:
        self.diagnostics: List[Diagnostic] = []

    def add(self, code: str, message: str, location: Location, severity: str = "error") -> None:
        self.diagnostics.append(Diagnostic(code, message, location, severity))


def read_document(path: str, collector: _Collector) -> Tuple[Any, Optional[Positions], Optional[List[str]]]:
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        collector.add("E-IO", f"cannot read file: {exc.strerror}", Location(path))
        return None, None, None
    text = None
    try:
        text = decode_text(data, path)
        value, positions = load_yaml_text(text, path)
    except YamlError as exc:
        collector.diagnostics.append(yaml_error_hint(exc.diagnostic, text.splitlines() if text is not None else None))
        return None, None, None
    return value, positions, text.splitlines()


def _schema_diagnostics(doc: Any, positions: Positions, collector: _Collector) -> bool:
    instance = jsonable(doc)
    quick = _module_quick_check()
    if quick is not None and quick(instance):
        return True
    errors = sorted(_module_validator().iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))
    for err in errors:
        path = tuple(err.absolute_path)
        if err.validator == "additionalProperties":
            allowed = list((err.schema.get("properties") or {}).keys())
            extra = [k for k in err.instance if k not in allowed] if isinstance(err.instance, dict) else []
            for key in extra:
                collector.add(
                    "E-SCHEMA-KEY",
                    f"unknown key {key!r}{did_you_mean(key, allowed)}{unknown_key_hint(key, err.instance[key], allowed)}",
                    positions.at(path + (key,), key=True),
                )
            continue
        if err.validator == "required":
            collector.add("E-SCHEMA-REQUIRED", err.message, positions.at(path))
            continue
        where = "/".join(str(p) for p in path) or "(document)"
        message = err.message
        if err.validator in ("anyOf", "oneOf", "allOf", "if", "then", "else", "not"):
            message = f"{where}: value does not fit any allowed form"
            best = [e for e in (err.context or []) if e.validator not in ("anyOf", "oneOf")]
            if best:
                message += f" ({best[0].message})"
        else:
            message = f"{where}: {message}"
            if err.validator == "type":
                message += type_hint(err.instance, err.validator_value)
        collector.add("E-SCHEMA", message, positions.at(path))
    return not errors


def _text(raw: Dict[str, Any]) -> Text:
    return Text(str(raw["zh"]), str(raw["en"]))


def _date(value: Any) -> Optional[date]:
    if value is None:
        return None
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _fact_type(raw: Dict[str, Any]) -> Type:
    kind = raw["type"]
    if kind in ("number", "integer"):
        return Type(NUMBER, raw.get("unit") or DIMENSIONLESS, integer=(kind == "integer"))
    if kind == "enum":
        return Type(ENUM, values=frozenset(str(v) for v in raw["values"]))
    return Type({"boolean": BOOLEAN, "string": STRING, "date": DATE, "list": LIST}[kind])


def _fact(name: str, raw: Dict[str, Any], module_id: str, location: Location, positions: Positions, path: Path) -> FactSpec:
    fields: Tuple[FactSpec, ...] = ()
    if raw["type"] == "list":
        fields = tuple(
            _fact(fname, fraw, module_id, positions.at(path + ("fields", fname), key=True), positions, path + ("fields", fname))
            for fname, fraw in raw["fields"].items()
        )
    return FactSpec(
        name=name,
        type=_fact_type(raw),
        label=_text(raw["label"]),
        module_id=module_id,
        location=location,
        description=str(raw.get("description", "")).strip(),
        unit=raw.get("unit"),
        values=tuple((str(v), _text(t)) for v, t in (raw.get("values") or {}).items()),
        site=bool(raw.get("site", False)),
        minimum=raw.get("minimum"),
        maximum=raw.get("maximum"),
        key=raw.get("key"),
        fields=fields,
        judgement=str(raw.get("judgement", "")).strip(),
        presumed=_presumption(raw.get("presumed")),
    )


def _presumption(raw: Optional[Dict[str, Any]]) -> Optional[Presumption]:
    if raw is None:
        return None
    return Presumption(value=raw["value"], reason=_text(raw["reason"]), source=" ".join(str(raw["source"]).split()))


def _parse_expr(text: str, site: ExprSite, collector: _Collector) -> Optional[Expr]:
    try:
        return expr_lang.parse(text)
    except expr_lang.ExprSyntaxError as exc:
        collector.add("E-SYNTAX", exc.message, site.location(exc.pos))
        return None


def read_module(path: str, pack: Optional[str] = None) -> Tuple[Optional[ModuleSource], List[Diagnostic]]:
    """First pass over one module file: YAML, schema, model, parsed expressions.

    The steps run in the order of the file's sections, so the diagnostics come in that order: facts,
    derived facts, categories, rules, overlay, scope, dates.
    """
    collector = _Collector()
    f = _read_module_file(path, collector)
    if f is None:
        return None, collector.diagnostics
    facts = _read_facts(f)
    derived = _read_derived(f)
    document = _read_document_meta(f.meta)
    categories = _read_categories(f, document)
    rules = _read_rules(f, document, categories)
    overlay = _read_overlay(f, document)
    scope = _parse_expr(f.meta["scope"], f.site("module", "scope"), collector) if f.meta.get("scope") else None
    module = _assemble_module(f, pack, document, facts, derived, categories, rules, overlay, scope)
    if module.effective_until is not None and module.effective_until < module.effective_from:
        collector.add("E-DATES", "effective_until is before effective_from", f.positions.at(("module", "effective_until")))
    return _first_pass_result(f, module, derived)


@dataclass(frozen=True)
class _ModuleFile:
    """A module file that passed the schema, with what every reading step needs: its values, where
    they are in the file (for located diagnostics) and the collector of diagnostics."""

    path: str
    doc: Dict[str, Any]
    positions: Positions
    lines: List[str]
    collector: _Collector

    @property
    def meta(self) -> Dict[str, Any]:
        meta: Dict[str, Any] = self.doc["module"]
        return meta

    @property
    def module_id(self) -> str:
        module_id: str = self.meta["id"]
        return module_id

    def site(self, *doc_path: Any) -> ExprSite:
        """Where an expression at ``doc_path`` is, so a syntax error points into it."""
        return ExprSite(self.positions, doc_path, self.lines)


def _read_module_file(path: str, collector: _Collector) -> Optional[_ModuleFile]:
    """The YAML document, if it is a mapping that fits the schema: nothing else is read from a file
    that does not, since the model assumes the schema's shapes."""
    doc, positions, lines = read_document(path, collector)
    if positions is None or lines is None:  # both or neither
        return None
    if not isinstance(doc, dict):
        collector.add("E-SCHEMA", "a rule module is a mapping with schema_version, module and rules", Location(path, 1, 1))
        return None
    if not _schema_diagnostics(doc, positions, collector):
        return None
    return _ModuleFile(path, doc, positions, lines, collector)


def _read_facts(f: _ModuleFile) -> Tuple[FactSpec, ...]:
    """The module's fact declarations; a list fact's key must be one of its fields, which the
    schema cannot say."""
    facts = tuple(
        _fact(name, raw, f.module_id, f.positions.at(("facts", name), key=True), f.positions, ("facts", name))
        for name, raw in (f.doc.get("facts") or {}).items()
    )
    for spec in facts:
        if spec.type.kind == LIST and (spec.key is None or spec.field(spec.key) is None):  # the schema requires a key
            f.collector.add(
                "E-SCHEMA",
                f"list fact {spec.name!r} names key {spec.key!r}, which is not one of its fields{did_you_mean(spec.key or '', [x.name for x in spec.fields])}",
                f.positions.at(("facts", spec.name, "key")),
            )
    return facts


def _read_derived(f: _ModuleFile) -> List[DerivedFact]:
    """The derived facts whose expression parses (the others are reported and left out, and
    :func:`_first_pass_result` names them so the compiler does not report them again)."""
    derived = []
    for name, raw in (f.doc.get("derived") or {}).items():
        parsed = _parse_expr(raw["expr"], f.site("derived", name, "expr"), f.collector)
        if parsed is not None:
            derived.append(
                DerivedFact(
                    name=name,
                    expr=parsed,
                    source_text=raw["expr"].strip(),
                    label=_text(raw["label"]),
                    module_id=f.module_id,
                    location=f.positions.at(("derived", name), key=True),
                    description=str(raw.get("description", "")).strip(),
                    source=raw.get("source"),
                )
            )
    return derived


def _read_document_meta(meta: Dict[str, Any]) -> Document:
    """The legal document the module encodes: every citation of the module names it."""
    return Document(
        title=meta["document"]["title"],
        number=meta["document"]["number"],
        issuer=_text(meta["document"]["issuer"]),
        issued=_date(meta["document"].get("issued")),
        url=meta["document"].get("url"),
        part=meta["document"].get("part"),
    )


def _citation(document: Document, raw: Dict[str, Any]) -> Citation:
    """A citation of categories, rules and overlay changes: the module's document plus a locator."""
    return Citation(
        document_title=document.title,
        document_number=document.number,
        article=raw.get("article"),
        paragraph=raw.get("paragraph"),
        item=raw.get("item"),
        sub_item=raw.get("sub_item"),
        section=raw.get("section"),
        clause=raw.get("clause"),
        table=raw.get("table"),
    )


def _thresholds(raw: Dict[str, Any]) -> Tuple[Threshold, ...]:
    """The thresholds a rule or an overlay change declares (the same shape in both)."""
    return tuple(
        Threshold(t["fact"], t["term"], str(t["value"]) if t.get("value") is not None else None, t.get("note"))
        for t in raw.get("thresholds") or ()
    )


def _read_categories(f: _ModuleFile, document: Document) -> Dict[str, Category]:
    """The categories by id, in declaration order; an id declared twice is an error (and the later
    declaration replaces the earlier)."""
    categories: Dict[str, Category] = {}
    for i, raw in enumerate(f.doc.get("categories") or []):
        if raw["id"] in categories:
            f.collector.add(
                "E-DUPLICATE-ID", f"category {raw['id']!r} is declared twice", f.positions.at(("categories", i, "id"))
            )
        categories[raw["id"]] = Category(
            raw["id"], _text(raw["title"]), _citation(document, raw["citation"]) if raw.get("citation") else None
        )
    return categories


def _read_rules(f: _ModuleFile, document: Document, categories: Dict[str, Category]) -> List[Rule]:
    """The rules, in file order; a rule id used twice in the module is an error and the second use
    is left out."""
    rules = []
    seen_ids: Dict[str, int] = {}
    for i, raw in enumerate(f.doc.get("rules") or []):
        rule_id = raw["id"]
        if rule_id in seen_ids:
            f.collector.add(
                "E-DUPLICATE-ID",
                f"rule id {rule_id!r} is used twice in this module (first at rules[{seen_ids[rule_id]}])",
                f.positions.at(("rules", i, "id")),
            )
            continue
        seen_ids[rule_id] = i
        rule = _read_rule(f, i, raw, document, categories)
        if rule is not None:
            rules.append(rule)
    return rules


def _read_rule(
    f: _ModuleFile, i: int, raw: Dict[str, Any], document: Document, categories: Dict[str, Category]
) -> Optional[Rule]:
    """One rule; None when its condition or applicability does not parse (reported already)."""
    category = None
    if raw.get("category") is not None:
        category = categories.get(raw["category"])
        if category is None:
            f.collector.add(
                "E-UNKNOWN-CATEGORY",
                f"unknown category {raw['category']!r}{did_you_mean(raw['category'], categories)}",
                f.positions.at(("rules", i, "category")),
            )
    when = _parse_expr(raw["when"], f.site("rules", i, "when"), f.collector)
    applies_if = None
    if raw.get("applies_if"):
        applies_if = _parse_expr(raw["applies_if"], f.site("rules", i, "applies_if"), f.collector)
    exceptions = _read_exceptions(f, i, raw, document)
    if when is None or (raw.get("applies_if") and applies_if is None) or exceptions is None:
        return None
    for_each = ForEach(raw["for_each"]["list"], raw["for_each"]["as"]) if raw.get("for_each") else None
    return Rule(
        id=raw["id"],
        module_id=f.module_id,
        citation=_citation(document, raw["citation"]),
        title=_text(raw["title"]),
        when=when,
        when_text=" ".join(raw["when"].split()),
        location=f.positions.at(("rules", i)),
        category=category,
        description=str(raw.get("description", "")).strip(),
        applies_if=applies_if,
        applies_if_text=" ".join(raw["applies_if"].split()) if raw.get("applies_if") else None,
        for_each=for_each,
        thresholds=_thresholds(raw),
        severity=raw["severity"],
        notes=str(raw.get("notes", "")).strip(),
        source_index=i,
        unless=exceptions,
    )


def _read_exceptions(f: _ModuleFile, i: int, raw: Dict[str, Any], document: Document) -> Optional[Tuple[RuleException, ...]]:
    """A rule's exceptions (``unless:``); None when one of their conditions does not parse (reported)."""
    out: List[RuleException] = []
    parsed_all = True
    for j, exc in enumerate(raw.get("unless") or ()):
        when = _parse_expr(exc["when"], f.site("rules", i, "unless", j, "when"), f.collector)
        if when is None:
            parsed_all = False
            continue
        out.append(
            RuleException(
                when=when,
                when_text=" ".join(exc["when"].split()),
                label=_text(exc["label"]),
                citation=_citation(document, exc["citation"]),
                location=f.positions.at(("rules", i, "unless", j)),
                text=" ".join(str(exc.get("text", "")).split()),
            )
        )
    return tuple(out) if parsed_all else None


def _read_overlay(f: _ModuleFile, document: Document) -> List[OverlayChange]:
    """A provincial supplement's changes to the national module it extends; changes whose condition
    does not parse are left out. An overlay anywhere else is an error."""
    overlay = []
    for i, raw in enumerate(f.doc.get("overlay") or []):
        when = None
        if raw.get("when"):
            when = _parse_expr(raw["when"], f.site("overlay", i, "when"), f.collector)
            if when is None:
                continue
        overlay.append(
            OverlayChange(
                rule_id=raw["rule"],
                action=raw["action"],
                reason=str(raw["reason"]).strip(),
                citation=_citation(document, raw["citation"]),
                module_id=f.module_id,
                location=f.positions.at(("overlay", i)),
                when=when,
                when_text=" ".join(raw["when"].split()) if raw.get("when") else None,
                thresholds=_thresholds(raw),
            )
        )
    if overlay and (f.meta["jurisdiction"] == "national" or not f.meta.get("extends")):
        f.collector.add(
            "E-OVERLAY",
            "an overlay belongs to a provincial supplement: set module.jurisdiction to {province, code} and module.extends to the national module",
            f.positions.at(("overlay",), key=True),
        )
    return overlay


def _assemble_module(
    f: _ModuleFile,
    pack: Optional[str],
    document: Document,
    facts: Tuple[FactSpec, ...],
    derived: List[DerivedFact],
    categories: Dict[str, Category],
    rules: List[Rule],
    overlay: List[OverlayChange],
    scope: Optional[Expr],
) -> Module:
    """The module from its parts and the rest of its metadata (no diagnostics: the schema has
    checked these values)."""
    meta = f.meta
    reading = default_threshold_reading()
    reading.update(meta.get("threshold_reading") or {})
    jurisdiction_raw = meta["jurisdiction"]
    jurisdiction = (
        Jurisdiction("national")
        if jurisdiction_raw == "national"
        else Jurisdiction("province", jurisdiction_raw["province"], jurisdiction_raw["code"])
    )
    confidence = None
    if meta.get("confidence"):
        c = meta["confidence"]
        confidence = Confidence(c["level"], str(c.get("notes", "")).strip(), tuple(c.get("unverified") or ()))
    industries = meta["industry"]
    effective_from = _date(meta["effective_from"])
    assert effective_from is not None, "the module schema requires effective_from"
    return Module(
        id=f.module_id,
        series=meta["series"],
        title=_text(meta["title"]),
        document=document,
        effective_from=effective_from,
        effective_until=_date(meta.get("effective_until")),
        jurisdiction=jurisdiction,
        industries=tuple(industries) if isinstance(industries, list) else (industries,),
        path=f.path,
        location=f.positions.at(("module",)),
        version=str(meta["version"]) if meta.get("version") is not None else None,
        supersedes=meta.get("supersedes"),
        superseded_by=meta.get("superseded_by"),
        scope=scope,
        scope_text=" ".join(meta["scope"].split()) if meta.get("scope") else None,
        imports=tuple(meta.get("imports") or ()),
        extends=meta.get("extends"),
        threshold_reading=reading,
        confidence=confidence,
        completeness=meta.get("completeness", "complete"),
        completeness_notes=str(meta.get("completeness_notes", "")).strip(),
        judgement=str(meta.get("judgement", "")).strip(),
        sources=tuple((s["title"], s.get("url")) for s in meta.get("sources") or ()),
        illustration=bool(meta.get("illustration", False)),
        facts=facts,
        derived=tuple(derived),
        categories=tuple(categories.values()),
        rules=tuple(rules),
        overlay=tuple(overlay),
        pack=pack,
    )


def _first_pass_result(
    f: _ModuleFile, module: Module, derived: List[DerivedFact]
) -> Tuple[Optional[ModuleSource], List[Diagnostic]]:
    """The module goes on to the compiler unless an error other than a syntax error was found:
    with only syntax errors the rest of the module is still type-checked, so that one pass reports
    all. The derived facts that did not parse are named, so the compiler does not report their
    readers as reading an unknown fact."""
    if any(d.code != "E-SYNTAX" for d in f.collector.diagnostics):
        return None, f.collector.diagnostics
    parsed_derived = {d.name for d in derived}
    broken = frozenset(n for n in (f.doc.get("derived") or {}) if n not in parsed_derived)
    return ModuleSource(module, f.positions, f.doc, broken), f.collector.diagnostics


# --------------------------------------------------------------------------------------------- packs

_MANIFEST_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "version", "title"],
    "properties": {
        "name": {"type": "string", "pattern": "^[a-z][a-z0-9-]*$"},
        "version": {"type": "string", "pattern": r"^\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$"},
        "title": {
            "type": "object",
            "required": ["zh", "en"],
            "additionalProperties": False,
            "properties": {"zh": {"type": "string"}, "en": {"type": "string"}},
        },
        "description": {"type": "string"},
        "modules": {"type": "array", "items": {"type": "string"}},
        "include": {"type": "array", "items": {"type": ["string", "integer"]}},
        "tests": {"type": "array", "items": {"type": "string"}},
        "industries": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id", "name"],
                "properties": {
                    "id": {"type": "string", "pattern": INDUSTRY_ID_PATTERN},
                    "name": {
                        "type": "object",
                        "required": ["zh", "en"],
                        "additionalProperties": False,
                        "properties": {"zh": {"type": "string"}, "en": {"type": "string"}},
                    },
                    "attributes": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
                },
            },
        },
    },
}


@lru_cache(maxsize=None)
def _manifest_quick_check() -> Optional[fastschema.Check]:
    return fastschema.compile_check(_MANIFEST_SCHEMA)


def _manifest_errors(instance: Any) -> List[Any]:
    """jsonschema's errors of a manifest; none without importing it when the quick check accepts."""
    quick = _manifest_quick_check()
    if quick is not None and quick(instance):
        return []
    from jsonschema import Draft202012Validator

    return list(Draft202012Validator(_MANIFEST_SCHEMA).iter_errors(instance))


@dataclass(frozen=True)
class PackSource:
    pack: Pack
    module_files: Tuple[str, ...]


def read_pack(directory: str, _seen: Optional[Set[str]] = None) -> Tuple[Optional[PackSource], List[Diagnostic]]:
    """Read a pack manifest and resolve its module files and test files (including included packs)."""
    collector = _Collector()
    manifest = os.path.join(directory, MANIFEST_NAME)
    doc, positions, _ = read_document(manifest, collector)
    if positions is None:
        return None, collector.diagnostics
    errors = _manifest_errors(jsonable(doc))
    for err in errors:
        collector.add("E-MANIFEST", err.message, positions.at(tuple(err.absolute_path)))
    if errors:
        return None, collector.diagnostics
    seen: Set[str] = set() if _seen is None else _seen
    real = os.path.realpath(directory)
    if real in seen:
        collector.add("E-MANIFEST", "pack includes itself", positions.at(("include",)))
        return None, collector.diagnostics
    seen.add(real)
    files: List[str] = []
    tests: List[str] = []
    module_ids: List[str] = []
    industries: List[Industry] = [
        Industry(
            id=raw["id"],
            name=_text(raw["name"]),
            attributes=tuple(raw.get("attributes") or ()),
            pack=doc["name"],
            location=positions.at(("industries", i)),
        )
        for i, raw in enumerate(doc.get("industries") or ())
    ]
    for sub in doc.get("include") or ():
        sub_dir = os.path.normpath(os.path.join(directory, str(sub)))
        included, diags = read_pack(sub_dir, seen)
        collector.diagnostics.extend(diags)
        if included:
            files.extend(included.module_files)
            tests.extend(included.pack.test_files)
            industries.extend(included.pack.industries)
    for i, pattern in enumerate(doc.get("modules") or ()):
        matched = sorted(
            p
            for p in glob.glob(os.path.join(directory, pattern), recursive=True)
            if os.path.basename(p) != MANIFEST_NAME and os.path.isfile(p)
        )
        if not matched and not any(ch in pattern for ch in "*?["):
            collector.add("E-MANIFEST", f"module file {pattern!r} does not exist", positions.at(("modules", i)))
        files.extend(matched)
    if not files and doc.get("modules"):
        collector.add(
            "E-NO-MODULES",
            f"pack {doc['name']!r}: no module file in {directory} matches {', '.join(map(repr, doc['modules']))}"
            " (if the pack was installed, its YAML files were probably left out of the wheel: see docs/packaging.md)",
            positions.at(("modules",)),
        )
    for pattern in doc.get("tests") or ():
        tests.extend(sorted(glob.glob(os.path.join(directory, pattern), recursive=True)))
    pack = Pack(
        name=doc["name"],
        version=doc["version"],
        title=Text(doc["title"]["zh"], doc["title"]["en"]),
        path=directory,
        module_ids=tuple(module_ids),
        test_files=tuple(dict.fromkeys(tests)),
        description=str(doc.get("description", "")),
        industries=tuple(industries),
    )
    return PackSource(pack, tuple(dict.fromkeys(files))), collector.diagnostics


def shipped_packs_root() -> Optional[str]:
    """The folder of the packs that ship with the library (inside the wheel, or the source tree's rules/)."""
    here = os.path.dirname(os.path.abspath(__file__))
    for candidate in (os.path.join(here, "_packs"), os.path.join(os.path.dirname(here), "rules")):
        if os.path.isdir(candidate):
            return candidate
    return None


def discover_packs() -> Dict[str, str]:
    """Pack name -> folder, for shipped packs and third-party packs registered under the
    ``safetyrules.packs`` entry point group (the entry point's value is a module whose folder, or a
    ``PACK_PATH`` attribute, holds the manifest)."""
    found: Dict[str, str] = {}
    root = shipped_packs_root()
    if root:
        for manifest in sorted(glob.glob(os.path.join(root, "**", MANIFEST_NAME), recursive=True)):
            name = _manifest_name(manifest)
            if name:
                found.setdefault(name, os.path.dirname(manifest))
    try:
        from importlib.metadata import entry_points

        for ep in entry_points(group="safetyrules.packs"):
            try:
                target = ep.load()
                path = getattr(target, "PACK_PATH", None) or os.path.dirname(getattr(target, "__file__", "") or "")
            except Exception:  # a broken third-party pack must not break the shipped ones
                continue
            if path and os.path.isfile(os.path.join(path, MANIFEST_NAME)):
                found.setdefault(ep.name, path)
    except Exception:  # pragma: no cover - importlib.metadata always present on supported Pythons
        pass
    return found


def _outer_packs(folder: str) -> List[str]:
    """The pack folders under ``folder`` that no other pack folder under it contains (an outer pack
    includes its inner ones), skipping virtual environments and build output."""
    skip = {".git", ".venv", "venv", "build", "dist", "node_modules", "__pycache__"}
    dirs = []
    for root, subdirs, files in os.walk(folder):
        subdirs[:] = [d for d in subdirs if d not in skip and not d.endswith(".egg-info") and not d.startswith(".")]
        if MANIFEST_NAME in files:
            dirs.append(root)
            subdirs[:] = []  # an inner pack is the outer pack's business
    return sorted(dirs)


def entry_point_problems() -> Dict[str, str]:
    """Entry points of the ``safetyrules.packs`` group that name no usable pack, by name, each with why
    (``discover_packs`` leaves them out so that one broken pack cannot break the others; loading such a
    pack by name reports this instead of "no pack named ...")."""
    problems: Dict[str, str] = {}
    try:
        from importlib.metadata import entry_points

        eps = list(entry_points(group="safetyrules.packs"))
    except Exception:  # pragma: no cover
        return problems
    for ep in eps:
        dist = getattr(getattr(ep, "dist", None), "name", None)
        origin = f"entry point {ep.name!r} = {ep.value!r}" + (f" of distribution {dist!r}" if dist else "")
        try:
            target = ep.load()
        except Exception as exc:
            problems[ep.name] = f"{origin} cannot be imported: {type(exc).__name__}: {exc}"
            continue
        path = getattr(target, "PACK_PATH", None) or os.path.dirname(getattr(target, "__file__", "") or "")
        if not path:
            problems[ep.name] = (
                f"{origin} resolves to {target!r}, which has neither a PACK_PATH nor a file: point it at the package holding pack.yaml"
            )
        elif not os.path.isfile(os.path.join(path, MANIFEST_NAME)):
            yaml_files = glob.glob(os.path.join(path, "**", "*.yaml"), recursive=True)
            problems[ep.name] = (
                f"{origin} resolves to the folder {path}, which has no {MANIFEST_NAME}"
                + ("" if yaml_files else " and no YAML files at all")
                + ": the YAML files were probably left out of the wheel (see docs/packaging.md, 'package data')"
            )
    return problems


def _manifest_name(manifest: str) -> Optional[str]:
    try:
        with open(manifest, "rb") as fh:
            value, _ = load_yaml_text(decode_text(fh.read(), manifest), manifest)
        name = value.get("name") if isinstance(value, dict) else None
        return name if isinstance(name, str) else None
    except (OSError, YamlError):
        return None


def resolve_sources(specs: Iterable[str]) -> Tuple[List[Tuple[Optional[Pack], str]], List[Diagnostic]]:
    """Turn pack names, pack folders and module files into (pack, module file) pairs."""
    diagnostics: List[Diagnostic] = []
    out: List[Tuple[Optional[Pack], str]] = []
    known = None
    for spec in specs:
        spec = str(spec)
        if os.path.isdir(spec):
            if os.path.isfile(os.path.join(spec, MANIFEST_NAME)):
                src, diags = read_pack(spec)
                diagnostics.extend(diags)
                if src:
                    out.extend((src.pack, f) for f in src.module_files)
            elif _outer_packs(spec):
                # a project folder holding packs (as 'safetyrules new pack' makes): each outermost pack
                for pack_dir in _outer_packs(spec):
                    src, diags = read_pack(pack_dir)
                    diagnostics.extend(diags)
                    if src:
                        out.extend((src.pack, f) for f in src.module_files)
            else:
                files = sorted(
                    p
                    for p in glob.glob(os.path.join(spec, "**", "*.yaml"), recursive=True)
                    if os.path.basename(p) != MANIFEST_NAME
                    and "/tests/" not in p.replace(os.sep, "/")
                    and not p.endswith(".test.yaml")
                )
                if not files:
                    diagnostics.append(Diagnostic("E-NO-MODULES", "no rule modules in this folder", Location(spec)))
                out.extend((None, f) for f in files)
        elif os.path.isfile(spec):
            if os.path.basename(spec) == MANIFEST_NAME:
                src, diags = read_pack(os.path.dirname(spec) or ".")
                diagnostics.extend(diags)
                if src:
                    out.extend((src.pack, f) for f in src.module_files)
            else:
                out.append((None, spec))
        else:
            if known is None:
                known = discover_packs()
            if spec in known:
                src, diags = read_pack(known[spec])
                diagnostics.extend(diags)
                if src:
                    out.extend((src.pack, f) for f in src.module_files)
            elif spec in entry_point_problems():
                diagnostics.append(Diagnostic("E-PACK-BROKEN", entry_point_problems()[spec], Location(spec)))
            else:
                diagnostics.append(
                    Diagnostic(
                        "E-NO-PACK",
                        f"no pack, folder or file named {spec!r}{did_you_mean(spec, known)}"
                        + (f"; known packs: {', '.join(sorted(known))}" if known else ""),
                        Location(spec),
                    )
                )
    return out, diagnostics
