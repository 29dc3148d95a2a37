"""The compiler: loaded modules -> one immutable, type-checked intermediate form (the IR).

Every backend executes this same form. The second loading pass happens here, across modules:
fact declarations are merged (one name, one meaning), derived facts are ordered and checked for
cycles, and every expression is type-checked against the vocabulary its module can see. The IR also
records, for each rule, the base facts it depends on through derived facts, which is what the
evaluators need to explain an undetermined rule.
"""

from __future__ import annotations

import gc
import os

from dataclasses import dataclass, replace
from typing import AbstractSet, Callable, Dict, FrozenSet, Iterable, List, Mapping, Optional, Sequence, Set, Tuple

from .errors import Diagnostic, LoadError, Location, did_you_mean
from .expr import ast
from .expr.typecheck import ExprTypeError, Vocabulary, check, check_condition
from .expr.types import BOOL_T, BOOLEAN, LIST, Type
from .ir.ruleset import CompiledModule, CompiledRule, OverlayVariant, RuleSetIR, presumed_reads, presumption_of
from .loader import ModuleSource, read_module, resolve_sources
from .model import DerivedFact, FactSpec, Industry, Module, Pack, Rule, RuleException
from .yamlsafe import Path


def load_ir(specs: Sequence[str]) -> RuleSetIR:
    """Load packs / folders / files and compile them; raises :class:`LoadError` with every diagnostic."""
    collecting = gc.isenabled()
    gc.disable()  # tens of thousands of objects that all live on: the collector's passes added a fifth to the load
    try:
        return _load_ir(specs)
    finally:
        if collecting:
            gc.enable()


def _load_ir(specs: Sequence[str]) -> RuleSetIR:
    pairs, diagnostics = resolve_sources(specs)
    sources: List[ModuleSource] = []
    packs: Dict[str, Pack] = {}
    seen_files: Set[str] = set()
    for pack, path in pairs:
        real = os.path.realpath(path)
        if real in seen_files:
            continue
        seen_files.add(real)
        src, diags = read_module(path, pack.name if pack else None)
        diagnostics.extend(diags)
        if src:
            sources.append(src)
            if pack:
                packs.setdefault(pack.name, pack)
    if not diagnostics and not sources:
        diagnostics.append(Diagnostic("E-NO-MODULES", "nothing to load", Location(", ".join(map(str, specs)) or "(none)")))
    errors = [d for d in diagnostics if d.severity == "error"]
    if errors and not sources:
        raise LoadError(errors)
    # Modules with only syntax errors still go through the second pass: every error in one report.
    try:
        ir = compile_modules(sources, tuple(packs.values()))
    except LoadError as exc:
        raise LoadError(errors + list(exc.diagnostics)) from None
    if errors:
        raise LoadError(errors)
    return ir


class _Compilation:
    def __init__(self, sources: Sequence[ModuleSource]):
        self.sources = sources
        self.diagnostics: List[Diagnostic] = []
        self.facts: Dict[str, FactSpec] = {}
        self.vocabularies: Dict[str, Dict[str, FactSpec]] = {}
        self.derived_raw: Dict[str, DerivedFact] = {}
        self.modules: Dict[str, ModuleSource] = {}
        self.broken: FrozenSet[str] = frozenset().union(*(src.broken_names for src in sources)) if sources else frozenset()

    def error(self, code: str, message: str, location: Location) -> None:
        self.diagnostics.append(Diagnostic(code, message, location))

    def raise_if_errors(self) -> None:
        """End the compilation with every diagnostic so far, if there is one."""
        if self.diagnostics:
            raise LoadError(self.diagnostics)

    def type_error(self, exc: ExprTypeError, message: str, location: Location) -> None:
        """Report a type error, unless it only names a derived fact whose own expression did not parse."""
        if exc.code == "E-UNKNOWN-FACT" and exc.name in self.broken:
            return
        self.error(exc.code, message, location)


def _syntactic_refs(node: ast.Node) -> Set[str]:
    refs: Set[str] = set()
    bound: Set[str] = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Quantifier):
            refs.add(n.list_name)
            if n.var:
                bound.add(n.var)
        elif isinstance(n, ast.Name):
            refs.add(n.name)
    return refs - bound


def _expr_location(module_source: ModuleSource, doc_path: Path, pos: int) -> Location:
    from .loader import ExprSite

    lines = getattr(module_source, "_lines", None)
    if lines is None:
        try:
            with open(module_source.module.path, encoding="utf-8-sig") as fh:
                lines = fh.read().splitlines()
        except OSError:
            lines = []
        module_source._lines = lines  # type: ignore[attr-defined]
    return ExprSite(module_source.positions, doc_path, lines).location(pos)


def compile_modules(sources: Sequence[ModuleSource], packs: Tuple[Pack, ...] = ()) -> RuleSetIR:
    """The second loading pass, across modules: the loaded modules -> the IR.

    Three stages, each ended by :class:`LoadError` with every diagnostic found so far when it found
    errors, because the next stage would be meaningless without it: (1) the declarations agree across
    modules, (2) derived facts are ordered, (3) every expression is type-checked against the
    vocabulary its module can see.
    """
    c = _Compilation(sources)
    # 1. module ids are unique; fact declarations agree across modules
    _register_modules(c, sources)
    _check_rule_ids(c, sources)
    _register_derived(c, sources)
    industries = _declared_industries(c, sources, packs)
    _check_module_refs(c, sources)
    c.raise_if_errors()
    # 2. derived facts: order and cycles
    deps = {name: _syntactic_refs(d.expr) & set(c.derived_raw) for name, d in c.derived_raw.items()}
    order = _derived_order(c, deps)
    c.raise_if_errors()
    # 3. type checking, per module against the vocabulary it can see
    visible, module_facts = _visible_vocabularies(c)
    derived = _check_derived(c, order, visible, module_facts)
    compiled_modules = [_compile_module(c, src, visible[mid], module_facts[mid], derived) for mid, src in c.modules.items()]
    variants = _overlay_variants(c, compiled_modules, visible, module_facts, derived.types, derived.closure_of)
    c.raise_if_errors()
    return _assemble_ir(c, compiled_modules, packs, derived, variants, industries)


def _register_modules(c: _Compilation, sources: Sequence[ModuleSource]) -> None:
    """Module ids are unique, and within an industry one fact name has one declaration: the
    vocabularies per industry are built here (the first declaration of a name wins)."""
    for src in sources:
        m = src.module
        if m.id in c.modules:
            c.error("E-DUPLICATE-ID", f"module id {m.id!r} is also declared in {c.modules[m.id].module.path}", m.location)
            continue
        c.modules[m.id] = src
        for spec in m.facts:
            c.facts.setdefault(spec.name, spec)
            _check_presumptions(c, spec)
            for industry in m.industries:
                _declare_fact(c, industry, spec)


def _check_presumptions(c: _Compilation, spec: FactSpec) -> None:
    """A presumption stands for a yes/no that an exception reads: only boolean facts and fields have one."""
    for f in (spec,) + spec.fields:
        if f.presumed is not None and f.type.kind != BOOLEAN:
            c.error(
                "E-PRESUMPTION",
                f"fact {f.name!r} is a {f.type.kind}: only a boolean fact (or list field) can have a presumption",
                f.location,
            )


def _declare_fact(c: _Compilation, industry: str, spec: FactSpec) -> None:
    """Add a fact to its industry's vocabulary; a different declaration of the same name is an error."""
    vocabulary = c.vocabularies.setdefault(industry, {})
    prior = vocabulary.get(spec.name)
    if prior is None:
        vocabulary[spec.name] = spec
    elif prior.signature() != spec.signature():
        c.error(
            "E-FACT-CONFLICT",
            f"fact {spec.name!r} ({industry}) is declared differently in module {prior.module_id!r} "
            f"({prior.location}): {_describe(prior)} vs {_describe(spec)}",
            spec.location,
        )


def _check_rule_ids(c: _Compilation, sources: Sequence[ModuleSource]) -> None:
    """A rule id names one rule across the rule set (reports and citations refer to rules by id)."""
    rule_owner: Dict[str, str] = {}
    for src in sources:
        for rule in src.module.rules:
            if rule.id in rule_owner and rule_owner[rule.id] != rule.module_id:
                c.error("E-DUPLICATE-ID", f"rule id {rule.id!r} is also used in module {rule_owner[rule.id]!r}", rule.location)
            rule_owner.setdefault(rule.id, rule.module_id)


def _register_derived(c: _Compilation, sources: Sequence[ModuleSource]) -> None:
    """Derived facts share one namespace with facts: a derived fact may not take a fact's name, and
    modules that define the same derived fact define it identically."""
    for src in sources:
        for d in src.module.derived:
            clash = next((c.vocabularies[i][d.name] for i in src.module.industries if d.name in c.vocabularies.get(i, {})), None)
            if clash is not None:
                c.error("E-FACT-CONFLICT", f"derived fact {d.name!r} has the name of a fact ({clash.location})", d.location)
            prior = c.derived_raw.get(d.name)
            if prior is None:
                c.derived_raw[d.name] = d
            elif prior.source_text != d.source_text:
                c.error(
                    "E-FACT-CONFLICT", f"derived fact {d.name!r} is defined differently in module {prior.module_id!r}", d.location
                )


def _check_module_refs(c: _Compilation, sources: Sequence[ModuleSource]) -> None:
    """The modules a module imports or extends are loaded (their facts are part of its vocabulary)."""
    for src in sources:
        for ref in src.module.imports + ((src.module.extends,) if src.module.extends else ()):
            if ref not in c.modules:
                c.error(
                    "E-UNKNOWN-MODULE",
                    f"module {src.module.id!r} imports {ref!r}, which is not loaded{did_you_mean(ref, c.modules)}",
                    src.module.location,
                )


def _visible_vocabularies(c: _Compilation) -> Tuple[Dict[str, Set[str]], Dict[str, Dict[str, FactSpec]]]:
    """Per module: the names its expressions may read (its own facts and derived facts and those of
    the modules it imports or extends) and the fact declarations among them (its own first)."""
    visible: Dict[str, Set[str]] = {}
    module_facts: Dict[str, Dict[str, FactSpec]] = {}
    for mid, src in c.modules.items():
        own = {f.name: f for f in src.module.facts}
        names = set(own) | {d.name for d in src.module.derived}
        for ref in src.module.imports + ((src.module.extends,) if src.module.extends else ()):
            other = c.modules[ref].module
            for f in other.facts:
                own.setdefault(f.name, f)
            names |= {f.name for f in other.facts} | {d.name for d in other.derived}
        visible[mid] = names
        module_facts[mid] = own
    return visible, module_facts


@dataclass(frozen=True)
class _CheckedDerived:
    """The derived facts after type checking, and what each one reads in the end."""

    order: Tuple[str, ...]
    #: every derived fact that was loaded, checked or not (a name read is derived if it is here)
    names: FrozenSet[str]
    types: Dict[str, Type]
    typed: Dict[str, DerivedFact]
    #: derived fact -> the base facts it reads, through other derived facts too
    base: Dict[str, FrozenSet[str]]
    #: derived fact -> the derived facts it reads, transitively, in evaluation order
    closure: Dict[str, Tuple[str, ...]]

    def closure_of(self, refs: Iterable[str]) -> Tuple[FrozenSet[str], Tuple[str, ...]]:
        """The base facts and the derived facts (in evaluation order) that reading ``refs`` needs."""
        base: Set[str] = set()
        ders: Set[str] = set()
        for r in refs:
            if r in self.names:
                base |= self.base.get(r, frozenset())
                ders |= set(self.closure.get(r, ())) | {r}
            else:
                base.add(r)
        return frozenset(base), tuple(x for x in self.order if x in ders)


def _check_derived(
    c: _Compilation, order: Sequence[str], visible: Mapping[str, Set[str]], module_facts: Mapping[str, Dict[str, FactSpec]]
) -> _CheckedDerived:
    """Type-check the derived facts in evaluation order (each sees the types of those it reads) and
    work out what each reads in the end; one that does not check is reported and left out."""
    types: Dict[str, Type] = {}
    typed: Dict[str, DerivedFact] = {}
    bases: Dict[str, FrozenSet[str]] = {}
    closures: Dict[str, Tuple[str, ...]] = {}
    for name in order:
        d = c.derived_raw[name]
        src = c.modules[d.module_id]
        vocab = _vocabulary(visible[d.module_id], module_facts[d.module_id], types)
        try:
            checked, refs = check(d.expr, vocab)
        except ExprTypeError as exc:
            c.type_error(exc, f"in derived fact {name!r}: {exc.message}", _expr_location(src, ("derived", name, "expr"), exc.pos))
            continue
        types[name] = ast.type_of(checked)
        typed[name] = replace(d, expr=ast.as_expr(checked), reads=frozenset(refs))
        base: Set[str] = set()
        closure: List[str] = []
        for r in refs:
            if r in c.derived_raw:
                base |= bases.get(r, frozenset())
                for x in closures.get(r, ()) + (r,):
                    if x not in closure:
                        closure.append(x)
            else:
                base.add(r)
        bases[name] = frozenset(base)
        closures[name] = tuple(x for x in order if x in closure)
    return _CheckedDerived(tuple(order), frozenset(c.derived_raw), types, typed, bases, closures)


def _compile_module(
    c: _Compilation, src: ModuleSource, visible: AbstractSet[str], facts: Dict[str, FactSpec], derived: _CheckedDerived
) -> CompiledModule:
    """One module type-checked against the vocabulary it can see: its scope, then each rule (a rule
    that does not check is reported and left out)."""
    m = src.module
    vocab = _vocabulary(visible, facts, derived.types)
    scope: Optional[ast.Expr] = None
    scope_refs: Set[str] = set()
    if m.scope is not None:
        try:
            checked_scope, scope_refs = check_condition(m.scope, vocab)
            scope = ast.as_expr(checked_scope)
        except ExprTypeError as exc:
            c.type_error(exc, f"in module scope: {exc.message}", _expr_location(src, ("module", "scope"), exc.pos))
    scope_base, scope_derived = derived.closure_of(scope_refs)
    compiled_rules: List[CompiledRule] = []
    for rule in m.rules:
        compiled = _compile_rule(c, src, rule, vocab, facts, scope_refs, derived)
        if compiled is not None:
            compiled_rules.append(compiled)
    return CompiledModule(replace(m, scope=scope), tuple(compiled_rules), scope_base, scope_derived)


def _compile_rule(
    c: _Compilation,
    src: ModuleSource,
    rule: Rule,
    vocab: Vocabulary,
    facts: Dict[str, FactSpec],
    scope_refs: AbstractSet[str],
    derived: _CheckedDerived,
) -> Optional[CompiledRule]:
    """One rule: its item variable, condition and applicability type-checked, its thresholds named
    right; with what it reads, scope included. None when it does not check (reported)."""
    bound = _bind_for_each(c, rule, vocab, facts)
    if bound is None:
        return None
    refs: Set[str] = set(bound.values())
    typed_when: Optional[ast.CheckedExpr] = None
    typed_applies: Optional[ast.CheckedExpr] = None
    ok = True
    try:
        typed_when, when_refs = check_condition(rule.when, vocab, bound)
        refs |= when_refs
    except ExprTypeError as exc:
        ok = False
        c.type_error(
            exc, f"in rule {rule.id!r}: {exc.message}", _expr_location(src, ("rules", rule.source_index, "when"), exc.pos)
        )
    if rule.applies_if is not None:
        try:
            typed_applies, applies_refs = check_condition(rule.applies_if, vocab, bound)
            refs |= applies_refs
        except ExprTypeError as exc:
            ok = False
            c.type_error(
                exc,
                f"in rule {rule.id!r}: {exc.message}",
                _expr_location(src, ("rules", rule.source_index, "applies_if"), exc.pos),
            )
    typed_exceptions: List[RuleException] = []
    for j, exception in enumerate(rule.unless):
        try:
            typed_exception, exception_refs = check_condition(exception.when, vocab, bound)
            refs |= exception_refs
            typed_exceptions.append(replace(exception, when=ast.as_expr(typed_exception)))
        except ExprTypeError as exc:
            ok = False
            c.type_error(
                exc,
                f"in rule {rule.id!r}, exception {j + 1}: {exc.message}",
                _expr_location(src, ("rules", rule.source_index, "unless", j, "when"), exc.pos),
            )
    _check_thresholds(c, src.module, rule, vocab, facts)
    if not ok or typed_when is None:
        return None
    base, ders = derived.closure_of(refs | scope_refs)
    typed_rule = with_exceptions(
        replace(
            rule,
            when=ast.as_expr(typed_when),
            applies_if=None if typed_applies is None else ast.as_expr(typed_applies),
            unless=tuple(typed_exceptions),
            reads=frozenset(refs),
        ),
        facts,
    )
    return CompiledRule(typed_rule, base, ders)


def with_exceptions(rule: Rule, facts: Mapping[str, FactSpec]) -> Rule:
    """The rule with the conditions its backends decide: ``when and not (exception or ...)``, once
    with each unrecorded fact that has a presumption read as presumed, once strictly. Both are the
    language's own constructs (``if(known(f), f, presumed)``), so every backend decides exceptions
    and presumptions without knowing of them; the reference interpreter decides them on its own."""
    if not rule.unless:
        return replace(rule, decision=None, strict_decision=None)
    bound = {rule.for_each.var: rule.for_each.list_name} if rule.for_each else {}

    def combined(exceptions: Sequence[ast.Expr]) -> ast.Expr:
        held: ast.Expr = exceptions[0] if len(exceptions) == 1 else ast.Or(tuple(exceptions), ty=BOOL_T)
        return ast.And((rule.when, ast.Not(held, ty=BOOL_T)), ty=BOOL_T)

    strict = [e.when for e in rule.unless]
    presumed = [_presuming(e.when, facts, bound) for e in rule.unless]
    exceptions = tuple(replace(e, presumed=tuple(presumed_reads(rule, e.when, facts).items())) for e in rule.unless)
    return replace(rule, unless=exceptions, decision=combined(presumed), strict_decision=combined(strict))


def _presuming(node: ast.Expr, facts: Mapping[str, FactSpec], bound: Mapping[str, str]) -> ast.Expr:
    """An exception's condition with each read of a presumed fact ``f`` as ``if(known(f), f, presumed)``."""
    presumption = presumption_of(node, facts, bound)
    if presumption is not None:
        known = ast.Call("known", (node,), ty=BOOL_T)
        return ast.Call("if", (known, node, ast.Boolean(presumption.value, ty=BOOL_T)), ty=BOOL_T)
    if isinstance(node, (ast.Negate, ast.Not)):
        return replace(node, operand=_presuming(node.operand, facts, bound))
    if isinstance(node, (ast.Arith, ast.Compare)):
        return replace(node, left=_presuming(node.left, facts, bound), right=_presuming(node.right, facts, bound))
    if isinstance(node, ast.Member):
        return replace(node, operand=_presuming(node.operand, facts, bound))
    if isinstance(node, (ast.And, ast.Or)):
        return replace(node, operands=tuple(_presuming(o, facts, bound) for o in node.operands))
    if isinstance(node, ast.Call) and node.func != "known":  # known(f) asks whether f was recorded
        return replace(node, args=tuple(_presuming(a, facts, bound) for a in node.args))
    if isinstance(node, ast.Quantifier) and node.condition is not None and node.var is not None:
        inner = {**bound, node.var: node.list_name}
        return replace(node, condition=_presuming(node.condition, facts, inner))
    return node


def _bind_for_each(c: _Compilation, rule: Rule, vocab: Vocabulary, facts: Mapping[str, FactSpec]) -> Optional[Dict[str, str]]:
    """The item variable a rule binds (variable -> list fact; empty without ``for_each``), or None
    when it names no list fact of the module or hides a fact (reported)."""
    if rule.for_each is None:
        return {}
    spec = facts.get(rule.for_each.list_name)
    if spec is None or spec.type.kind != LIST:
        c.error(
            "E-UNKNOWN-FACT",
            f"for_each names {rule.for_each.list_name!r}, which is not a list fact of this module"
            f"{did_you_mean(rule.for_each.list_name, [n for n, f in facts.items() if f.type.kind == LIST])}",
            rule.location,
        )
        return None
    if rule.for_each.var in vocab.types:
        c.error("E-TYPE", f"for_each variable {rule.for_each.var!r} hides a fact of that name", rule.location)
        return None
    return {rule.for_each.var: rule.for_each.list_name}


def _check_thresholds(c: _Compilation, m: Module, rule: Rule, vocab: Vocabulary, facts: Mapping[str, FactSpec]) -> None:
    """A threshold names a fact the rule can see (or an item field) and a word its module reads."""
    for t in rule.thresholds:
        if t.fact not in vocab.types and not _is_item_field(t.fact, rule, facts):
            c.error(
                "E-UNKNOWN-FACT",
                f"threshold of rule {rule.id!r} names unknown fact {t.fact!r}{did_you_mean(t.fact, vocab.types)}",
                rule.location,
            )
        if t.term not in m.threshold_reading:
            c.error(
                "E-THRESHOLD-TERM",
                f"threshold word {t.term!r} has no reading in this module; add it to module.threshold_reading",
                rule.location,
            )


def _assemble_ir(
    c: _Compilation,
    compiled_modules: List[CompiledModule],
    packs: Tuple[Pack, ...],
    derived: _CheckedDerived,
    variants: List[OverlayVariant],
    industries: Dict[str, Industry],
) -> RuleSetIR:
    """The IR: modules in a stable order (series, date, id), each pack naming its compiled modules,
    and the indexes backends look rules and modules up in."""
    compiled_modules.sort(key=lambda cm: (cm.module.series, cm.module.effective_from, cm.module.id))
    packs = tuple(replace(p, module_ids=tuple(cm.id for cm in compiled_modules if cm.module.pack == p.name)) for p in packs)
    return RuleSetIR(
        facts=dict(c.facts),
        vocabularies={k: dict(v) for k, v in c.vocabularies.items()},
        derived=derived.typed,
        derived_order=derived.order,
        modules=tuple(compiled_modules),
        packs=packs,
        rules={r.id: r for cm in compiled_modules for r in cm.rules},
        module_by_id={cm.id: cm for cm in compiled_modules},
        variants=tuple(variants),
        industries=industries,
    )


def _declared_industries(c: _Compilation, sources: Sequence[ModuleSource], packs: Tuple[Pack, ...]) -> Dict[str, Industry]:
    """The industries the loaded packs declare, checked against each other and against the modules.

    A module that belongs to a pack must name a declared industry (so a typo is an error, not a new
    industry that no record uses); a module file loaded on its own may name any industry, and lint says
    that nothing declares it.
    """
    declared: Dict[str, Industry] = {}
    for pack in packs:
        for industry in pack.industries:
            prior = declared.get(industry.id)
            if prior is None:
                declared[industry.id] = industry
            elif prior.definition() != industry.definition():
                c.error(
                    "E-INDUSTRY-CONFLICT",
                    f"industry {industry.id!r} is declared differently by pack {prior.pack!r} ({prior.location}); "
                    "packs may share an industry only with the same name and attributes",
                    industry.location or Location(pack.path),
                )
    for src in sources:
        m = src.module
        if m.pack is None:
            continue
        for industry_id in m.industries:
            if industry_id not in declared:
                c.error(
                    "E-UNKNOWN-INDUSTRY",
                    f"industry {industry_id!r} is not declared by any loaded pack{did_you_mean(industry_id, declared)}; "
                    f"declare it under 'industries:' in the manifest of pack {m.pack!r}",
                    src.positions.at(("module", "industry")),
                )
    for industry in declared.values():
        vocabulary = c.vocabularies.get(industry.id)
        if vocabulary is None:
            continue
        for name in industry.attributes:
            spec = vocabulary.get(name)
            if spec is None or not spec.site:
                c.error(
                    "E-INDUSTRY-ATTRIBUTE",
                    f"attribute {name!r} of industry {industry.id!r} is not a site fact (site: true) of its modules"
                    + (did_you_mean(name, [n for n, f in vocabulary.items() if f.site]) if spec is None else ""),
                    industry.location or Location(industry.pack),
                )
    return declared


#: derived facts reading derived facts, at most this many levels (the shipped packs need 1)
MAX_DERIVED_DEPTH = 32


def _derived_order(c: _Compilation, deps: Mapping[str, AbstractSet[str]]) -> List[str]:
    """Derived facts in an order where each comes after those it reads; cycles and chains deeper
    than MAX_DERIVED_DEPTH are located errors.

    Iterative (an explicit stack), so that a long chain is measured and refused, not a RecursionError.
    """
    order: List[str] = []
    state: Dict[str, int] = {}  # 1: on the current path, 2: done
    depth: Dict[str, int] = {}
    for root in sorted(deps):
        if root in state:
            continue
        path, pending = [root], [iter(sorted(deps[root]))]
        state[root] = 1
        while path:
            dep = next(pending[-1], None)
            if dep is None:
                name = path.pop()
                pending.pop()
                state[name] = 2
                order.append(name)
                depth[name] = 1 + max((depth[d] for d in deps[name] if d in depth), default=0)
                if depth[name] == MAX_DERIVED_DEPTH + 1:
                    c.error(
                        "E-LIMIT",
                        f"derived fact {name!r} reads a chain of more than {MAX_DERIVED_DEPTH} derived facts; "
                        "the limit keeps loading and evaluation bounded (see docs/reliability.md)",
                        c.derived_raw[name].location,
                    )
                continue
            if state.get(dep) == 2:
                continue
            if state.get(dep) == 1:
                cycle = path[path.index(dep) :] + [dep]
                c.error("E-CYCLE", f"derived facts form a cycle: {' -> '.join(cycle)}", c.derived_raw[dep].location)
                continue
            state[dep] = 1
            path.append(dep)
            pending.append(iter(sorted(deps[dep])))
    return order


def _overlay_variants(
    c: _Compilation,
    compiled_modules: Sequence[CompiledModule],
    visible: Mapping[str, AbstractSet[str]],
    module_facts: Mapping[str, Mapping[str, FactSpec]],
    derived_types: Mapping[str, Type],
    closure_of: Callable[[Iterable[str]], Tuple[FrozenSet[str], Tuple[str, ...]]],
) -> List[OverlayVariant]:
    """Apply each provincial supplement's overlay to a copy of the national module it extends."""
    by_id = {cm.id: cm for cm in compiled_modules}
    variants: List[OverlayVariant] = []
    for cm in compiled_modules:
        m = cm.module
        if not m.overlay:
            continue
        base = by_id.get(m.extends) if m.extends else None
        if base is None:
            continue  # reported as E-UNKNOWN-MODULE
        vocab = _vocabulary(visible[m.id], module_facts[m.id], derived_types)
        rules = {r.id: r for r in base.rules}
        changed = dict(rules)
        src = c.modules[m.id]
        for index, change in enumerate(m.overlay):
            target = rules.get(change.rule_id)
            if target is None:
                c.error(
                    "E-OVERLAY",
                    f"overlay names rule {change.rule_id!r}, which module {base.id!r} does not have{did_you_mean(change.rule_id, rules)}",
                    change.location,
                )
                continue
            rule = target.rule
            if change.action == "not_applicable":
                new_rule = replace(rule, applies_if=ast.Boolean(False, ty=BOOL_T), applies_if_text="false", overlay=change)
                changed[rule.id] = replace(target, rule=new_rule)
                continue
            if change.when is None or change.when_text is None:  # pragma: no cover - the schema requires when
                continue
            bound = {rule.for_each.var: rule.for_each.list_name} if rule.for_each else {}
            try:
                typed, refs = check_condition(change.when, vocab, bound)
            except ExprTypeError as exc:
                c.type_error(
                    exc, f"in overlay of {rule.id!r}: {exc.message}", _expr_location(src, ("overlay", index, "when"), exc.pos)
                )
                continue
            refs = set(refs) | (set(_syntactic_refs(rule.applies_if)) if rule.applies_if is not None else set())
            if rule.for_each:
                refs.add(rule.for_each.list_name)
            refs |= {name for exception in rule.unless for name in _syntactic_refs(exception.when)}
            new_rule = with_exceptions(
                replace(
                    rule,
                    when=ast.as_expr(typed),
                    when_text=change.when_text,
                    overlay=change,
                    thresholds=change.thresholds or rule.thresholds,
                    reads=frozenset(refs),
                ),
                module_facts[m.id],
            )
            base_facts, ders = closure_of(refs | set(base.scope_base_facts))
            changed[rule.id] = CompiledRule(new_rule, base_facts | target.base_facts, ders)
        variant = replace(base, rules=tuple(changed[r.id] for r in base.rules), overlay_id=m.id)
        if m.jurisdiction.code is not None:  # an overlay in a national module is the loader's E-OVERLAY
            variants.append(OverlayVariant(m.id, m.jurisdiction.code, base.id, variant, m.overlay))
    return variants


def _is_item_field(name: str, rule: Rule, facts: Mapping[str, FactSpec]) -> bool:
    """Threshold facts may name a list item field as ``var.field`` or ``list.field``."""
    if "." not in name:
        return False
    head, _, tail = name.partition(".")
    list_name = rule.for_each.list_name if rule.for_each and head == rule.for_each.var else head
    spec = facts.get(list_name)
    return spec is not None and spec.field(tail) is not None


def _vocabulary(names: Iterable[str], facts: Mapping[str, FactSpec], derived_types: Mapping[str, Type]) -> Vocabulary:
    types: Dict[str, Type] = {}
    for n in names:
        if n in facts:
            types[n] = facts[n].type
        elif n in derived_types:
            types[n] = derived_types[n]
    list_fields = {n: {f.name: f.type for f in s.fields} for n, s in facts.items() if s.type.kind == LIST}
    return Vocabulary(types, list_fields)


def _describe(spec: FactSpec) -> str:
    parts = [spec.type.kind]
    if spec.unit:
        parts.append(f"unit {spec.unit}")
    if spec.values:
        parts.append("values " + ",".join(v for v, _ in spec.values))
    return " ".join(parts)
