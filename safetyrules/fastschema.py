"""A quick yes/no check of documents against one of our JSON Schemas, built once from the schema.

The loader validates every rule module with jsonschema, which reports every error with its path and
the subschema it failed. For a module without errors (nearly every load) that walk is about half of
reading it: jsonschema makes a validator object and a generator for each of the document's tens of
thousands of nodes. :func:`compile_check` turns a schema into plain Python closures that answer only
"is this document valid?", and the loader runs jsonschema, as before, only when the answer is no. The
diagnostics therefore stay jsonschema's, unchanged.

What makes that safe is one rule: **a yes is a promise** that jsonschema (draft 2020-12, with the format
checker) accepts the document. A no promises nothing; it costs a second, full validation. Every keyword
below follows jsonschema's own definition for the values a YAML or JSON document holds (``dict`` with
``str`` keys, ``list``, ``str``, ``int``, ``float``, ``bool``, ``None``):

* ``type`` (``integer`` includes floats with an integral value, ``number`` excludes ``bool``);
  ``const`` and ``enum`` compare as jsonschema's ``equal`` does (``True`` is not ``1``; ``1`` is ``1.0``);
* objects: ``properties``, ``additionalProperties``, ``required``, ``propertyNames``, ``minProperties``,
  ``maxProperties``; arrays: ``items`` (without ``prefixItems``), ``minItems``, ``maxItems``, ``uniqueItems``;
  strings: ``pattern`` (``re.search``), ``minLength``, ``maxLength``, ``format: date``;
  numbers: ``minimum``, ``maximum``, ``exclusiveMinimum``, ``exclusiveMaximum``;
* ``allOf``, ``anyOf``, ``oneOf``, ``not``, ``if``/``then``/``else``; ``$ref`` to a JSON pointer in the same
  document (``#/$defs/...``); annotations (``title``, ``description``, ``$comment``, ...) are ignored.

A schema that uses anything else (another keyword, another format, a remote ``$ref``) gets no quick check:
:func:`compile_check` returns None and every document goes to jsonschema. ``format: date`` is checked as
jsonschema 4.26 does (ASCII ``YYYY-MM-DD`` that ``date.fromisoformat`` accepts); an older jsonschema may
accept more, never less, so the check is only allowed where a no cannot turn into a yes (not under
``not``, nor in an ``if`` or a ``oneOf``); so is ``uniqueItems``, compared pair by pair where jsonschema
compares sorted neighbours. ``tests/test_fastschema.py`` compares the answers with jsonschema's on every
shipped module and on thousands of altered ones.
"""

from __future__ import annotations

import numbers
import re
from datetime import date
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple
from urllib.parse import unquote

Check = Callable[[Any], bool]


class Unsupported(Exception):
    """The schema uses something the quick check does not implement."""


#: keywords that never change whether a document is valid
_ANNOTATIONS = frozenset(
    {
        "$schema",
        "$defs",
        "definitions",
        "$comment",
        "title",
        "description",
        "examples",
        "default",
        "deprecated",
        "readOnly",
        "writeOnly",
    }
)
_KEYWORDS = frozenset(
    {
        "$id",
        "$ref",
        "type",
        "const",
        "enum",
        "properties",
        "additionalProperties",
        "required",
        "propertyNames",
        "minProperties",
        "maxProperties",
        "items",
        "minItems",
        "maxItems",
        "uniqueItems",
        "pattern",
        "minLength",
        "maxLength",
        "format",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "allOf",
        "anyOf",
        "oneOf",
        "not",
        "if",
        "then",
        "else",
    }
)

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)


def _is_date(value: str) -> bool:
    if not _DATE.fullmatch(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_number(x: Any) -> bool:
    return not isinstance(x, bool) and isinstance(x, numbers.Number)


def _is_integer(x: Any) -> bool:
    if isinstance(x, bool):
        return False
    return isinstance(x, int) or (isinstance(x, float) and x.is_integer())


_TYPES: Dict[str, Check] = {
    "object": lambda x: isinstance(x, dict),
    "array": lambda x: isinstance(x, list),
    "string": lambda x: isinstance(x, str),
    "boolean": lambda x: isinstance(x, bool),
    "null": lambda x: x is None,
    "number": _is_number,
    "integer": _is_integer,
}


def _always(x: Any) -> bool:
    return True


def _never(x: Any) -> bool:
    return False


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _json_equal(one: Any, two: Any) -> bool:
    """jsonschema's ``equal``: ``True`` is not ``1``, lists and objects compared member by member."""
    if one is two:
        return True
    if isinstance(one, str) or isinstance(two, str):
        return bool(one == two)
    if isinstance(one, list) and isinstance(two, list):
        return len(one) == len(two) and all(_json_equal(a, b) for a, b in zip(one, two))
    if isinstance(one, dict) and isinstance(two, dict):
        return len(one) == len(two) and all(k in two and _json_equal(v, two[k]) for k, v in one.items())
    if isinstance(one, bool) or isinstance(two, bool):
        return False  # two bools that are equal are the same object
    return bool(one == two)


def _unique(items: List[Any]) -> bool:
    for i, item in enumerate(items):
        for other in items[:i]:
            if _json_equal(item, other):
                return False
    return True


def _equals(expected: Any) -> Check:
    """jsonschema's ``equal(instance, expected)``."""
    if not _scalar(expected):
        return lambda x: _json_equal(x, expected)
    if isinstance(expected, str):
        return lambda x: isinstance(x, str) and x == expected
    if isinstance(expected, bool) or expected is None:
        return lambda x: x is expected
    # a number: equal to any number of the same value, never to a bool (``unbool``), a str, a list or a dict
    return lambda x: not isinstance(x, (bool, str, list, dict)) and x == expected


def _all(checks: Sequence[Check]) -> Check:
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda x: first(x) and second(x)
    frozen = tuple(checks)

    def every(x: Any) -> bool:
        for check in frozen:
            if not check(x):
                return False
        return True

    return every


class _Compiler:
    def __init__(self, root: Any) -> None:
        self.root = root
        self.refs: Dict[Tuple[str, bool], Check] = {}

    def resolve(self, ref: str) -> Any:
        if not ref.startswith("#"):
            raise Unsupported(f"$ref {ref!r} outside the document")
        pointer = unquote(ref[1:])
        target = self.root
        if pointer == "":
            return target
        if not pointer.startswith("/"):
            raise Unsupported(f"$ref {ref!r} is not a JSON pointer")
        for part in pointer[1:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if isinstance(target, dict) and part in target:
                target = target[part]
            elif isinstance(target, list) and part.isdigit() and int(part) < len(target):
                target = target[int(part)]
            else:
                raise Unsupported(f"$ref {ref!r} does not resolve")
        return target

    def ref(self, ref: str, exact: bool) -> Check:
        key = (ref, exact)
        known = self.refs.get(key)
        if known is not None:
            return known
        cell: List[Check] = []

        def deferred(x: Any) -> bool:  # a recursive reference, called before its check is made
            return cell[0](x)

        self.refs[key] = deferred
        check = self.compile(self.resolve(ref), exact)
        cell.append(check)
        self.refs[key] = check
        return check

    def compile(self, schema: Any, exact: bool, root: bool = False) -> Check:
        """The check of ``schema``; with ``exact`` its no must also be jsonschema's no (it is negated)."""
        if schema is True:
            return _always
        if schema is False:
            return _never
        if not isinstance(schema, dict):
            raise Unsupported(f"schema {schema!r}")
        unknown = schema.keys() - _KEYWORDS - _ANNOTATIONS
        if unknown:
            raise Unsupported(f"keywords {sorted(unknown)}")
        if "$id" in schema and not root:
            raise Unsupported("$id below the root")
        checks: List[Check] = []
        if "type" in schema:
            checks.append(self.type_check(schema["type"]))
        if "const" in schema:
            checks.append(_equals(schema["const"]))
        if "enum" in schema:
            options = tuple(_equals(v) for v in schema["enum"])
            checks.append(lambda x: any(o(x) for o in options))
        for make in (self.object_check, self.array_check, self.string_check, self.number_check):
            check = make(schema, exact)
            if check is not None:
                checks.append(check)
        if "$ref" in schema:
            checks.append(self.ref(schema["$ref"], exact))
        checks.extend(self.applicators(schema, exact))
        return _all(checks)

    def type_check(self, types: Any) -> Check:
        names = [types] if isinstance(types, str) else list(types)
        if not names or any(n not in _TYPES for n in names):
            raise Unsupported(f"type {types!r}")
        if len(names) == 1:
            return _TYPES[names[0]]
        tests = tuple(_TYPES[n] for n in names)
        return lambda x: any(t(x) for t in tests)

    def object_check(self, schema: Mapping[str, Any], exact: bool) -> Optional[Check]:
        words = ("properties", "additionalProperties", "required", "propertyNames", "minProperties", "maxProperties")
        if not any(w in schema for w in words):
            return None
        props = {k: self.compile(v, exact) for k, v in (schema.get("properties") or {}).items()}
        extra = schema.get("additionalProperties", True)
        closed = extra is False
        other = None if extra is True or closed else self.compile(extra, exact)
        required = tuple(schema.get("required") or ())
        names = self.compile(schema["propertyNames"], exact) if "propertyNames" in schema else None
        least = schema.get("minProperties", 0)
        most = schema.get("maxProperties")
        lookup = props.get

        def check(x: Any) -> bool:
            if not isinstance(x, dict):
                return True
            if len(x) < least or (most is not None and len(x) > most):
                return False
            for key in required:
                if key not in x:
                    return False
            for key, value in x.items():
                sub = lookup(key)
                if sub is None:
                    if closed or (other is not None and not other(value)):
                        return False
                elif not sub(value):
                    return False
                if names is not None and not names(key):
                    return False
            return True

        return check

    def array_check(self, schema: Mapping[str, Any], exact: bool) -> Optional[Check]:
        if not any(w in schema for w in ("items", "minItems", "maxItems", "uniqueItems")):
            return None
        each = self.compile(schema["items"], exact) if "items" in schema else None
        least = schema.get("minItems", 0)
        most = schema.get("maxItems")
        unique = bool(schema.get("uniqueItems", False))
        if unique and exact:
            raise Unsupported("uniqueItems where a no must be exact")

        def check(x: Any) -> bool:
            if not isinstance(x, list):
                return True
            if len(x) < least or (most is not None and len(x) > most):
                return False
            if each is not None:
                for item in x:
                    if not each(item):
                        return False
            return not unique or _unique(x)

        return check

    def string_check(self, schema: Mapping[str, Any], exact: bool) -> Optional[Check]:
        if not any(w in schema for w in ("pattern", "minLength", "maxLength", "format")):
            return None
        search = re.compile(schema["pattern"]).search if "pattern" in schema else None
        least = schema.get("minLength", 0)
        most = schema.get("maxLength")
        fmt = schema.get("format")
        if fmt is not None and (fmt != "date" or exact):
            raise Unsupported(f"format {fmt!r}" + (" where a no must be exact" if fmt == "date" else ""))
        dated = fmt == "date"

        def check(x: Any) -> bool:
            if not isinstance(x, str):
                return True
            if len(x) < least or (most is not None and len(x) > most):
                return False
            if search is not None and search(x) is None:
                return False
            return not dated or _is_date(x)

        return check

    def number_check(self, schema: Mapping[str, Any], exact: bool) -> Optional[Check]:
        bounds = [(w, schema[w]) for w in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum") if w in schema]
        if not bounds:
            return None
        low = schema.get("minimum")
        high = schema.get("maximum")
        low_open = schema.get("exclusiveMinimum")
        high_open = schema.get("exclusiveMaximum")

        def check(x: Any) -> bool:
            if not _is_number(x):
                return True
            if low is not None and x < low:
                return False
            if high is not None and x > high:
                return False
            if low_open is not None and x <= low_open:
                return False
            return high_open is None or x < high_open

        return check

    def applicators(self, schema: Mapping[str, Any], exact: bool) -> List[Check]:
        out: List[Check] = []
        if "allOf" in schema:
            out.append(_all([self.compile(s, exact) for s in schema["allOf"]]))
        if "anyOf" in schema:
            options = tuple(self.compile(s, exact) for s in schema["anyOf"])
            out.append(lambda x: any(o(x) for o in options))
        if "oneOf" in schema:  # exactly one: a no of one option must be exact, or a yes could be wrong
            choices = tuple(self.compile(s, True) for s in schema["oneOf"])
            out.append(lambda x: sum(1 for c in choices if c(x)) == 1)
        if "not" in schema:
            negated = self.compile(schema["not"], True)
            out.append(lambda x: not negated(x))
        if "if" in schema:
            condition = self.compile(schema["if"], True)
            then = self.compile(schema.get("then", True), exact)
            otherwise = self.compile(schema.get("else", True), exact)
            out.append(lambda x: then(x) if condition(x) else otherwise(x))
        return out


def compile_check(schema: Mapping[str, Any]) -> Optional[Check]:
    """A predicate whose True means jsonschema finds no error in the document, or None when the schema
    uses something this module does not implement (then every document needs jsonschema)."""
    try:
        return _Compiler(schema).compile(schema, False, root=True)
    except (Unsupported, re.error, TypeError, AttributeError):
        return None
