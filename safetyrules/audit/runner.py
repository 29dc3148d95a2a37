"""The audit itself: parts of the input -> rows and counts -> files written atomically.

One function, :func:`audit_part`, turns a part into its output rows (JSON text, one line per input
record) and its :class:`~safetyrules.audit.metrics.Aggregate`. The local runner maps it over a process
pool; the Dask runner (:mod:`safetyrules.audit.dask_runner`) over a cluster. Both consume results in
input order with a bounded number of parts in flight, so memory stays constant however large the input.

The compiled rule set (the IR) is pickled once to each worker, which binds its own backend: the
native backend holds generated functions that do not pickle, the IR does.
"""

from __future__ import annotations

import json
import os
import pickle
import sys
import time
from collections import Counter, deque
from dataclasses import dataclass, replace
from datetime import date
from typing import (
    TYPE_CHECKING,
    AbstractSet,
    Any,
    Deque,
    Dict,
    Iterable,
    Iterator,
    List,
    Optional,
    Sequence,
    TextIO,
    Tuple,
    Union,
)

from .. import __version__
from ..errors import RecordError, SafetyRulesError
from ..findings import apply_findings, parse_findings
from ..report import FindingResult
from .classify import CLASSES, CriterionIndex, Finding, FindingError, Row, classify
from .drilldown import drill_down
from .metrics import Aggregate, SampleRoom, summarize
from .readers import (
    DEFAULT_PART_BYTES,
    DEFAULT_PART_ROWS,
    AuditInputError,
    Part,
    check_csv_header,
    detect_format,
    input_size,
    iter_parts,
    part_progress,
    records_of_part,
)

if TYPE_CHECKING:
    from concurrent.futures import Future

    from ..ir import RuleSetIR
    from ..records import Record
    from ..report import Report
    from ..ruleset import RuleSet

RESULTS = "results.jsonl"
SUMMARY = "summary.json"
REPORT_MD = "report.md"
REPORT_HTML = "report.html"
OUTPUT_FILES = (RESULTS, SUMMARY, REPORT_MD, REPORT_HTML)


# --------------------------------------------------------------------------------------- per worker


class AuditContext:
    """What a worker needs: the rule set bound to a backend, and the citation index."""

    def __init__(self, ir: RuleSetIR, backend: str = "native") -> None:
        from ..ruleset import RuleSet

        self.rules = RuleSet(ir, backend)
        self.index = CriterionIndex(ir)
        self.vocabularies = ir.vocabularies


@dataclass
class PartResult:
    index: int
    text: str
    aggregate: Aggregate
    progress: int


_CONTEXT: Optional[AuditContext] = None


def _init_worker(ir_bytes: bytes, backend: str) -> None:
    global _CONTEXT
    _CONTEXT = AuditContext(pickle.loads(ir_bytes), backend)


def _run_in_worker(part: Part, full: AbstractSet[str] = frozenset()) -> PartResult:
    assert _CONTEXT is not None
    return audit_part(part, _CONTEXT, full)


_dumps = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode


def audit_part(part: Part, ctx: AuditContext, full: AbstractSet[str] = frozenset()) -> PartResult:
    """Rows and counts of one part. Never raises for a bad record: it becomes an error row.

    ``full``: drill-down keys that earlier parts have filled (:class:`~safetyrules.audit.metrics.SampleRoom`);
    records wanted only for those are not detailed."""
    agg = Aggregate()
    lines: List[str] = []
    for pos, value, err in records_of_part(part, ctx.vocabularies):
        row, checked = _audit_record(ctx, pos, value, err)
        _add_who(row, value)
        if "error" in row:
            agg.add_error(row)
        elif agg.add_result(row, full):
            agg.add_sample(row, drill_down(ctx, value, row, _explainable(checked)), full)
        lines.append(_dumps(row))
    lines.append("")
    return PartResult(part.index, "\n".join(lines) if len(lines) > 1 else "", agg, part_progress(part))


def _error_row(
    base: Row, reason: str, message: str, problems: Sequence[Tuple[str, str]] = (), record_id: Optional[str] = None
) -> Row:
    err: Dict[str, Any] = {"reason": reason, "message": message}
    if problems:
        err["problems"] = [{"path": p, "message": m} for p, m in problems]
    row = dict(base, error=err)
    if record_id is not None:
        row["record_id"] = record_id
    return row


def _raw_id(value: Any) -> Optional[str]:
    if isinstance(value, dict):
        rid = value.get("record_id")
        if isinstance(rid, str) and rid:
            return rid
        if isinstance(rid, int) and not isinstance(rid, bool):
            return str(rid)
    return None


def _prepare(
    ctx: AuditContext, pos: Tuple[str, str, int], value: Any, err: Optional[Tuple[str, str]]
) -> Tuple[Optional[Row], Optional[Tuple[Row, Record, Tuple[Finding, ...]]]]:
    """(error row, None) for a record that cannot be evaluated, else (None, (base, record, findings))."""
    source, kind, number = pos
    base: Row = {"source": source, kind: number}
    if err is not None:
        return _error_row(base, err[0], err[1]), None
    try:
        record = ctx.rules.parse_record(value)
    except RecordError as exc:
        return _error_row(base, "invalid_record", str(exc), exc.problems, _raw_id(value)), None
    try:
        findings = ctx.index.parse_findings(record.findings)
    except FindingError as exc:
        return _error_row(base, exc.reason, str(exc), exc.problems, record.record_id), None
    return None, (base, record, findings)


def _finish(ctx: AuditContext, base: Row, record: Record, findings: Sequence[Finding]) -> Row:
    """Evaluate a valid record and class its findings into a result row.

    The audit classes recorded findings against what the facts decide, so the record is judged on its
    facts alone; the inspector's findings on items (``inspector_findings``) are then set against that
    judgement, and the row says which the facts contradict."""
    try:
        report = ctx.rules.evaluate(replace(record, inspector_findings=None))
        stood: Tuple[FindingResult, ...] = ()
        if record.inspector_findings is not None:
            on_items = parse_findings(record.inspector_findings, ctx.rules.ir, record.record_id)
            stood = apply_findings(report, on_items, ctx.rules.ir).inspector_findings
    except RecordError as exc:
        return _error_row(base, "invalid_record", str(exc), exc.problems, record.record_id)
    except SafetyRulesError as exc:
        return _error_row(base, "evaluation_error", str(exc), (), record.record_id)
    except Exception as exc:  # noqa: BLE001 - a bug must cost one row, never the batch
        return _error_row(base, "internal_error", f"{type(exc).__name__}: {exc}", (), record.record_id)
    row = _result_row(ctx, base, report, findings, record.industry, record.region)
    if stood and "error" not in row:
        row["inspector_findings"] = dict(Counter(f.result for f in stood))
        row["contradictions"] = [f.to_json() for f in stood if f.contradicts]
    return row


def _result_row(
    ctx: AuditContext, base: Row, report: Report, findings: Sequence[Finding], industry: str, region: Optional[str]
) -> Row:
    try:
        entries, undetermined = classify(ctx.index, report, findings, industry)
    except SafetyRulesError as exc:
        return _error_row(base, "evaluation_error", str(exc), (), report.record_id)
    except Exception as exc:  # noqa: BLE001 - a bug must cost one row, never the batch
        return _error_row(base, "internal_error", f"{type(exc).__name__}: {exc}", (), report.record_id)
    counts: Dict[str, int] = {}
    for e in entries:
        counts[e["class"]] = counts.get(e["class"], 0) + 1
    if undetermined:
        counts["undetermined"] = counts.get("undetermined", 0) + len(undetermined)
    row = dict(base)
    row.update(
        record_id=report.record_id,
        inspection_date=report.inspection_date.isoformat(),
        industry=industry,
        region=region,
        status=report.status,
        matched=list(report.matched_rule_ids),
        undetermined=undetermined,
        entries=entries,
        counts=counts,
    )
    return row


def _add_who(row: Row, value: Any) -> Row:
    """Copy the site id and the inspector of a result's record into its row (for breakdowns and
    for matching re-inspections of the same site)."""
    if "error" not in row and type(value) is dict:
        site = value.get("site")
        sid = site.get("id") if type(site) is dict else None
        if isinstance(sid, (str, int)) and not isinstance(sid, bool) and sid != "":
            row["site_id"] = str(sid)
        who = value.get("inspector")
        if isinstance(who, str) and who:
            row["inspector"] = who
    return row


def audit_record(ctx: AuditContext, pos: Tuple[str, str, int], value: Any, err: Optional[Tuple[str, str]]) -> Row:
    """One output row for one input record: a result, or an error with its reason."""
    return _add_who(_audit_record(ctx, pos, value, err)[0], value)


def _explainable(checked: Union[None, Report, Record]) -> Any:
    """The checked record for a drill-down's explanations: the general path's record, or the compiled
    evaluator's record read from its report; None when the record must be checked again."""
    from ..evaluation import record_of
    from ..report import Report

    return record_of(checked) if isinstance(checked, Report) else checked


def _audit_record(
    ctx: AuditContext, pos: Tuple[str, str, int], value: Any, err: Optional[Tuple[str, str]]
) -> Tuple[Row, Union[None, Report, Record]]:
    """The row, and what checked the record (a compiled evaluator's report, or the general path's
    record) for the drill-down's explanations; None for an error row."""
    if err is None and type(value) is dict:
        # the common record in one call to the compiled evaluator; anything it declines (including
        # every invalid record) takes the general path below, which names the problem
        report = ctx.rules.evaluate_compiled(value)
        if report is not None:
            source, kind, number = pos
            base: Row = {"source": source, kind: number}
            try:
                findings = ctx.index.parse_findings(value.get("findings") or ())
            except FindingError as exc:
                return _error_row(base, exc.reason, str(exc), exc.problems, report.record_id), None
            site = value["site"]
            return _result_row(ctx, base, report, findings, site["industry"], site.get("region")), report
    row, ready = _prepare(ctx, pos, value, err)
    if ready is None:
        assert row is not None, "_prepare gives an error row or what to evaluate"
        return row, None
    return _finish(ctx, *ready), ready[1]


# --------------------------------------------------------------------------------------- local runner


def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def run_local(parts: Iterable[Part], ir: RuleSetIR, backend: str = "native", jobs: Optional[int] = None) -> Iterator[PartResult]:
    """Results of the parts, in order: a process pool of ``jobs`` workers (every core by default)."""
    jobs = jobs or default_jobs()
    room = SampleRoom()
    if jobs <= 1:
        ctx = AuditContext(ir, backend)
        for part in parts:
            result = audit_part(part, ctx, room.full())
            room.add(result.aggregate)
            yield result
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    mp = multiprocessing.get_context(method) if method else None
    ir_bytes = pickle.dumps(ir, protocol=pickle.HIGHEST_PROTOCOL)
    window = jobs * 3
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=mp, initializer=_init_worker, initargs=(ir_bytes, backend))
    try:
        pending: Deque[Future[PartResult]] = deque()
        it = iter(parts)
        for part in it:
            pending.append(pool.submit(_run_in_worker, part, room.full()))
            if len(pending) >= window:
                break
        while pending:
            result = pending.popleft().result()
            room.add(result.aggregate)
            for part in it:
                pending.append(pool.submit(_run_in_worker, part, room.full()))
                break
            yield result
    finally:
        # on an error or an interrupt, do not wait for parts nobody will read
        pool.shutdown(wait=True, cancel_futures=True)


# --------------------------------------------------------------------------------------- progress


class Progress:
    """A one-line progress bar with rate and ETA on stderr -- only when stderr is a terminal."""

    def __init__(self, total: int, unit: str, enabled: Optional[bool] = None, stream: Optional[TextIO] = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.total = max(total, 1)
        self.unit = unit
        self.done = 0
        self.records = 0
        self.start = time.monotonic()
        self.last = 0.0

    def update(self, progress: int, records: int) -> None:
        self.done += progress
        self.records += records
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.last < 0.2 and self.done < self.total:
            return
        self.last = now
        elapsed = max(now - self.start, 1e-9)
        rate = self.records / elapsed
        if self.unit == "parts":  # inputs measured in different units: no percentage, no ETA
            self.stream.write(f"\r  auditing  {self.records:,} records  {rate:,.0f} rec/s  ")
            self.stream.flush()
            return
        frac = min(self.done / self.total, 1.0)
        eta = elapsed * (1 - frac) / frac if frac > 0 else 0
        width = 28
        bar = "█" * int(frac * width) + "·" * (width - int(frac * width))
        self.stream.write(
            f"\r  auditing {bar} {frac * 100:5.1f}%  {self.records:,} records  {rate:,.0f} rec/s  ETA {_clock(eta)}  "
        )
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            elapsed = time.monotonic() - self.start
            self.stream.write(
                f"\r  audited {self.records:,} records in {_clock(elapsed)} ({self.records / max(elapsed, 1e-9):,.0f} rec/s)"
                + " " * 30
                + "\n"
            )
            self.stream.flush()


def _clock(seconds: float) -> str:
    s = int(seconds + 0.5)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


# --------------------------------------------------------------------------------------- output

#: a folder inside the output folder where a run writes its files before moving them into place
STAGING = ".safetyrules-staging"


class AtomicFile:
    """A file written under a temporary name and moved into place by ``commit``.

    The temporary file is in ``<folder>/.safetyrules-staging/<pid>-<token>/``, on the target's file
    system (so the move is atomic), where a later run finds what a killed run left and removes it
    (:func:`clear_stale_staging`) instead of leaving hidden files of tens of MB beside the results.
    """

    def __init__(self, path: str, mode: str = "w") -> None:
        self.path = path
        directory, name = os.path.split(path)
        self.tmp = os.path.join(_staging_folder(directory or "."), name)
        # A lone surrogate in a record's text (valid JSON, "\ud800") is written as that escape: the
        # line stays valid UTF-8 JSON that reads back to the same value, and the batch goes on.
        text = "b" not in mode
        self.fh = open(
            self.tmp,
            mode,
            encoding="utf-8" if text else None,
            errors="backslashreplace" if text else None,
            newline="\n" if text else None,
        )

    def write(self, text: Union[str, bytes]) -> None:
        self.fh.write(text)

    def close(self) -> None:
        if not self.fh.closed:
            self.fh.flush()
            os.fsync(self.fh.fileno())
            self.fh.close()

    def commit(self) -> None:
        self.close()
        os.replace(self.tmp, self.path)
        self._tidy()

    def discard(self) -> None:
        if not self.fh.closed:
            self.fh.close()
        try:
            os.unlink(self.tmp)
        except FileNotFoundError:
            pass
        self._tidy()

    def _tidy(self) -> None:
        """Remove this run's staging folder (and the staging root) once they are empty."""
        folder = os.path.dirname(self.tmp)
        for path in (folder, os.path.dirname(folder)):
            try:
                os.rmdir(path)
            except OSError:
                break


_RUN_TOKEN = os.urandom(4).hex()


def _staging_folder(directory: str) -> str:
    folder = os.path.join(directory, STAGING, f"{os.getpid()}-{_RUN_TOKEN}")
    os.makedirs(folder, exist_ok=True)
    return folder


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def clear_stale_staging(directory: str) -> List[str]:
    """Remove what killed runs left in ``directory``: staging folders of processes that no longer
    run, and the ``.<name>.tmp-<pid>`` files of earlier versions. Returns what was removed."""
    import re
    import shutil

    removed: List[str] = []
    staging = os.path.join(directory, STAGING)
    if os.path.isdir(staging):
        for entry in os.listdir(staging):
            pid = entry.split("-", 1)[0]
            if pid.isdigit() and not _alive(int(pid)):
                shutil.rmtree(os.path.join(staging, entry), ignore_errors=True)
                removed.append(os.path.join(staging, entry))
        try:
            os.rmdir(staging)  # only when empty
        except OSError:
            pass
    if os.path.isdir(directory):
        for entry in os.listdir(directory):
            m = re.fullmatch(r"\..+\.tmp-(\d+)", entry)
            if m and not _alive(int(m.group(1))):
                os.unlink(os.path.join(directory, entry))
                removed.append(os.path.join(directory, entry))
    return removed


def write_atomic(path: str, text: str) -> AtomicFile:
    f = AtomicFile(path)
    f.write(text)
    f.close()
    return f


# --------------------------------------------------------------------------------------- the audit


@dataclass(frozen=True)
class AuditOptions:
    report_date: Optional[date] = None
    fmt: Optional[str] = None
    jobs: Optional[int] = None
    backend: Optional[str] = None  # default: the backend of the rule set given, else native
    engine: str = "local"  # local | dask
    scheduler: Optional[str] = None  # a Dask scheduler address, e.g. tcp://10.0.0.5:8786
    dask_client: Any = None
    progress: Optional[bool] = None  # None: on a terminal only
    part_bytes: int = DEFAULT_PART_BYTES
    part_rows: int = DEFAULT_PART_ROWS
    parquet_rows: Optional[int] = None  # rows per Parquet part; default: by file size and workers
    top: int = 20
    title: str = "safetyrules audit"
    #: False: judge strictly, exceptions reading no presumptions (``--no-presumptions``)
    presumptions: bool = True


def plan_inputs(inputs: Sequence[str], fmt: Optional[str]) -> List[Tuple[str, str, str, int]]:
    """(path, format, progress unit, total) for each input; fails before anything is written."""
    planned: List[Tuple[str, str, str, int]] = []
    for path in inputs:
        f = detect_format(path, fmt)
        if not os.path.isfile(path):
            raise AuditInputError(f"{path}: cannot read: no such file")
        unit, total = input_size(path, f)
        if f == "csv":
            check_csv_header(path)
        planned.append((path, f, unit, total))
    return planned


def _all_parts(planned: Sequence[Tuple[str, str, str, int]], options: AuditOptions) -> Iterator[Part]:
    from dataclasses import replace

    seq = 0
    for path, f, unit, total in planned:
        parquet_rows = options.parquet_rows
        if parquet_rows is None:
            # enough parts to keep every worker busy, few enough that a part's setup (decoding its row
            # group up to the part) stays small next to evaluating it
            parquet_rows = (
                max(2000, min(50_000, -(-total // (4 * (options.jobs or default_jobs()))))) if unit == "rows" else 50_000
            )
        for part in iter_parts(path, f, options.part_bytes, options.part_rows, parquet_rows):
            yield replace(part, index=seq)
            seq += 1


def run_audit(
    inputs: Sequence[str],
    outdir: str,
    rules: Optional[RuleSet] = None,
    options: Optional[AuditOptions] = None,
    rule_specs: Sequence[str] = (),
) -> Dict[str, Any]:
    """Audit the input files into ``outdir``: results.jsonl, summary.json, report.md, report.html.

    Every file is written under a temporary name and moved into place only when the whole audit
    succeeded; a failed run leaves the previous output as it was. Returns the summary.
    Raises :class:`AuditInputError` for an input that cannot be read at all.
    """
    from .report_html import render_html
    from .report_md import render_markdown

    options = options or AuditOptions()
    if isinstance(inputs, str):
        inputs = [inputs]
    planned = plan_inputs(inputs, options.fmt)
    if rules is None:
        from ..ruleset import load_rules

        from ..packs import expand_specs, shipped_pack_names

        if not rule_specs:
            rule_specs = shipped_pack_names()

        rules = load_rules(expand_specs(rule_specs), backend=options.backend or "native")
    ir = rules.ir if options.presumptions else rules.ir.without_presumptions()
    from ..packs import announce, describe as describe_pack

    announce(ir.packs)
    backend = options.backend or rules.backend
    index = CriterionIndex(ir)
    os.makedirs(outdir, exist_ok=True)
    clear_stale_staging(outdir)
    units = {u for _, _, u, _ in planned}
    unit = units.pop() if len(units) == 1 else "parts"
    total = sum(t for _, _, _, t in planned) if unit != "parts" else 0
    progress = Progress(total, unit, options.progress)
    parts = _all_parts(planned, options)
    if options.engine == "dask":
        from .dask_runner import run_dask

        results = run_dask(parts, ir, backend, client=options.dask_client, address=options.scheduler, jobs=options.jobs)
    elif options.engine == "local":
        results = run_local(parts, ir, backend, options.jobs)
    else:
        raise SafetyRulesError(f"unknown engine {options.engine!r}; choose local or dask")
    out = AtomicFile(os.path.join(outdir, RESULTS))
    staged: List[AtomicFile] = [out]
    try:
        agg = Aggregate()
        for result in results:
            out.write(result.text)
            agg.merge(result.aggregate)
            progress.update(result.progress, result.aggregate.records)
        progress.close()
        summary = summarize(agg, index, options.report_date, options.top)
        summary = {
            "audit": {
                "inputs": [{"path": p, "format": f} for p, f, _, _ in planned],
                "rules": [describe_pack(p) for p in ir.packs],
                "library_version": __version__,
                "report_date_given": options.report_date is not None,
                "presumptions": ir.presumptions,
            },
            **summary,
        }
        staged.append(
            write_atomic(os.path.join(outdir, SUMMARY), json.dumps(summary, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
        )
        staged.append(write_atomic(os.path.join(outdir, REPORT_MD), render_markdown(summary, options.title)))
        staged.append(write_atomic(os.path.join(outdir, REPORT_HTML), render_html(summary, options.title)))
        out.close()
        from .exports import write_exports

        staged.extend(write_exports(outdir, summary, agg, out.tmp))
    except BaseException:
        for f in staged:
            f.discard()
        raise
    # Results first, summary and reports after: a reader that sees the new summary sees the new rows.
    for f in staged:
        f.commit()
    return summary


def exit_code(summary: Dict[str, Any]) -> int:
    """0 every record audited; 1 some records are error rows (see results.jsonl)."""
    return 1 if summary["reconciliation"]["errors"] else 0


__all__ = [
    "AuditContext",
    "AuditOptions",
    "AtomicFile",
    "OUTPUT_FILES",
    "PartResult",
    "Progress",
    "audit_part",
    "audit_record",
    "exit_code",
    "run_audit",
    "run_local",
    "CLASSES",
]
