"""The checked IR: the compiled rule set every backend executes.

What the compiler (:mod:`safetyrules.compiler`) produces from loaded modules: each rule with its
type-checked expressions and what it reads in the end, the modules with their scopes, the derived
facts in evaluation order and one fact vocabulary per industry. It depends on the data model and the
expression language only -- not on the loader or the compiler -- so that backends, the report
builder and tools read it without pulling in YAML. :mod:`.validate` checks its invariants and
:mod:`.printer` prints it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from functools import cached_property
from typing import Dict, FrozenSet, List, Mapping, Optional, Tuple, TypedDict

from ..expr import ast
from ..model import DerivedFact, FactSpec, Industry, Module, OverlayChange, Pack, Presumption, Rule


class ModuleJson(TypedDict):
    """How a determination names its module (the report's ``module`` object)."""

    id: str
    version: Optional[str]
    document: str
    document_number: str


@dataclass(frozen=True)
class CompiledRule:
    rule: Rule
    #: base facts this rule can read, directly or through derived facts (scope included)
    base_facts: FrozenSet[str]
    #: derived facts it reads, transitively, in evaluation order
    derived: Tuple[str, ...]

    @property
    def id(self) -> str:
        return self.rule.id

    @property
    def when(self) -> ast.CheckedExpr:
        """The rule's condition, type-checked (the compiler replaced the parsed one)."""
        return ast.CheckedExpr(self.rule.when)

    @property
    def applies_if(self) -> Optional[ast.CheckedExpr]:
        return None if self.rule.applies_if is None else ast.CheckedExpr(self.rule.applies_if)


def read_label(node: ast.Node, bound: Mapping[str, str]) -> Optional[str]:
    """What a name or item field node reads: a fact's name, or ``list.field`` for a field of an item
    (``bound``: item variable -> list fact); None for any other node."""
    if isinstance(node, ast.Name) and node.name not in bound:
        return node.name
    if isinstance(node, ast.ItemField) and node.var in bound:
        return f"{bound[node.var]}.{node.field_name}"
    return None


def presumption_at(label: str, vocabulary: Mapping[str, FactSpec]) -> Optional[Presumption]:
    """The presumption declared for a fact or a list field (``list.field``), if any."""
    owner, _, field_name = label.partition(".")
    spec = vocabulary.get(owner)
    if spec is not None and field_name:
        spec = spec.field(field_name)
    return None if spec is None else spec.presumed


def presumption_of(node: ast.Node, vocabulary: Mapping[str, FactSpec], bound: Mapping[str, str]) -> Optional[Presumption]:
    """The presumption of what a name or item field node reads, if it has one."""
    label = read_label(node, bound)
    return None if label is None else presumption_at(label, vocabulary)


def direct_reads(rule: Rule, condition: ast.Node, *, values_only: bool = False) -> Tuple[str, ...]:
    """The facts and list fields (``list.field``) a condition of ``rule`` reads itself (not through derived
    facts), in order of first reading; ``values_only`` leaves out what only ``known()`` asks about
    (whether it was recorded, not its value)."""
    out: Dict[str, None] = {}

    def visit(node: ast.Node, bound: Mapping[str, str]) -> None:
        label = read_label(node, bound)
        if label is not None:
            out[label] = None
        elif isinstance(node, ast.Quantifier) and node.condition is not None and node.var is not None:
            visit(node.condition, {**bound, node.var: node.list_name})
        elif not (values_only and isinstance(node, ast.Call) and node.func == "known"):
            for child in ast.children(node):
                visit(child, bound)

    visit(condition, {rule.for_each.var: rule.for_each.list_name} if rule.for_each else {})
    return tuple(out)


def presumed_reads(rule: Rule, condition: ast.Node, vocabulary: Mapping[str, FactSpec]) -> Dict[str, Presumption]:
    """The facts (and list fields, as ``list.field``) that ``condition``, one of ``rule``'s exceptions,
    reads itself and that have a presumption: what the exception takes them to be when not recorded."""
    found = ((label, presumption_at(label, vocabulary)) for label in direct_reads(rule, condition, values_only=True))
    return {label: presumption for label, presumption in found if presumption is not None}


@dataclass(frozen=True)
class CompiledModule:
    module: Module
    rules: Tuple[CompiledRule, ...]
    scope_base_facts: FrozenSet[str] = frozenset()
    scope_derived: Tuple[str, ...] = ()
    #: for a national module as changed by a provincial supplement: that supplement's module id
    overlay_id: Optional[str] = None

    @property
    def id(self) -> str:
        return self.module.id

    @property
    def key(self) -> str:
        """Unique among the compiled modules and their provincial variants."""
        return self.module.id if self.overlay_id is None else f"{self.module.id}@{self.overlay_id}"

    @cached_property
    def rule_ids(self) -> Tuple[str, ...]:
        return tuple(r.rule.id for r in self.rules)

    @cached_property
    def rule_by_id(self) -> Dict[str, CompiledRule]:
        """The module's rules by id (the first, should an id repeat)."""
        out: Dict[str, CompiledRule] = {}
        for r in self.rules:
            out.setdefault(r.rule.id, r)
        return out

    @cached_property
    def module_json(self) -> ModuleJson:
        """How a determination names its module."""
        m = self.module
        return {"id": m.id, "version": m.version, "document": m.document.title, "document_number": m.document.number}


@dataclass(frozen=True)
class OverlayVariant:
    """A national module as a provincial supplement changes it, for records of that province."""

    overlay_module_id: str
    region: str
    base_module_id: str
    module: CompiledModule
    changes: Tuple[OverlayChange, ...]


@dataclass(frozen=True)
class RuleSetIR:
    """The compiled rule set. Immutable and picklable: safe to share across threads and processes."""

    #: every fact declaration, by name (the first one where industries differ): for docs and lint
    facts: Mapping[str, FactSpec]
    #: industry -> fact vocabulary: within one industry a fact name has exactly one meaning
    vocabularies: Mapping[str, Mapping[str, FactSpec]]
    derived: Mapping[str, DerivedFact]
    derived_order: Tuple[str, ...]
    modules: Tuple[CompiledModule, ...]
    packs: Tuple[Pack, ...]
    rules: Mapping[str, CompiledRule] = field(default_factory=dict)
    module_by_id: Mapping[str, CompiledModule] = field(default_factory=dict)
    variants: Tuple[OverlayVariant, ...] = ()
    #: industry id -> its declaration by a loaded pack (modules loaded without a pack add none)
    industries: Mapping[str, Industry] = field(default_factory=dict)
    #: whether exceptions read an unrecorded fact that has a presumption as presumed (strict mode: not)
    presumptions: bool = True

    def without_presumptions(self) -> "RuleSetIR":
        """The same rule set judged strictly: an exception that reads an unrecorded fact is undecided,
        presumption or not, so a rule it could except is undetermined."""
        if not self.presumptions:
            return self
        if not any(cr.rule.unless for cr in self.rules.values()):
            return replace(self, presumptions=False)  # judged the same: only reports say which way

        def strictly(cm: CompiledModule) -> CompiledModule:
            rules = tuple(
                replace(cr, rule=replace(cr.rule, decision=cr.rule.strict_decision)) if cr.rule.unless else cr for cr in cm.rules
            )
            return replace(cm, rules=rules)

        modules = tuple(strictly(cm) for cm in self.modules)
        variants = tuple(replace(v, module=strictly(v.module)) for v in self.variants)
        return replace(
            self,
            modules=modules,
            variants=variants,
            rules={cr.id: cr for cm in modules for cr in cm.rules},
            module_by_id={cm.id: cm for cm in modules},
            presumptions=False,
        )

    def modules_in_force(self, day: date) -> Tuple[CompiledModule, ...]:
        return tuple(m for m in self.modules if m.module.in_force(day))

    def series(self) -> Dict[str, Tuple[CompiledModule, ...]]:
        out: Dict[str, List[CompiledModule]] = {}
        for m in self.modules:
            out.setdefault(m.module.series, []).append(m)
        return {k: tuple(sorted(v, key=lambda m: m.module.effective_from)) for k, v in out.items()}
