"""Reading audit inputs -- JSON Lines, CSV and Parquet -- as *parts* that workers can process alone.

A part is a small, picklable description of a slice of the input: a byte range of a JSON Lines file
(the worker reads it itself), a row group of a Parquet file (likewise), or a block of CSV rows already
split into cells (CSV fields may contain newlines, so only a real CSV reader can find row boundaries).
Every part knows the line or row number its first record has, so an error row always names where the
bad record is.

Nothing here evaluates anything: :func:`records_of_part` turns one part into ``Item`` tuples
``(position, value, error)`` -- a record as a dict, or the reason it could not be read.

CSV and flat Parquet columns follow one mapping (docs/audit.md):

=============================  =========================================================
column                         record key
=============================  =========================================================
``record_id``                  ``record_id`` (required)
``inspection_date``            ``inspection_date`` (required, ``YYYY-MM-DD``)
``site.industry``              ``site.industry`` (required); also ``site.id``, ``site.name``,
                               ``site.region``, ``site.address``
``site.attributes.<fact>``     a site fact (``mine_type``, ...)
``facts.<fact>``               an observed fact; a list fact is a JSON array in the cell
``findings``                   the recorded findings, a JSON array (see docs/records.md)
``inspector``, ``notes``,      copied as they are
``source``
=============================  =========================================================

An empty cell means *not recorded*. Cells are typed by the fact vocabulary of the row's industry:
numbers are read exactly as written, booleans as ``true``/``false`` (also ``1``/``0``, ``yes``/``no``,
``是``/``否``); a cell that does not read as its type is passed on as text, so the record check reports it
as a wrong type with its path rather than silently dropping it.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import IO, Any, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

from ..errors import SafetyRulesError, did_you_mean
from ..inputs import JsonProblem, decode_json

#: approximate bytes of JSON Lines per part (a part is the unit of work sent to one worker)
DEFAULT_PART_BYTES = 1 << 20
#: CSV rows per part
DEFAULT_PART_ROWS = 4000
#: Parquet rows per part at most (a row group larger than this is cut into several parts)
DEFAULT_PARQUET_PART_ROWS = 50_000
MAX_LINE_BYTES = 16 << 20

FORMATS = ("jsonl", "csv", "parquet")
REQUIRED_COLUMNS = ("record_id", "inspection_date", "site.industry")
_TOP_COLUMNS = ("record_id", "inspection_date", "findings", "inspector", "notes", "source")
_SITE_COLUMNS = ("site.id", "site.name", "site.industry", "site.region", "site.address")


class AuditInputError(SafetyRulesError):
    """An input file cannot be audited at all (unreadable, not Parquet, a CSV header without a required
    column); the message names the file. Bad *records* are never raised: they become error rows."""


# --------------------------------------------------------------------------------------- parts


@dataclass(frozen=True)
class JsonlPart:
    path: str
    start: int  # byte offset of the first line
    stop: int  # byte offset just past the last line
    first_line: int  # 1-based line number of the line at ``start``
    index: int = 0


@dataclass(frozen=True)
class JsonlBytesPart:
    """A JSON Lines part carrying its bytes (sent by a driver to workers that cannot read the file)."""

    path: str
    data: bytes
    first_line: int
    index: int = 0
    size: int = 0


@dataclass(frozen=True)
class ParquetPart:
    """Rows ``offset .. offset + num_rows`` of one row group (a large group is cut into several parts)."""

    path: str
    row_group: int
    first_row: int  # 1-based row number (in the file) of the part's first row
    num_rows: int
    index: int = 0
    offset: int = 0  # of the part's first row within its row group


@dataclass(frozen=True)
class RowsPart:
    """CSV rows, already split into cells: ``rows`` is a tuple of (row number, cells)."""

    path: str
    header: Tuple[str, ...]
    rows: Tuple[Tuple[int, Tuple[str, ...]], ...]
    index: int = 0
    progress: int = 0  # bytes of the file these rows took (approximately), for the progress bar


Part = Union[JsonlPart, JsonlBytesPart, ParquetPart, RowsPart]
#: the fact vocabularies by industry (``RuleSetIR.vocabularies``): fact name -> FactSpec
Vocabularies = Mapping[str, Mapping[str, Any]]
#: one input record: (position, value or None, error reason or None); position is (file, kind, number)
Item = Tuple[Tuple[str, str, int], Any, Optional[Tuple[str, str]]]


def detect_format(path: str, fmt: Optional[str] = None) -> str:
    if fmt and fmt != "auto":
        if fmt not in FORMATS:
            raise AuditInputError(f"unknown input format {fmt!r}; choose one of {', '.join(FORMATS)}")
        return fmt
    lower = path.lower()
    if lower.endswith((".jsonl", ".ndjson", ".jsonl.txt")):
        return "jsonl"
    if lower.endswith((".csv", ".tsv")):
        return "csv"
    if lower.endswith((".parquet", ".pq")):
        return "parquet"
    raise AuditInputError(f"{path}: cannot tell the format from the name; use --format jsonl|csv|parquet")


def input_size(path: str, fmt: str) -> Tuple[str, int]:
    """What progress is measured in for this input, and its total: ('bytes', n) or ('rows', n)."""
    if fmt == "parquet":
        return "rows", _parquet_file(path).metadata.num_rows
    try:
        return "bytes", os.path.getsize(path)
    except OSError as exc:
        raise AuditInputError(f"{path}: cannot read: {exc.strerror}") from None


def iter_parts(
    path: str,
    fmt: str,
    part_bytes: int = DEFAULT_PART_BYTES,
    part_rows: int = DEFAULT_PART_ROWS,
    parquet_rows: int = DEFAULT_PARQUET_PART_ROWS,
) -> Iterator[Part]:
    """The parts of one input file, in order. Reads only what it needs to find boundaries."""
    if fmt == "jsonl":
        yield from _jsonl_parts(path, part_bytes)
    elif fmt == "csv":
        yield from _csv_parts(path, part_rows)
    elif fmt == "parquet":
        yield from _parquet_parts(path, parquet_rows)
    else:  # pragma: no cover - detect_format guards this
        raise AuditInputError(f"unknown format {fmt!r}")


def part_progress(part: Part) -> int:
    """How far a part moves progress, in the unit of :func:`input_size`."""
    if isinstance(part, JsonlPart):
        return part.stop - part.start
    if isinstance(part, JsonlBytesPart):
        return part.size
    if isinstance(part, ParquetPart):
        return part.num_rows
    return part.progress


def _open(path: str) -> IO[bytes]:
    try:
        return open(path, "rb")
    except OSError as exc:
        raise AuditInputError(f"{path}: cannot read: {exc.strerror}") from None


def _jsonl_parts(path: str, part_bytes: int) -> Iterator[JsonlPart]:
    """Byte ranges ending on line boundaries, each with the number of its first line."""
    index = 0
    with _open(path) as fh:
        start = 0
        line = 1
        while True:
            fh.seek(start)
            block = fh.read(part_bytes)
            if not block:
                return
            if len(block) == part_bytes:
                cut = block.rfind(b"\n")
                if cut < 0:  # one very long line: read on to its end
                    rest = bytearray(block)
                    while True:
                        more = fh.read(part_bytes)
                        if not more:
                            break
                        nl = more.find(b"\n")
                        if nl >= 0:
                            rest += more[: nl + 1]
                            break
                        rest += more
                    block = bytes(rest)
                else:
                    block = block[: cut + 1]
            stop = start + len(block)
            yield JsonlPart(path, start, stop, line, index)
            index += 1
            line += block.count(b"\n")
            start = stop


def _csv_reader(path: str) -> Tuple[IO[bytes], io.TextIOWrapper, Iterator[List[str]]]:
    fh = _open(path)
    # Bytes that are not UTF-8 are kept as lone surrogates (surrogateescape), so that the rows around
    # them are still read: a row holding one becomes an error row, not the end of the audit.
    text = io.TextIOWrapper(fh, encoding="utf-8-sig", errors="surrogateescape", newline="")
    dialect = "excel-tab" if path.lower().endswith(".tsv") else "excel"
    return fh, text, csv.reader(text, dialect=dialect)


def check_header(path: str, header: Sequence[str]) -> None:
    """Every column must be in the mapping and the required ones must be there."""
    problems = []
    seen = set()
    for name in header:
        if name in seen:
            problems.append(f"column {name!r} appears twice")
        seen.add(name)
        if name in _TOP_COLUMNS or name in _SITE_COLUMNS:
            continue
        if name.startswith(("facts.", "site.attributes.")) and name.rsplit(".", 1)[1]:
            continue
        problems.append(
            f"column {name!r} is not in the column mapping{did_you_mean(name, _TOP_COLUMNS + _SITE_COLUMNS)} "
            "(facts are 'facts.<name>', site facts 'site.attributes.<name>'; see docs/audit.md)"
        )
    missing = [c for c in REQUIRED_COLUMNS if c not in seen]
    if missing:
        problems.append(f"required column(s) missing: {', '.join(missing)}")
    if problems:
        raise AuditInputError(f"{path}: " + "; ".join(problems))


def _undecodable(cells: Sequence[str]) -> str:
    """'' when every cell is text; else which byte was not UTF-8 and in which cell."""
    for i, cell in enumerate(cells, 1):
        if not cell.isascii():
            for ch in cell:
                if "\udc80" <= ch <= "\udcff":
                    return f"byte 0x{ord(ch) - 0xDC00:02x} in cell {i}"
    return ""


def check_csv_header(path: str) -> None:
    """Fail early, before any output is written, when a CSV header does not fit the column mapping."""
    fh, text, reader = _csv_reader(path)
    with text:
        try:
            header = next(reader, None)
        except (UnicodeDecodeError, csv.Error) as exc:
            raise AuditInputError(f"{path}: row 1: cannot read the CSV header: {exc}") from None
    if header is not None:
        if _undecodable(header):
            raise AuditInputError(f"{path}: row 1: the header is not UTF-8 text")
        check_header(path, tuple(h.strip() for h in header))


def _csv_parts(path: str, part_rows: int) -> Iterator[RowsPart]:
    """Blocks of rows. Rows are numbered as in a spreadsheet: the header is row 1."""
    fh, text, reader = _csv_reader(path)
    with text:
        try:
            first = next(reader, None)
        except (UnicodeDecodeError, csv.Error) as exc:
            raise AuditInputError(f"{path}: row 1: cannot read the CSV header: {exc}") from None
        if first is None:
            return
        header = tuple(h.strip() for h in first)
        check_header(path, header)
        rows: List[Tuple[int, Tuple[str, ...]]] = []
        index = 0
        row_no = 1
        done = 0
        while True:
            row_no += 1
            try:
                cells = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                rows.append((row_no, ("\x00csv-error", str(exc))))
                continue
            if not cells or (len(cells) == 1 and not cells[0].strip()):
                continue  # a blank line is not a record
            bad = _undecodable(cells)
            rows.append((row_no, ("\x00not-utf8", bad) if bad else tuple(cells)))
            if len(rows) >= part_rows:
                at = fh.tell()
                yield RowsPart(path, header, tuple(rows), index, at - done)
                done = at
                index += 1
                rows = []
        if rows:
            at = fh.tell()
            yield RowsPart(path, header, tuple(rows), index, at - done)


def _parquet_file(path: str) -> Any:  # a pyarrow.parquet.ParquetFile (pyarrow has no type information)
    try:
        import pyarrow.parquet as pq
    except ImportError:  # pragma: no cover - pyarrow is a dependency of the audit extra
        raise AuditInputError("reading Parquet needs pyarrow: pip install 'safetyrules[audit]'") from None
    try:
        return pq.ParquetFile(path)
    except OSError as exc:
        if not os.path.exists(path):
            raise AuditInputError(f"{path}: cannot read: no such file") from None
        raise AuditInputError(f"{path}: not a readable Parquet file (truncated or corrupt?): {exc}") from None
    except Exception as exc:  # pyarrow raises ArrowInvalid and friends for a broken footer
        raise AuditInputError(f"{path}: not a readable Parquet file (truncated or corrupt?): {exc}") from None


def _parquet_parts(path: str, parquet_rows: int = DEFAULT_PARQUET_PART_ROWS) -> Iterator[ParquetPart]:
    pf = _parquet_file(path)
    header = tuple(pf.schema_arrow.names)
    _check_parquet_columns(path, header)
    first = 1
    index = 0
    step = max(int(parquet_rows), 1)
    for i in range(pf.metadata.num_row_groups):
        n = pf.metadata.row_group(i).num_rows
        for offset in range(0, n, step):
            count = min(step, n - offset)
            yield ParquetPart(path, i, first + offset, count, index, offset)
            index += 1
        first += n


def _check_parquet_columns(path: str, names: Sequence[str]) -> None:
    nested = {"site", "facts"} & set(names)
    if not nested:
        check_header(path, names)
        return
    flat = [n for n in names if n not in ("site", "facts")]
    problems = [
        f"column {n!r} is not in the column mapping"
        for n in flat
        if n not in _TOP_COLUMNS and not n.startswith(("facts.", "site."))
    ]
    missing = [
        c for c in ("record_id", "inspection_date", "site") if c not in names and not (c == "site" and "site.industry" in names)
    ]
    if missing:
        problems.append(f"required column(s) missing: {', '.join(missing)}")
    if problems:
        raise AuditInputError(f"{path}: " + "; ".join(problems))


# --------------------------------------------------------------------------------------- records of a part


def records_of_part(part: Part, vocabularies: Vocabularies) -> Iterator[Item]:
    """The records of one part, in order; an unreadable record is yielded with its reason."""
    if isinstance(part, JsonlPart):
        with _open(part.path) as fh:
            fh.seek(part.start)
            data = fh.read(part.stop - part.start)
        yield from jsonl_records(part.path, data, part.first_line)
    elif isinstance(part, JsonlBytesPart):
        yield from jsonl_records(part.path, part.data, part.first_line)
    elif isinstance(part, ParquetPart):
        yield from _parquet_records(part, vocabularies)
    elif isinstance(part, RowsPart):
        yield from _csv_records(part, vocabularies)
    else:  # pragma: no cover
        raise TypeError(part)


def jsonl_records(path: str, data: bytes, first_line: int) -> Iterator[Item]:
    """The records of a block of JSON Lines whose first line is number ``first_line``."""
    decode = decode_json
    line_no = first_line - 1
    for raw in data.split(b"\n"):
        line_no += 1
        if line_no == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]  # a UTF-8 byte order mark
        if not raw.strip():
            continue
        pos = (path, "line", line_no)
        if len(raw) > MAX_LINE_BYTES:
            yield pos, None, ("line_too_long", f"the line is {len(raw)} bytes; the limit is {MAX_LINE_BYTES}")
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            yield pos, None, ("not_utf8", "the line is not UTF-8 text")
            continue
        try:
            value = decode(text)
        except JsonProblem as exc:
            where = f"at column {exc.column}: " if exc.column is not None else ""
            yield pos, None, ("malformed_json", f"{where}{exc}")
            continue
        yield pos, value, None


def _csv_records(part: RowsPart, vocabularies: Vocabularies) -> Iterator[Item]:
    header = part.header
    width = len(header)
    for row_no, cells in part.rows:
        pos = (part.path, "row", row_no)
        if cells and cells[0] == "\x00csv-error":
            yield pos, None, ("malformed_csv", f"the row cannot be read as CSV: {cells[1]}")
            continue
        if cells and cells[0] == "\x00not-utf8":
            yield pos, None, ("not_utf8", f"the row is not UTF-8 text ({cells[1]})")
            continue
        if len(cells) != width:
            yield pos, None, ("malformed_csv", f"the row has {len(cells)} cells; the header has {width}")
            continue
        try:
            yield pos, unflatten(zip(header, cells), vocabularies), None
        except _CellError as exc:
            yield pos, None, ("malformed_cell", str(exc))


def _parquet_records(part: ParquetPart, vocabularies: Vocabularies, batch_rows: int = 2048) -> Iterator[Item]:
    """The part's rows of its row group, decoded in batches (batches before the part are skipped unread
    into Python objects)."""
    pf = _parquet_file(part.path)
    nested = "site" in pf.schema_arrow.names or "facts" in pf.schema_arrow.names
    start, stop = part.offset, part.offset + part.num_rows
    at = 0  # row index within the row group of the current batch's first row
    done = 0
    try:
        for batch in pf.iter_batches(batch_size=batch_rows, row_groups=[part.row_group], use_threads=False):
            n = batch.num_rows
            if at + n <= start:
                at += n
                continue
            lo, hi = max(start - at, 0), min(stop - at, n)
            for row in batch.slice(lo, hi - lo).to_pylist():
                pos = (part.path, "row", part.first_row + done)
                done += 1
                try:
                    value = _nested_row(row, vocabularies) if nested else unflatten(row.items(), vocabularies)
                except _CellError as exc:
                    yield pos, None, ("malformed_cell", str(exc))
                    continue
                yield pos, value, None
            at += n
            if at >= stop:
                break
    except Exception as exc:  # a damaged row group: every row of the part not yet read becomes an error row
        for i in range(done, part.num_rows):
            yield (
                (part.path, "row", part.first_row + i),
                None,
                ("unreadable_row_group", f"row group {part.row_group} cannot be read: {exc}"),
            )


# --------------------------------------------------------------------------------------- typing cells


class _CellError(Exception):
    pass


_TRUE = {"true", "1", "yes", "y", "t", "是"}
_FALSE = {"false", "0", "no", "n", "f", "否"}


def _number(text: str) -> Any:
    s = text.strip()
    try:
        if s.lstrip("+-").isdigit():
            return int(s)
        d = Decimal(s)
    except (InvalidOperation, ValueError):
        return text
    if not d.is_finite():
        return text
    f = float(d)
    return f if Decimal(repr(f)) == d else d


def _typed(spec: Any, value: Any, column: str) -> Any:
    """A cell's value as its fact type, when it is text; other values are left for the record check."""
    if isinstance(value, (date, datetime)):
        return value.isoformat()[:10]
    if isinstance(value, float) and value != value:  # NaN from a numeric column: not recorded
        return None
    if not isinstance(value, str):
        return value
    if spec is None:
        return value  # unknown fact: the record check names it (with a did-you-mean)
    kind = spec.type.kind
    if kind == "number":
        return _number(value)
    if kind == "boolean":
        low = value.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        return value
    if kind == "list":
        try:
            return decode_json(value)
        except JsonProblem as exc:
            where = f" at column {exc.column}" if exc.column is not None else ""
            raise _CellError(f"column {column!r}: a list fact must be a JSON array: {exc}{where}") from None
    return value


def unflatten(cells: Iterable[Tuple[str, Any]], vocabularies: Vocabularies) -> Dict[str, Any]:
    """A record from (column, value) pairs named by the column mapping; empty cells are left out."""
    record: Dict[str, Any] = {}
    site: Dict[str, Any] = {}
    attributes: Dict[str, Any] = {}
    facts: Dict[str, Any] = {}
    typed_later: List[Tuple[Dict[str, Any], str, Any, str]] = []
    for column, value in cells:
        if value is None or (isinstance(value, str) and value == ""):
            continue
        if column.startswith("facts."):
            typed_later.append((facts, column[6:], value, column))
        elif column.startswith("site.attributes."):
            typed_later.append((attributes, column[16:], value, column))
        elif column.startswith("site."):
            site[column[5:]] = value
        elif column == "findings":
            record["findings"] = _json_cell(value, column) if isinstance(value, str) else _plain(value)
        else:
            record[column] = value.isoformat()[:10] if isinstance(value, (date, datetime)) else value
    industry = site.get("industry")
    vocab = vocabularies.get(industry, {}) if isinstance(industry, str) else {}
    for target, name, value, column in typed_later:
        typed = _typed(vocab.get(name), value, column)
        if typed is not None:
            # text cells parse to JSON values already; only values read from Parquet may hold dates or NaN
            target[name] = typed if isinstance(value, str) or type(typed) in (int, float, bool, str) else _plain(typed)
    if attributes:
        site["attributes"] = attributes
    if site:
        record["site"] = site
    if facts:
        record["facts"] = facts
    return record


def _json_cell(text: str, column: str) -> Any:
    try:
        return decode_json(text)
    except JsonProblem as exc:
        where = f" at column {exc.column}" if exc.column is not None else ""
        raise _CellError(f"column {column!r}: not JSON: {exc}{where}") from None


def _plain(value: Any) -> Any:
    """Dates to text, NaN to None, recursively (values read from Parquet)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()[:10]
    if isinstance(value, float) and value != value:
        return None
    return value


def _nested_row(row: Dict[str, Any], vocabularies: Vocabularies) -> Dict[str, Any]:
    """A Parquet row with struct columns ``site`` and ``facts`` (and maybe flat ``facts.x`` columns)."""
    flat = [(k, v) for k, v in row.items() if k not in ("site", "facts")]
    record = unflatten(flat, vocabularies)
    site = row.get("site")
    if isinstance(site, dict):
        merged = _plain(site)
        merged.update(record.get("site", {}))
        record["site"] = merged
    facts = row.get("facts")
    if isinstance(facts, dict):
        vocab = vocabularies.get(record.get("site", {}).get("industry"), {})
        merged = {}
        for k, v in facts.items():
            if v is None:
                continue
            spec = vocab.get(k) if isinstance(vocab, Mapping) else None
            merged[k] = _plain(_typed(spec, v, f"facts.{k}") if isinstance(v, str) else v)
        merged.update(record.get("facts", {}))
        record["facts"] = merged
    return record
