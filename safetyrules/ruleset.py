"""The public entry point: load rules once, evaluate records many times, from any thread."""

from __future__ import annotations

from datetime import date
from typing import Any, Iterable, Iterator, Mapping, Optional, Sequence, Tuple, Union

from . import __version__
from .backends import backend_class
from .backends import compiled as compiled_backend
from .cache import load_ir_cached
from .compiler import CompiledRule, RuleSetIR
from .errors import RecordError
from .evaluation import build_report, select_modules
from .model import FactSpec, Module, Pack
from .records import Record, fast_kinds, parse_record
from .report import Report

RecordInput = Union[Mapping[str, Any], Record]


class RuleSet:
    """A compiled, immutable rule set bound to a backend.

    Evaluation keeps no state between records, so one RuleSet may serve many threads at once.
    """

    def __init__(self, ir: RuleSetIR, backend: str = "native", *, compiled: bool = True):
        self._ir = ir
        self._backend_name = backend
        self._backend = backend_class(backend)(ir)
        # (industry, region, day) -> modules in force: records of one campaign share a few days
        self._selections: dict = {}
        self._kinds = {industry: fast_kinds(vocab) for industry, vocab in ir.vocabularies.items()}
        from .packs import describe as describe_pack

        self._engine = {
            "library": "safetyrules",
            "library_version": __version__,
            "packs": [describe_pack(p) for p in ir.packs],
        }
        # The native backend's fast lane: plain records on the compiled (C) evaluator.
        self._lane = self._lane_run = None
        if backend == "native" and compiled and compiled_backend.AVAILABLE:
            self._lane = compiled_backend.CompiledLane(ir, self.parse_record, self._engine)
            self._lane_run = self._lane.run

    # -------------------------------------------------------------- what is loaded
    @property
    def ir(self) -> RuleSetIR:
        return self._ir

    @property
    def backend(self) -> str:
        return self._backend_name

    @property
    def modules(self) -> Tuple[Module, ...]:
        return tuple(cm.module for cm in self._ir.modules)

    @property
    def rules(self) -> Tuple[CompiledRule, ...]:
        return tuple(self._ir.rules.values())

    @property
    def packs(self) -> Tuple[Pack, ...]:
        return self._ir.packs

    @property
    def facts(self) -> Mapping[str, FactSpec]:
        return self._ir.facts

    @property
    def compiled(self) -> bool:
        """Whether plain records are decided by the compiled (C) evaluator (native backend only)."""
        return self._lane is not None

    def with_backend(self, backend: str, *, compiled: bool = True) -> "RuleSet":
        """The same compiled rules on another backend (no reloading); ``compiled=False`` keeps the
        native backend off the C evaluator (generated Python only)."""
        return RuleSet(self._ir, backend, compiled=compiled)

    # -------------------------------------------------------------- evaluation
    def parse_record(self, raw: RecordInput) -> Record:
        """Validate a record against this rule set's vocabulary; raises :class:`RecordError`."""
        if isinstance(raw, Record):
            return raw
        return parse_record(raw, self._ir.vocabularies, self._ir.derived, self._kinds)

    def evaluate(self, record: RecordInput, *, as_of: Optional[date] = None, jurisdiction: Optional[str] = None) -> Report:
        """Judge one record by the module versions in force on its inspection date (or ``as_of``).

        Raises :class:`RecordError` for a malformed record.
        """
        if self._lane_run is not None:
            got = self._lane_run(record, as_of, jurisdiction)  # one C call for the common record (None: not a plain record)
            if got.__class__ is Report:
                return got
            if got is not None:  # the first record of its industry, region and date: make its plan
                report = self._lane.evaluate(record, as_of, jurisdiction)
                if report is not None:
                    return report
        parsed = self.parse_record(record)
        key = (parsed.industry, jurisdiction or parsed.region, as_of or parsed.inspection_date)
        selection = self._selections.get(key)
        if selection is None:
            selection = select_modules(self._ir, parsed, as_of, jurisdiction)
            if len(self._selections) > 4096:
                self._selections.clear()
            self._selections[key] = selection
        decisions = self._backend.decide(parsed, selection)
        return build_report(self._ir, parsed, selection, decisions, self._backend_name, self._engine)

    def evaluate_compiled(self, record: Mapping[str, Any]) -> Optional[Report]:
        """The report of a plain record on the compiled evaluator, or None where it declines (an
        invalid record, a fact it does not take, no compiled evaluator): then call :meth:`evaluate`,
        which gives the same report or names the problem."""
        if self._lane is None or type(record) is not dict:
            return None
        return self._lane.evaluate(record)

    def evaluate_many(
        self, records: Iterable[RecordInput], *, as_of: Optional[date] = None
    ) -> Iterator[Union[Report, RecordError]]:
        """One result per input, in order: a report, or the error that record raised. Nothing is dropped."""
        for raw in records:
            try:
                yield self.evaluate(raw, as_of=as_of)
            except RecordError as exc:
                yield exc

    def close(self) -> None:
        self._backend.close()

    def __enter__(self) -> "RuleSet":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def load_rules(
    *specs: Union[str, Sequence[str]], backend: str = "native", compiled: bool = True, cache: bool = True
) -> RuleSet:
    """Load pack names, pack folders or module files, compile them and bind a backend.

    >>> rules = load_rules("mining")                      # a shipped pack, by name
    >>> rules = load_rules("rules/construction", "my.yaml")  # folders and files

    The compiled rules are kept in a user cache folder, keyed by the sources' bytes and the library's
    code (see :mod:`safetyrules.cache`); ``cache=False`` or ``SAFETYRULES_NO_CACHE=1`` compiles afresh.
    Raises :class:`LoadError` listing every problem found, each as ``path:line:col: CODE message``.
    """
    flat = []
    for spec in specs:
        if isinstance(spec, (list, tuple)):
            flat.extend(spec)
        else:
            flat.append(spec)
    return RuleSet(load_ir_cached([str(s) for s in flat], enabled=cache), backend, compiled=compiled)
