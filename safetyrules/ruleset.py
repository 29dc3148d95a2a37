"""The public entry point: load rules once, evaluate records many times, from any thread."""

from __future__ import annotations

import threading
from datetime import date
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

from .backends import backend_class
from .cache import load_ir_cached
from .ir import CompiledRule, RuleSetIR
from .errors import RecordError
from .evaluation import Selection, build_report, engine_info, select_modules
from .findings import apply_findings, parse_findings
from .model import FactSpec, Module, Pack
from .records import Record, RecordParser
from .report import Report, deferred_report

RecordInput = Union[Mapping[str, Any], Record]


class RuleSet:
    """A compiled, immutable rule set bound to a backend.

    Evaluation keeps no state between records, so one RuleSet may serve many threads at once.
    """

    def __init__(self, ir: RuleSetIR, backend: str = "native", *, compiled: bool = True) -> None:
        self._ir = ir
        self._backend_name = backend
        self._backend = backend_class(backend)(ir, compiled=compiled)
        # (industry, region, day) -> modules in force: records of one campaign share a few days
        self._selections: Dict[Tuple[str, Optional[str], date], Selection] = {}
        self._parse = RecordParser(ir.vocabularies, ir.derived)
        self._engine = engine_info(ir)
        #: the backend's one-call entry for plain records, if it has one
        self._decide_plain = self._backend.decide_plain
        self._compiled_flag = compiled
        self._strict: Optional[RuleSet] = None if ir.presumptions else self
        self._strict_lock = threading.Lock()

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
        return self._decide_plain is not None

    @property
    def presumptions(self) -> bool:
        """Whether exceptions read unrecorded facts as their presumptions say (see :meth:`strict`)."""
        return self._ir.presumptions

    def strict(self) -> "RuleSet":
        """The same rules judged without presumptions: a rule whose exception reads an unrecorded fact
        is undetermined, as an auditor may ask (``--no-presumptions``). Built on first use."""
        if self._strict is None:
            with self._strict_lock:
                if self._strict is None:
                    strict_ir = self._ir.without_presumptions()
                    self._strict = (
                        RuleSet(strict_ir, self._backend_name, compiled=self._compiled_flag)
                        if strict_ir is not self._ir
                        else self
                    )
        return self._strict

    def with_backend(self, backend: str, *, compiled: bool = True) -> "RuleSet":
        """The same compiled rules on another backend (no reloading); ``compiled=False`` keeps the
        native backend off the C evaluator (generated Python only)."""
        return RuleSet(self._ir, backend, compiled=compiled)

    # -------------------------------------------------------------- evaluation
    def parse_record(self, raw: RecordInput) -> Record:
        """Validate a record against this rule set's vocabulary; raises :class:`RecordError`."""
        return self._parse(raw)

    def evaluate(
        self,
        record: RecordInput,
        *,
        as_of: Optional[date] = None,
        jurisdiction: Optional[str] = None,
        presumptions: bool = True,
    ) -> Report:
        """Judge one record by the module versions in force on its inspection date (or ``as_of``);
        ``presumptions=False`` judges it strictly (see :meth:`strict`).

        Raises :class:`RecordError` for a malformed record.
        """
        if not presumptions and self._ir.presumptions:
            return self.strict().evaluate(record, as_of=as_of, jurisdiction=jurisdiction)
        if self._decide_plain is not None:
            decided = self._decide_plain(record, as_of, jurisdiction)  # one C call for the common record
            if decided is not None:
                return deferred_report(decided)
        parsed = self._parse(record)
        key = (parsed.industry, jurisdiction or parsed.region, as_of or parsed.inspection_date)
        selection = self._selections.get(key)
        if selection is None:
            selection = select_modules(self._ir, parsed, as_of, jurisdiction)
            if len(self._selections) > 4096:
                self._selections.clear()
            self._selections[key] = selection
        decisions = self._backend.decide(parsed, selection)
        report = build_report(self._ir, parsed, selection, decisions, self._backend_name, self._engine)
        if parsed.inspector_findings is not None:
            report = apply_findings(report, parse_findings(parsed.inspector_findings, self._ir, parsed.record_id), self._ir)
        return report

    def evaluate_compiled(self, record: Mapping[str, Any]) -> Optional[Report]:
        """The report of a plain record on the compiled evaluator, or None where it declines (an
        invalid record, a fact it does not take, no compiled evaluator): then call :meth:`evaluate`,
        which gives the same report or names the problem."""
        if self._decide_plain is None:
            return None
        decided = self._decide_plain(record, None, None)
        return None if decided is None else deferred_report(decided)

    def evaluate_many(
        self, records: Iterable[RecordInput], *, as_of: Optional[date] = None, presumptions: bool = True
    ) -> Iterator[Union[Report, RecordError]]:
        """One result per input, in order: a report, or the error that record raised. Nothing is dropped."""
        judge = self if presumptions else self.strict()
        for raw in records:
            try:
                yield judge.evaluate(raw, as_of=as_of)
            except RecordError as exc:
                yield exc

    def close(self) -> None:
        self._backend.close()

    def __enter__(self) -> "RuleSet":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def load_rules(*specs: Union[str, Sequence[str]], backend: str = "native", compiled: bool = True, cache: bool = True) -> RuleSet:
    """Load pack names, pack folders or module files, compile them and bind a backend.

    >>> rules = load_rules("mining")                      # a shipped pack, by name
    >>> rules = load_rules("rules/construction", "my.yaml")  # folders and files

    The compiled rules are kept in a user cache folder, keyed by the sources' bytes and the library's
    code (see :mod:`safetyrules.cache`); ``cache=False`` or ``SAFETYRULES_NO_CACHE=1`` compiles afresh.
    Raises :class:`LoadError` listing every problem found, each as ``path:line:col: CODE message``.
    """
    flat: List[str] = []
    for spec in specs:
        if isinstance(spec, (list, tuple)):
            flat.extend(str(s) for s in spec)
        else:
            flat.append(str(spec))  # a path object too
    return RuleSet(load_ir_cached(flat, enabled=cache), backend, compiled=compiled)
