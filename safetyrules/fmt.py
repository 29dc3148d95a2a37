"""``safetyrules fmt``: one canonical layout for rule modules, so that two versions of a standard differ
only where their content does.

The layout: sections in the schema's order (schema_version, module, facts, derived, categories, rules,
overlay), keys of a module, fact, rule, ... in the order docs/authoring.md lists them (unknown keys after,
as written), two-space indentation, ``{zh, en}`` texts, citations, thresholds and other small mappings
on one line, strings quoted only where YAML would misread them (always with double quotes), and long
expressions and prose folded (``>-``) at spaces to a fixed width. Comments are kept: a comment line
stays before the key or item that follows it, a trailing comment stays on the line of its key.

The rewrite is checked before a file is touched: the formatted text must load to exactly the same
values and keep every comment, and formatting it again must change nothing. A file that fails the check
is left as it was and reported (exit 2).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Dict, List, Mapping, Optional, Sequence, Set, Tuple

import yaml

from .yamlsafe import Path, Positions, YamlError, decode_text, load_yaml_text

WIDTH = 120

TOP_ORDER = ("schema_version", "module", "facts", "derived", "categories", "rules", "overlay")
MODULE_ORDER = (
    "id",
    "series",
    "version",
    "title",
    "document",
    "effective_from",
    "effective_until",
    "supersedes",
    "superseded_by",
    "jurisdiction",
    "industry",
    "scope",
    "imports",
    "extends",
    "threshold_reading",
    "confidence",
    "completeness",
    "completeness_notes",
    "judgement",
    "sources",
    "illustration",
)
DOCUMENT_ORDER = ("title", "number", "issuer", "issued", "url", "part")
FACT_ORDER = (
    "type",
    "site",
    "unit",
    "minimum",
    "maximum",
    "key",
    "label",
    "description",
    "judgement",
    "presumed",
    "values",
    "fields",
)
PRESUMPTION_ORDER = ("value", "reason", "source")
EXCEPTION_ORDER = ("when", "label", "citation", "text")
DERIVED_ORDER = ("expr", "unit", "label", "description", "source")
RULE_ORDER = (
    "id",
    "citation",
    "category",
    "title",
    "description",
    "applies_if",
    "for_each",
    "when",
    "unless",
    "thresholds",
    "severity",
    "notes",
)
OVERLAY_ORDER = ("rule", "action", "when", "thresholds", "reason", "citation")
CITATION_ORDER = ("section", "article", "paragraph", "item", "sub_item", "clause", "table")
TEXT_ORDER = ("zh", "en")
CONFIDENCE_ORDER = ("level", "notes", "unverified")
THRESHOLD_ORDER = ("fact", "term", "value", "note")

#: strings that are conditions or derived-fact expressions (folded like prose when long)
EXPRESSION_KEYS = {"when", "applies_if", "scope", "expr"}


#: the target of comments above the first key of the file
HEAD = ("<head>",)


class FormatError(Exception):
    """The file cannot be formatted safely (it does not load, or the rewrite would change it).

    An exception rather than a :class:`~safetyrules.errors.Diagnostic`: it refuses a whole file, and the
    file is left as it was; where the cause is a located YAML problem, its diagnostic is in the message."""


# ------------------------------------------------------------------------------------------ scalars

_PLAIN_START = re.compile(r"^[-?:,\[\]{}#&*!|>'\"%@`\s]")


def scalar(value: Any, flow: bool = False) -> str:
    """A scalar as canonical YAML: plain where YAML reads it back as the same value, else double-quoted."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    if _plain_ok(text, flow):
        return text
    return json.dumps(text, ensure_ascii=False)


def _plain_ok(text: str, flow: bool) -> bool:
    if not text or _PLAIN_START.match(text) or text != text.strip() or "\n" in text or "\t" in text:
        return False
    if ": " in text or " #" in text or text.endswith(":"):
        return False
    if flow and any(c in text for c in ",[]{}"):
        return False
    if any(ord(c) < 32 or c in "\u2028\u2029\ufeff\x85" for c in text):
        return False
    try:
        return bool(yaml.safe_load(text) == text)
    except yaml.YAMLError:
        return False


def _fold(text: str, width: int) -> Optional[List[str]]:
    """Lines of a folded (``>-``) scalar that reads back as exactly ``text``, broken at single spaces; None
    when ``text`` cannot be folded exactly (newlines, runs of spaces, leading or trailing blanks)."""
    if not text or "\n" in text or "  " in text or text != text.strip() or "\t" in text:
        return None
    if any(ord(c) < 32 for c in text):
        return None
    words = text.split(" ")
    lines, current = [], ""
    for word in words:
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    lines.append(current)
    return lines


# ------------------------------------------------------------------------------------------ emitter


@dataclass
class Line:
    text: str
    #: document paths whose key or item begins on this line (for re-attaching comments)
    paths: List[Path] = field(default_factory=list)


def _ordered(mapping: Mapping[str, Any], order: Sequence[str]) -> List[Tuple[str, Any]]:
    known = [(k, mapping[k]) for k in order if k in mapping]
    return known + [(k, v) for k, v in mapping.items() if k not in order]


def _order_for(path: Path) -> Sequence[str]:
    """The key order of the mapping at ``path`` (a path of keys and list indexes from the document root)."""
    p = tuple("#" if isinstance(x, int) else x for x in path)
    if p == ():
        return TOP_ORDER
    if p == ("module",):
        return MODULE_ORDER
    if p == ("module", "document"):
        return DOCUMENT_ORDER
    if p == ("module", "confidence"):
        return CONFIDENCE_ORDER
    if len(p) == 2 and p[0] == "facts" or len(p) == 4 and p[0] == "facts" and p[2] == "fields":
        return FACT_ORDER
    if len(p) == 2 and p[0] == "derived":
        return DERIVED_ORDER
    if p[:1] == ("rules",) and len(p) == 2:
        return RULE_ORDER
    if p[:1] == ("overlay",) and len(p) == 2:
        return OVERLAY_ORDER
    if p[-1:] == ("presumed",):
        return PRESUMPTION_ORDER
    if p[:1] == ("rules",) and len(p) == 4 and p[2] == "unless":
        return EXCEPTION_ORDER
    if p[-1:] == ("citation",):
        return CITATION_ORDER
    if len(p) >= 2 and p[-2] == "thresholds":
        return THRESHOLD_ORDER
    if p[-1:] in (("title",), ("label",), ("issuer",), ("name",), ("reason",)) or (len(p) >= 2 and p[-2] == "values"):
        return TEXT_ORDER
    if p[:1] == ("categories",) and len(p) == 2:
        return ("id", "title", "citation")
    return ()


#: mappings that are always written in block style (one key a line), whatever their size
def _always_block(path: Path) -> bool:
    p = tuple("#" if isinstance(x, int) else x for x in path)
    return (
        p
        in (
            (),
            ("module",),
            ("module", "document"),
            ("module", "confidence"),
            ("module", "threshold_reading"),
            ("facts",),
            ("derived",),
            ("categories",),
            ("rules",),
            ("overlay",),
        )
        or (len(p) == 2 and p[0] in ("facts", "derived", "rules", "overlay", "categories"))
        or (len(p) == 3 and p[0] == "facts" and p[2] in ("values", "fields"))
    )


def _list_of_mappings(value: Any) -> bool:
    """A list of mappings (thresholds, sources, ...) is a block list, one item a line."""
    return isinstance(value, list) and any(isinstance(v, dict) for v in value)


def _flow(value: Any, path: Path) -> Optional[str]:
    """The value on one line (flow style), or None when it holds something that must not be flowed."""
    if isinstance(value, dict):
        parts = []
        for k, v in _ordered(value, _order_for(path)):
            inner = _flow(v, path + (k,))
            if inner is None:
                return None
            parts.append(f"{scalar(k, flow=True)}: {inner}")
        return "{" + ", ".join(parts) + "}"
    if isinstance(value, list):
        parts = []
        for i, v in enumerate(value):
            inner = _flow(v, path + (i,))
            if inner is None:
                return None
            parts.append(inner)
        return "[" + ", ".join(parts) + "]"
    if isinstance(value, str) and (("\n" in value) or path[-1:] and path[-1] in EXPRESSION_KEYS and len(value) > 60):
        return None
    return scalar(value, flow=True)


def _descendants(value: Any, path: Path) -> List[Path]:
    out = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            out.extend(_descendants(v, path + (k,)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.extend(_descendants(v, path + (i,)))
    return out


def _emit_value(prefix: str, value: Any, path: Path, indent: int, out: List[Line], width: int) -> None:
    """Emit ``prefix`` (``key:`` or ``-``) followed by ``value`` at ``indent``."""
    pad = " " * indent
    if isinstance(value, (dict, list)) and value and not _always_block(path) and not _list_of_mappings(value):
        flowed = _flow(value, path)
        if flowed is not None and (len(pad) + len(prefix) + 1 + len(flowed) <= width or _is_text(path, value)):
            out.append(Line(f"{pad}{prefix} {flowed}", _descendants(value, path)))
            return
    if isinstance(value, dict) and value:
        if not prefix:  # the document itself
            for k, v in _ordered(value, _order_for(path)):
                _emit_value(f"{scalar(k)}:", v, path + (k,), indent, out, width)
            return
        child = indent + 2
        entries: List[Line] = []
        for k, v in _ordered(value, _order_for(path)):
            _emit_value(f"{scalar(k)}:", v, path + (k,), child, entries, width)
        if prefix == "-":  # a list item: its first key on the dash's line
            entries[0].text = f"{pad}- " + entries[0].text[child:]
            entries[0].paths.append(path)
        else:
            out.append(Line(f"{pad}{prefix}", [path]))
        out.extend(entries)
        return
    if isinstance(value, list) and value:
        out.append(Line(f"{pad}{prefix}", [path]))
        for i, v in enumerate(value):
            _emit_value("-", v, path + (i,), indent + 2, out, width)
        return
    if isinstance(value, str):
        one = f"{pad}{prefix} {scalar(value)}"
        if "\n" in value.rstrip("\n") or (value.endswith("\n") and value.strip()):
            block = _literal(value, indent + 2)
            if block is not None:
                out.append(Line(f"{pad}{prefix} {block[0]}", [path]))
                out.extend(Line(t) for t in block[1:])
                return
        if len(one) > width:
            folded = _fold(value, max(40, width - indent - 2))
            if folded is not None and len(folded) > 1:
                out.append(Line(f"{pad}{prefix} >-", [path]))
                out.extend(Line(" " * (indent + 2) + t) for t in folded)
                return
        out.append(Line(one, [path]))
        return
    empty = "{}" if isinstance(value, dict) else "[]" if isinstance(value, list) else scalar(value)
    out.append(Line(f"{pad}{prefix} {empty}", [path]))


def _is_text(path: Path, value: Any) -> bool:
    return isinstance(value, dict) and set(value) <= {"zh", "en"} and all(isinstance(v, str) for v in value.values())


def _literal(value: str, indent: int) -> Optional[List[str]]:
    """A literal block (``|`` or ``|-``) for multi-line text, or None when it cannot be exact."""
    body = value[:-1] if value.endswith("\n") else value
    if body.endswith("\n") or any(l != l.rstrip() for l in body.split("\n")) or body.startswith((" ", "\n")):
        return None
    head = "|" if value.endswith("\n") else "|-"
    return [head] + [(" " * indent + l) if l else "" for l in body.split("\n")]


# ------------------------------------------------------------------------------------------ comments


@dataclass(frozen=True)
class Comments:
    #: (source line, text): whole-line comments, with the path of the node that follows them
    leading: Tuple[Tuple[Optional[Path], Tuple[str, ...]], ...]
    #: path -> trailing comment text
    trailing: Tuple[Tuple[Path, str], ...]
    count: int


def _node_lines(positions: Positions) -> List[Tuple[int, int, Path]]:
    """(line, column, path) of every key and value, in source order."""
    starts: Dict[Path, Tuple[int, int]] = {}
    for p, (line, col) in positions.values.items():
        starts[p] = (line, col)
    for p, (line, col) in positions.keys.items():
        starts[p] = (line, col)  # a key starts before its value
    return sorted((line, col, p) for p, (line, col) in starts.items())


def _block_scalar_lines(value: Any, positions: Positions, lines: Sequence[str], path: Path = ()) -> Set[int]:
    """Source lines inside block scalars (``>`` / ``|``), where '#' is text, not a comment."""
    out: Set[int] = set()
    if isinstance(value, dict):
        for k, v in value.items():
            out |= _block_scalar_lines(v, positions, lines, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out |= _block_scalar_lines(v, positions, lines, path + (i,))
    elif isinstance(value, str) and path in positions.values:
        line, col = positions.values[path]
        raw = lines[line - 1] if line <= len(lines) else ""
        if raw[col - 1 : col] in (">", "|"):
            key_indent = len(raw) - len(raw.lstrip(" "))
            n = line + 1
            while n <= len(lines):
                t = lines[n - 1]
                if t.strip() and len(t) - len(t.lstrip(" ")) <= key_indent:
                    break
                out.add(n)
                n += 1
    return out


def _trailing_comment(raw: str) -> Optional[int]:
    """Where a trailing comment starts on a source line (outside quotes), or None."""
    quote = None
    i = 0
    while i < len(raw):
        c = raw[i]
        if quote:
            if c == "\\" and quote == '"':
                i += 2
                continue
            if c == quote:
                if quote == "'" and raw[i + 1 : i + 2] == "'":
                    i += 2
                    continue
                quote = None
        elif c in "'\"" and (i == 0 or raw[i - 1] in " :[{,-"):
            quote = c
        elif c == "#" and i > 0 and raw[i - 1] in " \t":
            return i
        i += 1
    return None


def collect_comments(value: Any, positions: Positions, lines: Sequence[str]) -> Comments:
    in_block = _block_scalar_lines(value, positions, lines)
    nodes = _node_lines(positions)
    leading: List[Tuple[Optional[Path], Tuple[str, ...]]] = []
    trailing: List[Tuple[Path, str]] = []
    pending: List[str] = []
    count = 0
    node_i = 0
    seen_node = False
    for n, raw in enumerate(lines, start=1):
        if n in in_block:
            continue
        stripped = raw.strip()
        if stripped.startswith("#"):
            pending.append(stripped)
            count += 1
            continue
        if not stripped:
            if pending and pending[-1] != "":
                pending.append("")  # keep a blank line between a comment block and what follows
            continue
        while node_i < len(nodes) and nodes[node_i][0] < n:
            node_i += 1
        here = [p for line, _, p in nodes[node_i:] if line == n and p != ()]
        if pending:
            target = min(here, key=len) if here else None
            if not seen_node:
                target = HEAD  # the file's header comment stays first (with its blank line, if any)
            while pending and pending[-1] == "" and target != HEAD:
                pending.pop()
            leading.append((target, tuple(pending)))
            pending = []
        seen_node = seen_node or bool(here)
        at = _trailing_comment(raw)
        if at is not None:
            count += 1
            target = max(here, key=len) if here else None
            if target is None:
                raise FormatError(f"line {n}: a comment inside a value that spans lines cannot be kept")
            trailing.append((target, raw[at:].rstrip()))
    if pending:
        while pending and pending[-1] == "":
            pending.pop()
        leading.append((None, tuple(pending)))
    return Comments(tuple(leading), tuple(trailing), count)


# ------------------------------------------------------------------------------------------ format


def format_text(text: str, path: str = "<module>", width: int = WIDTH) -> str:
    """The canonical text of a module; raises :class:`FormatError` when that cannot be done safely."""
    try:
        value, positions = load_yaml_text(text, path)
    except YamlError as exc:
        raise FormatError(str(exc.diagnostic)) from None
    if not isinstance(value, dict):
        raise FormatError(f"{path}: not a rule module (a mapping)")
    lines = text.splitlines()
    comments = collect_comments(value, positions, lines)
    out: List[Line] = []
    _emit_value("", value, (), 0, out, width)
    # one blank line between top-level sections and between the items of facts, derived and rules
    spaced: List[Line] = []
    for line in out:
        top = any(len(p) == 1 for p in line.paths) and not line.text.startswith(" ")
        if spaced and top and spaced[-1].text != "" and len(spaced) > 1:
            spaced.append(Line(""))
        spaced.append(line)
    # comments back in place
    trailing = dict(comments.trailing)
    for p, note in comments.trailing:
        for line in spaced:
            if p in line.paths:
                line.text += ("  " if line.text else "") + note
                break
        else:
            raise FormatError(f"{path}: a trailing comment ({note}) has no place in the formatted text")
    result: List[str] = []
    before: Dict[int, List[Tuple[str, ...]]] = {}
    tail: List[Tuple[str, ...]] = []
    for target, block in comments.leading:
        if target is None:
            tail.append(block)
            continue
        if target == HEAD:
            continue
        for i, line in enumerate(spaced):
            if target in line.paths:
                before.setdefault(i, []).append(block)
                break
        else:
            raise FormatError(f"{path}: a comment ({block[0]}) has no place in the formatted text")
    for target, block in comments.leading:
        if target == HEAD:
            result.extend(block)
    for i, line in enumerate(spaced):
        for block in before.get(i, ()):
            indent = len(line.text) - len(line.text.lstrip(" "))
            if line.text.lstrip().startswith("- "):
                indent += 0
            result.extend((" " * indent + c) if c else "" for c in block)
        result.append(line.text)
    for block in tail:
        result.extend(block)
    del trailing
    formatted = "\n".join(_squeeze(result)).strip("\n") + "\n"
    _check(text, formatted, value, comments.count, path, width)
    return formatted


def _squeeze(lines: List[str]) -> List[str]:
    out: List[str] = []
    for line in lines:
        if line == "" and (not out or out[-1] == ""):
            continue
        out.append(line)
    return out


def _check(original: str, formatted: str, value: Any, comment_count: int, path: str, width: int) -> None:
    try:
        again, positions = load_yaml_text(formatted, path)
    except YamlError as exc:  # pragma: no cover - the emitter's own bug
        raise FormatError(f"{path}: the formatted text does not load ({exc.diagnostic}); left unchanged") from None
    if again != value:
        raise FormatError(f"{path}: formatting would change a value; left unchanged")
    kept = collect_comments(again, positions, formatted.splitlines()).count
    if kept != comment_count:
        raise FormatError(f"{path}: formatting would keep {kept} of {comment_count} comments; left unchanged")


def format_file(path: str, width: int = WIDTH) -> Tuple[str, str]:
    with open(path, "rb") as fh:
        data = fh.read()
    try:
        text = decode_text(data, path)
    except YamlError as exc:
        raise FormatError(str(exc.diagnostic)) from None
    formatted = format_text(text, path, width)
    if format_text(formatted, path, width) != formatted:
        raise FormatError(f"{path}: formatting is not stable for this file; left unchanged")
    return text, formatted


# ------------------------------------------------------------------------------------------ files


def module_files(paths: Sequence[str]) -> List[str]:
    """The rule modules among ``paths``: files as given, and under folders every ``*.yaml`` except pack
    manifests and test cases, which have layouts of their own."""
    import glob

    files: List[str] = []
    for p in paths:
        if os.path.isdir(p):
            files.extend(
                sorted(
                    f
                    for f in glob.glob(os.path.join(p, "**", "*.yaml"), recursive=True)
                    if os.path.basename(f) != "pack.yaml"
                    and not f.endswith(".test.yaml")
                    and "/tests/" not in f.replace(os.sep, "/")
                )
            )
        else:
            files.append(p)
    return files
