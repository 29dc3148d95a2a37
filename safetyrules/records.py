"""Inspection records: validation against the loaded vocabulary, and normalisation.

A record is checked completely before any rule sees it: a wrong type, an unknown fact name (with a
did-you-mean), an enum value the vocabulary does not have, or a date that is not a date is an error
naming its JSON path. An unknown fact is never silently ignored: it is most often a misspelling, and
ignoring it would turn a recorded hazard into "undetermined" or, worse, into nothing at all.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import AbstractSet, Any, Container, Dict, FrozenSet, List, Mapping, Optional, Tuple

from .errors import RecordError, did_you_mean
from .expr.types import BOOLEAN, DATE, ENUM, LIST, NUMBER, STRING
from .model import FactSpec

MAX_LIST_ITEMS = 10_000
#: the keys a record and its site may have (anything else is an error naming it)
RECORD_KEYS = (
    "record_id",
    "inspection_date",
    "site",
    "facts",
    "findings",
    "inspector_findings",
    "inspector",
    "notes",
    "source",
)
#: the keys of a record the compiled evaluator decides on its own: one with the inspector's findings
#: is decided on the general path, which applies them (safetyrules.findings)
PLAIN_RECORD_KEYS = tuple(k for k in RECORD_KEYS if k != "inspector_findings")
SITE_KEYS = ("id", "name", "industry", "region", "attributes", "address")
_RECORD_KEY_SET = frozenset(RECORD_KEYS)
_SITE_KEY_SET = frozenset(SITE_KEYS)


@dataclass(frozen=True)
class Record:
    """A validated inspection record. ``values`` maps fact names to Python values (numbers as given)."""

    record_id: str
    inspection_date: date
    industry: str
    region: Optional[str]
    values: Mapping[str, Any]
    site: Mapping[str, Any] = field(default_factory=dict)
    findings: Tuple[Mapping[str, Any], ...] = ()
    #: the inspector's findings as recorded (checked against the rules by safetyrules.findings)
    inspector_findings: Any = None
    #: every number is an int or float within float precision: generated code may decide it
    fast: bool = True


def exact(value: Any) -> Fraction:
    """The exact value of a recorded number: decimals are read as written (``0.1`` is one tenth).

    A binary float's exact value is taken to be its shortest decimal representation, which is the
    number that was written in the JSON or code it came from.
    """
    if isinstance(value, Fraction):
        return value
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        return Fraction(Decimal(repr(value)))
    if isinstance(value, Decimal):
        return Fraction(value)
    raise TypeError(value)


def _is_number(value: Any) -> bool:
    t = type(value)
    if t is int:
        return True
    if t is float:
        return math.isfinite(value)
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, Fraction)):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, Decimal):
        return value.is_finite()
    return False


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)  # not other scripts' digits, which int() would read


@lru_cache(maxsize=4096)
def _date_from_text(value: str) -> Optional[date]:
    """YYYY-MM-DD only (Python would also take week dates and other ISO forms); memoised, as a
    campaign's records share few dates."""
    if not _ISO_DATE.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def parse_date(value: Any) -> Optional[date]:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and len(value) == 10:
        return _date_from_text(value)
    return None


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float, Decimal)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _item_kinds(spec: FactSpec) -> "FastKinds":
    """The fast checks of a list fact's item fields (kept on the immutable spec after first use)."""
    kinds = spec.__dict__.get("_item_kinds")
    if kinds is None:
        kinds = fast_kinds({f.name: f for f in spec.fields})
        kinds.strings = frozenset(f.name for f in spec.fields if f.type.kind == STRING)
        object.__setattr__(spec, "_item_kinds", kinds)
    return kinds


def _item_valid(item: Dict[str, Any], kinds: "FastKinds") -> bool:
    """A list item whose fields are all known, recorded, and plain numbers, booleans, enum codes or text."""
    names = item.keys()
    simple = names & kinds.simple
    if len(simple) + len(names & kinds.strings) != len(names) or None in item.values():
        return False
    return _simple_values_valid(item, simple, kinds) and all(type(item[n]) is str for n in names & kinds.strings)


#: a record's values are JSON values; Python callers may also pass these exact types (numbers read
#: exactly, dates): subclasses are refused, so that no caller-defined ``__eq__`` or ``__hash__`` runs
#: while a record is checked and every backend sees the same plain values
_PLAIN_TYPES = frozenset({dict, list, str, int, float, bool, type(None), Decimal, Fraction, date})
#: no measurement in any criterion comes near this; beyond it a number is refused, not decided
MAX_MAGNITUDE = 10**100
#: nesting of objects and lists in a record (the deepest shipped vocabulary needs 4)
MAX_RECORD_DEPTH = 32
#: values (objects, lists, scalars) in one record, counted before anything else is checked
MAX_RECORD_VALUES = 1_000_000


def json_problems(raw: Any) -> List[Tuple[str, str]]:
    """Problems with a record as a JSON document, whatever its vocabulary: values that are not
    JSON values, text that is not Unicode (a lone surrogate cannot be written as UTF-8), NaN and
    infinities, numbers beyond ±10^100, nesting deeper than 32 and more than a million values.

    This is the first check of every record on every backend, so that the answer to a hostile
    record is always a RecordError naming the JSON path, never an exception from deeper down.
    """
    problems: List[Tuple[str, str]] = []
    too_large = "number beyond ±10^100: not a measured value"
    stack: List[Tuple[Any, str, int]] = [(raw, "$", 0)]
    count = 0
    while stack:
        value, path, depth = stack.pop()
        count += 1
        if count > MAX_RECORD_VALUES:
            return [("$", f"more than {MAX_RECORD_VALUES} values in one record")]
        t = type(value)
        if t is str:
            if not _is_unicode(value):
                problems.append((path, "text is not valid Unicode (it holds a lone surrogate)"))
        elif t is float:
            if not math.isfinite(value):
                problems.append((path, "NaN/Infinity is not a measured value"))
            elif abs(value) > MAX_MAGNITUDE:
                problems.append((path, too_large))
        elif t is int:
            if not -MAX_MAGNITUDE <= value <= MAX_MAGNITUDE:
                problems.append((path, too_large))
        elif t is dict or t is list:
            if depth >= MAX_RECORD_DEPTH:
                problems.append((path, f"nested deeper than {MAX_RECORD_DEPTH} levels"))
                continue
            if t is list:
                stack.extend((v, f"{path}[{i}]", depth + 1) for i, v in enumerate(value))
                continue
            for k, v in value.items():
                if type(k) is not str:
                    problems.append((path, f"a key must be text, got {_type_name(k)}"))
                    continue
                step = f"{path}.{k}"  # RecordError escapes what cannot be printed
                if not _is_unicode(k):
                    problems.append((step, "key is not valid Unicode (it holds a lone surrogate)"))
                stack.append((v, step, depth + 1))
        elif t is Decimal:
            if not value.is_finite():
                problems.append((path, "NaN/Infinity is not a measured value"))
            elif abs(value) > MAX_MAGNITUDE:
                problems.append((path, too_large))
        elif t is Fraction:
            if abs(value) > MAX_MAGNITUDE:
                problems.append((path, too_large))
        elif t not in _PLAIN_TYPES:
            problems.append((path, f"expected a JSON value, got {t.__name__}"))
    problems.reverse()  # the stack visits the record backwards
    return problems


def _is_unicode(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_value(spec: FactSpec, value: Any, path: str, problems: List[Tuple[str, str]]) -> Any:
    """Validate one value against its declaration; returns the normalised value (or None when bad)."""
    kind = spec.type.kind
    if kind == NUMBER:
        if not _is_number(value):
            hint = " (write numbers without quotes)" if isinstance(value, str) else ""
            problems.append((path, f"expected a number{f' in {spec.unit}' if spec.unit else ''}, got {_type_name(value)}{hint}"))
            return None
        # ints and floats compare exactly with the (int or float) bounds; other numbers as fractions
        plain = type(value) in (int, float)
        if spec.type.integer and not (
            type(value) is int or (type(value) is float and value.is_integer()) or (not plain and exact(value).denominator == 1)
        ):
            problems.append((path, f"expected a whole number, got {value}"))
            return None
        if spec.minimum is not None and (value < spec.minimum if plain else exact(value) < exact(spec.minimum)):
            problems.append((path, f"{value} is below the minimum {spec.minimum}"))
            return None
        if spec.maximum is not None and (value > spec.maximum if plain else exact(value) > exact(spec.maximum)):
            problems.append((path, f"{value} is above the maximum {spec.maximum}"))
            return None
        if isinstance(value, float) and spec.type.integer:
            return int(value)
        return value
    if kind == BOOLEAN:
        if not isinstance(value, bool):
            problems.append((path, f"expected true or false, got {_type_name(value)}"))
            return None
        return value
    if kind == ENUM:
        codes = [v for v, _ in spec.values]
        if not isinstance(value, str) or value not in codes:
            shown = repr(value) if isinstance(value, (str, int, float)) else _type_name(value)
            hint = did_you_mean(value, codes) if isinstance(value, str) else ""
            problems.append((path, f"{shown} is not one of {', '.join(codes)}{hint}"))
            return None
        return value
    if kind == STRING:
        if not isinstance(value, str):
            problems.append((path, f"expected a string, got {_type_name(value)}"))
            return None
        return value
    if kind == DATE:
        parsed = parse_date(value)
        if parsed is None:
            problems.append((path, f"expected a date YYYY-MM-DD, got {value!r}"))
        return parsed
    if kind == LIST:
        if not isinstance(value, list):
            problems.append((path, f"expected a list of {spec.name} items, got {_type_name(value)}"))
            return None
        if len(value) > MAX_LIST_ITEMS:
            problems.append((path, f"{len(value)} items; the limit is {MAX_LIST_ITEMS}"))
            return None
        items = []
        keys = set()
        field_names = [f.name for f in spec.fields]
        fast = _item_kinds(spec)
        for i, item in enumerate(value):
            if type(item) is dict and _item_valid(item, fast):
                key = item.get(spec.key)
                if key is not None and key not in keys:
                    keys.add(key)
                    items.append(item)
                    continue
            ipath = f"{path}[{i}]"
            if not isinstance(item, dict):
                problems.append((ipath, f"expected an object, got {_type_name(item)}"))
                continue
            out = {}
            for fname, fvalue in item.items():
                fspec = spec.field(fname)
                if fspec is None:
                    problems.append((f"{ipath}.{fname}", f"unknown field{did_you_mean(str(fname), field_names)}"))
                    continue
                if fvalue is None:
                    continue
                out[fname] = check_value(fspec, fvalue, f"{ipath}.{fname}", problems)
            key = out.get(spec.key)
            if key is None:
                problems.append((ipath, f"item has no {spec.key!r} (the field that names it)"))
            elif key in keys:
                problems.append((f"{ipath}.{spec.key}", f"duplicate item {key!r}"))
            keys.add(key)
            items.append(out)
        return items
    return value  # pragma: no cover


#: floats represent every integer below this exactly; larger or non-float numbers go to the exact path
FAST_NUMBER_LIMIT = 2**53

_PLAIN_NUMBER, _BOUNDED, _BOOLEAN, _ENUM, _OTHER = range(5)


def _fast_number(value: Any) -> bool:
    return type(value) in (int, float) and -FAST_NUMBER_LIMIT < value < FAST_NUMBER_LIMIT


def _fast_value(spec: FactSpec, value: Any) -> bool:
    """Whether generated code may decide on this value (numbers within float precision)."""
    if spec.type.kind == NUMBER:
        return _fast_number(value)
    if spec.type.kind == LIST:
        numeric = [f.name for f in spec.fields if f.type.kind == NUMBER]
        return all(_fast_number(item[n]) for item in value for n in numeric if item.get(n) is not None)
    return True


#: how one fact's commonest values are accepted: (_PLAIN_NUMBER,), (_BOUNDED, lo, hi), (_BOOLEAN,),
#: (_ENUM, codes) or (_OTHER,); a tuple indexed by position because the record loop is hot
FastKind = Tuple[Any, ...]


class FastKinds(Dict[str, FastKind]):
    """Per fact, how to accept its commonest values without the general checker (built once per
    rule set), plus the name sets that let a typical record be checked with set and builtin
    operations only (numbers, booleans and enum codes, the bulk of a record)."""

    plain_numbers: FrozenSet[str]
    bounded: Dict[str, Tuple[float, float]]  # numbers with a declared minimum or maximum
    booleans: FrozenSet[str]
    enums: Dict[str, FrozenSet[str]]
    simple: FrozenSet[str]
    #: text fields of a list fact's items (set on item kinds only)
    strings: FrozenSet[str]


_INT_FLOAT = frozenset({int, float})
_BOOL = frozenset({bool})


def _simple_values_valid(values: Dict[str, Any], names: AbstractSet[str], kinds: "FastKinds") -> bool:
    """True when the values of ``names`` (number, boolean or enum facts) are a number in float range
    (and within the fact's bounds), a boolean or an enum code of their fact: checked with set and
    builtin operations, one loop only for the (few) bounded numbers and enums."""
    get = values.__getitem__
    bounded = names & kinds.bounded.keys()
    nums = list(map(get, (names & kinds.plain_numbers) | bounded))
    if nums:
        if not set(map(type, nums)) <= _INT_FLOAT:
            return False
        try:
            if not (min(nums) > -FAST_NUMBER_LIMIT and max(nums) < FAST_NUMBER_LIMIT and all(map(math.isfinite, nums))):
                return False
        except (OverflowError, TypeError):
            return False
    for name in bounded:
        lo, hi = kinds.bounded[name]
        if not lo <= values[name] <= hi:
            return False
    bools = names & kinds.booleans
    if bools and not set(map(type, map(get, bools))) <= _BOOL:
        return False
    for name in names & kinds.enums.keys():
        value = values[name]
        if type(value) is not str or value not in kinds.enums[name]:  # a list or object is not hashable
            return False
    return True


def fast_kinds(facts: Mapping[str, FactSpec]) -> "FastKinds":
    """Per fact, how to accept its commonest values without the general checker (built once per rule set)."""
    kinds = FastKinds()
    for name, spec in facts.items():
        kind = spec.type.kind
        if kind == NUMBER and not spec.type.integer:
            if spec.minimum is None and spec.maximum is None:
                kinds[name] = (_PLAIN_NUMBER,)
            else:
                lo = float(spec.minimum) if spec.minimum is not None else -math.inf
                hi = float(spec.maximum) if spec.maximum is not None else math.inf
                kinds[name] = (_BOUNDED, lo, hi)
        elif kind == BOOLEAN:
            kinds[name] = (_BOOLEAN,)
        elif kind == ENUM:
            kinds[name] = (_ENUM, frozenset(v for v, _ in spec.values))
        else:
            kinds[name] = (_OTHER,)
    kinds.plain_numbers = frozenset(n for n, k in kinds.items() if k[0] == _PLAIN_NUMBER)
    kinds.booleans = frozenset(n for n, k in kinds.items() if k[0] == _BOOLEAN)
    kinds.enums = {n: k[1] for n, k in kinds.items() if k[0] == _ENUM}
    kinds.bounded = {n: (k[1], k[2]) for n, k in kinds.items() if k[0] == _BOUNDED}
    kinds.simple = kinds.plain_numbers | kinds.booleans | frozenset(kinds.enums) | frozenset(kinds.bounded)
    return kinds


def parse_record(
    raw: Any,
    vocabularies: Mapping[str, Mapping[str, FactSpec]],
    derived_names: Container[str] = (),
    kinds_by_industry: Optional[Mapping[str, Mapping[str, FastKind]]] = None,
) -> Record:
    """Validate and normalise a record (a dict from JSON or YAML); raises :class:`RecordError`.

    ``vocabularies`` maps each industry to its fact vocabulary; the record's ``site.industry``
    chooses one.
    """
    if type(raw) is not dict:
        raise RecordError(None, [("$", f"a record must be an object, got {_type_name(raw)}")])
    problems: List[Tuple[str, str]] = json_problems(raw)
    if problems:
        record_id = raw.get("record_id")
        raise RecordError(record_id if type(record_id) is str and _is_unicode(record_id) else None, problems)
    record_id = raw.get("record_id")
    if isinstance(record_id, int) and not isinstance(record_id, bool):
        record_id = str(record_id)
    if not isinstance(record_id, str) or not record_id:
        problems.append(("$.record_id", "required: a non-empty string"))
        record_id = None
    if not raw.keys() <= _RECORD_KEY_SET:
        for key in raw:
            if key not in _RECORD_KEY_SET:
                problems.append((f"$.{key}", f"unknown key{did_you_mean(str(key), RECORD_KEYS)}"))
    day = parse_date(raw.get("inspection_date"))
    if "inspection_date" not in raw:
        problems.append(("$.inspection_date", "required: the inspection date YYYY-MM-DD"))
    elif day is None:
        problems.append(("$.inspection_date", f"expected a date YYYY-MM-DD, got {raw.get('inspection_date')!r}"))
    site = raw.get("site")
    industry = region = None
    attributes: Dict[str, Any] = {}
    if not isinstance(site, dict):
        problems.append(("$.site", "required: an object with at least 'industry'"))
        site = {}
    else:
        if not site.keys() <= _SITE_KEY_SET:
            for key in site:
                if key not in _SITE_KEY_SET:
                    problems.append((f"$.site.{key}", f"unknown key{did_you_mean(str(key), SITE_KEYS)}"))
        industry = site.get("industry")
        if not isinstance(industry, str) or not industry:
            problems.append(("$.site.industry", "required: the site's industry, e.g. coal_mine"))
            industry = None
        elif industry not in vocabularies:
            problems.append(
                (
                    "$.site.industry",
                    f"no loaded rule module covers industry {industry!r}{did_you_mean(industry, vocabularies)}; "
                    f"loaded: {', '.join(sorted(vocabularies))}",
                )
            )
        region = site.get("region")
        if region is not None and not isinstance(region, str):
            problems.append(("$.site.region", "expected a region code such as CN-NM"))
        attributes = site.get("attributes") or {}
        if not isinstance(attributes, dict):
            problems.append(("$.site.attributes", f"expected an object, got {_type_name(attributes)}"))
            attributes = {}
    observed = raw.get("facts") if raw.get("facts") is not None else {}
    if not isinstance(observed, dict):
        problems.append(("$.facts", f"expected an object, got {_type_name(observed)}"))
        observed = {}
    facts = vocabularies.get(industry, {}) if isinstance(industry, str) else {}
    kinds = (kinds_by_industry or {}).get(industry) if isinstance(industry, str) else None
    if kinds is None:
        kinds = fast_kinds(facts)
    # One copy of the recorded values; a recorded null stays and reads as "not recorded".
    values: Dict[str, Any] = dict(observed)
    for name in attributes.keys() & observed.keys():
        problems.append((f"$.facts.{name}", f"{name!r} is given both as a site attribute and as a fact"))
    values.update(attributes)
    replacements: Dict[str, Any] = {}
    fast = True
    limit = FAST_NUMBER_LIMIT
    # Plain numbers, booleans and enum codes are checked all at once; only the other values (lists,
    # dates, texts, bounded numbers, unknown names) -- or every value, when that check fails -- one by one.
    to_check: Any = values
    if isinstance(kinds, FastKinds):
        simple = values.keys() & kinds.simple
        if _simple_values_valid(values, simple, kinds):
            to_check = [] if len(simple) == len(values) else [n for n in values if n not in simple]  # record order
    for name in list(to_check):
        value = values[name]
        # the common cases first, without building a path string
        kind = kinds.get(name)
        if kind is not None:
            code = kind[0]
            t = type(value)
            if code == _PLAIN_NUMBER:
                if (t is float or t is int) and -limit < value < limit:
                    continue
            elif code == _BOOLEAN:
                if t is bool:
                    continue
            elif code == _ENUM:
                if t is str and value in kind[1]:
                    continue
            elif code == _BOUNDED:
                if (t is float or t is int) and -limit < value < limit and kind[1] <= value <= kind[2]:
                    continue
            if value is None:
                continue
        path = f"{'$.site.attributes' if name in attributes else '$.facts'}.{name}"
        spec = facts.get(name) if isinstance(name, str) else None
        if spec is None:
            if industry in vocabularies:
                if name in derived_names:
                    problems.append((path, f"{name!r} is a derived fact: it is computed from other facts, not recorded"))
                else:
                    problems.append((path, f"unknown fact {name!r}{did_you_mean(str(name), facts)}"))
            continue
        checked = check_value(spec, value, path, problems)
        replacements[name] = checked
        if checked is not None and not _fast_value(spec, checked):
            fast = False  # decided by the exact interpreter
    values.update(replacements)
    findings = raw.get("findings") or []
    if not isinstance(findings, list) or not all(isinstance(f, dict) for f in findings):
        problems.append(("$.findings", "expected a list of objects"))
        findings = []
    if problems or record_id is None or day is None or industry is None:  # each None is a problem above
        raise RecordError(record_id, problems)
    return Record(
        record_id=record_id,
        inspection_date=day,
        industry=industry,
        region=region,
        values=values,
        site=dict(site),
        findings=tuple(findings),
        inspector_findings=raw.get("inspector_findings"),
        fast=fast,
    )


class RecordParser:
    """``parse_record`` bound to one rule set's vocabularies: the one place where a record is checked
    and normalised, whichever backend then decides it. (The compiled evaluator accepts the plainest
    records on its own, and declines everything else to this parser, which names the problem.)"""

    __slots__ = ("_vocabularies", "_derived", "_kinds")

    def __init__(self, vocabularies: Mapping[str, Mapping[str, FactSpec]], derived_names: Container[str] = ()) -> None:
        self._vocabularies = vocabularies
        self._derived = derived_names
        self._kinds = {industry: fast_kinds(vocabulary) for industry, vocabulary in vocabularies.items()}

    def __call__(self, raw: Any) -> Record:
        if isinstance(raw, Record):
            return raw
        return parse_record(raw, self._vocabularies, self._derived, self._kinds)
