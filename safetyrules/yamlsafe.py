"""Safe YAML (and JSON) reading that remembers where every value came from.

PyYAML's ``safe_load`` throws positions away, yet authors need ``file:line:col`` on every error. We
compose the node graph ourselves and keep each node's mark, keyed by its path in the document. The
same walk enforces the bounds that make hostile input harmless: only the standard YAML tags, no
duplicate keys, and limits on size, nesting depth and alias expansion (a "billion laughs" document
expands aliases exponentially, so we count nodes as they are expanded).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Tuple, Type, Union

import yaml

from .errors import Diagnostic, Location

MAX_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 500_000

Path = Tuple[Any, ...]

_SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
}


@dataclass
class Positions:
    """Where each value (and each mapping key) of a loaded document stands in its file."""

    path: str
    values: Dict[Path, Tuple[int, int]] = field(default_factory=dict)
    keys: Dict[Path, Tuple[int, int]] = field(default_factory=dict)

    def at(self, doc_path: Path, key: bool = False) -> Location:
        """The location of ``doc_path``, or of its nearest ancestor that has one."""
        table = self.keys if key else self.values
        p = tuple(doc_path)
        while True:
            if p in table:
                line, col = table[p]
                return Location(self.path, line, col)
            if p in self.values:
                line, col = self.values[p]
                return Location(self.path, line, col)
            if not p:
                return Location(self.path)
            p = p[:-1]


#: libyaml's parser when PyYAML was built with it (about ten times faster), else the pure-Python one.
_LOADER: Union[Type[yaml.CSafeLoader], Type[yaml.SafeLoader]] = (
    yaml.CSafeLoader if getattr(yaml, "__with_libyaml__", False) else yaml.SafeLoader
)

MAX_INDENT = 2000


#: what is not a bracket: removed before the brackets are counted (a C-speed pass over the text)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")
MAX_FLOW_DEPTH = 500


def _nesting_beyond_limits(text: str) -> str:
    """A reason when the text nests absurdly deep, checked before parsing: the C parser recurses
    natively, and a hostile document must get an error, not a crash.

    Both scans are skipped when the text cannot hold what they look for: flow depth past the limit
    needs more opening brackets than the limit, and a line indented past ``MAX_INDENT`` needs a run of
    more spaces than that."""
    depth = deepest = 0
    brackets = _NOT_BRACKETS.sub("", text) if (text.count("[") + text.count("{")) > MAX_FLOW_DEPTH else ""
    for ch in brackets:
        if ch in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
        elif ch in "]}":
            depth -= 1
    if deepest > MAX_FLOW_DEPTH:
        return f"nested deeper than {MAX_DEPTH} levels ({deepest} open brackets)"
    if " " * (MAX_INDENT + 1) not in text:
        return ""
    widest = max((len(line) - len(line.lstrip(" ")) for line in text.splitlines()), default=0)
    if widest > MAX_INDENT:
        return f"nested deeper than {MAX_DEPTH} levels (a line indented {widest} spaces)"
    return ""


class YamlError(Exception):
    """The document is not acceptable YAML; carries one diagnostic.

    Already a :class:`Diagnostic` inside: the exception only stops the parse at the first problem, and
    callers (the loader, ``fmt``, record input) report its ``diagnostic``."""

    def __init__(self, diagnostic: Diagnostic):
        self.diagnostic = diagnostic
        super().__init__(str(diagnostic))


def decode_text(data: bytes, path: str) -> str:
    """UTF-8 text of a file, or a located error; a BOM is allowed."""
    if len(data) > MAX_BYTES:
        raise YamlError(Diagnostic("E-TOO-LARGE", f"file is {len(data)} bytes; the limit is {MAX_BYTES}", Location(path)))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise YamlError(
            Diagnostic("E-ENCODING", f"not UTF-8 text (byte 0x{data[exc.start]:02x})", Location(path, line, col))
        ) from None


def load_yaml_text(text: str, path: str) -> Tuple[Any, Positions]:
    """Parse one YAML document into plain Python values plus their positions."""
    if len(text) > MAX_BYTES:
        raise YamlError(
            Diagnostic("E-TOO-LARGE", f"document is {len(text)} characters; the limit is {MAX_BYTES}", Location(path))
        )
    positions = Positions(path)
    too_deep = _nesting_beyond_limits(text)
    if too_deep:
        raise YamlError(Diagnostic("E-TOO-DEEP", too_deep, Location(path)))
    try:
        if len(text) > MAX_NODES:  # shorter text cannot hold more nodes than the limit: skip the count
            too_many = _too_many_nodes(text, path)
            if too_many is not None:
                raise YamlError(Diagnostic("E-TOO-LARGE", f"more than {MAX_NODES} values in one document", too_many))
        loader = _LOADER(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = Location(path, mark.line + 1, mark.column + 1) if mark else Location(path)
        msg = " ".join(x for x in (exc.context, exc.problem) if x)
        raise YamlError(Diagnostic("E-YAML", f"malformed YAML: {msg}", loc)) from None
    except yaml.YAMLError as exc:
        raise YamlError(Diagnostic("E-YAML", f"malformed YAML: {exc}", Location(path))) from None
    except RecursionError:
        raise YamlError(Diagnostic("E-TOO-DEEP", f"nested deeper than {MAX_DEPTH} levels", Location(path))) from None
    if node is None:
        return None, positions
    builder = _Builder(path, positions)
    return builder.build(node, (), 0), positions


_NODE_EVENTS = (yaml.ScalarEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent, yaml.AliasEvent)


def _too_many_nodes(text: str, path: str) -> Optional[Location]:
    """Where the first node past MAX_NODES stands, counted on the parser's event stream, or None.

    Composing a document builds every node before anything can be counted (a 6 MB module took
    ~1 GB and 21 s before the old limit refused it); events cost constant memory, so the limit is
    met after reading MAX_NODES values, not after building them all.
    """
    loader = _LOADER(text)
    try:
        count = 0
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, _NODE_EVENTS):
                count += 1
                if count > MAX_NODES:
                    mark = event.start_mark
                    return Location(path, mark.line + 1, mark.column + 1) if mark else Location(path)
        return None
    finally:
        loader.dispose()


class _Builder:
    def __init__(self, path: str, positions: Positions) -> None:
        self.path = path
        self.positions = positions
        self.count = 0
        self.constructor = yaml.SafeLoader.__new__(yaml.SafeLoader)
        yaml.constructor.SafeConstructor.__init__(self.constructor)

    def _fail(self, code: str, message: str, node: yaml.Node) -> YamlError:
        mark = node.start_mark
        return YamlError(Diagnostic(code, message, Location(self.path, mark.line + 1, mark.column + 1)))

    def build(self, node: yaml.Node, doc_path: Path, depth: int) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise self._fail("E-TOO-LARGE", f"more than {MAX_NODES} values (alias expansion is bounded)", node)
        if depth > MAX_DEPTH:
            raise self._fail("E-TOO-DEEP", f"nested deeper than {MAX_DEPTH} levels", node)
        self.positions.values[doc_path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.ScalarNode):
            if node.tag not in _SCALAR_TAGS:
                raise self._fail("E-YAML-TAG", f"tag {node.tag!r} is not allowed (only plain YAML values)", node)
            try:
                return self.constructor.construct_object(node, deep=True)
            except (yaml.YAMLError, ValueError) as exc:
                raise self._fail("E-YAML", f"bad scalar value: {exc}", node) from None
        if isinstance(node, yaml.SequenceNode):
            if node.tag != "tag:yaml.org,2002:seq":
                raise self._fail("E-YAML-TAG", f"tag {node.tag!r} is not allowed", node)
            return [self.build(child, doc_path + (i,), depth + 1) for i, child in enumerate(node.value)]
        if isinstance(node, yaml.MappingNode):
            if node.tag != "tag:yaml.org,2002:map":
                raise self._fail("E-YAML-TAG", f"tag {node.tag!r} is not allowed", node)
            self.constructor.flatten_mapping(node)
            result: Dict[str, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    raise self._fail("E-YAML", "mapping keys must be plain scalars", key_node)
                key = self.build(key_node, doc_path + ("<key>",), depth + 1)
                if isinstance(key, (int, float)) and not isinstance(key, bool):
                    key = str(key_node.value)
                if not isinstance(key, str):
                    key = str(key_node.value)
                if key in result:
                    raise self._fail("E-DUPLICATE-KEY", f"key {key!r} appears twice in this mapping", key_node)
                self.positions.keys[doc_path + (key,)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                result[key] = self.build(value_node, doc_path + (key,), depth + 1)
            self.positions.values.pop(doc_path + ("<key>",), None)
            return result
        raise self._fail("E-YAML", "unsupported YAML node", node)
