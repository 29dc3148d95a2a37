"""The ``safetyrules audit`` subcommand (also ``python -m safetyrules.audit``); the audit itself is
``safetyrules.audit``.

Exit codes: 0 every record audited; 1 the audit completed but some records are error rows (listed in
results.jsonl with their reason and line or row number); 2 usage or input error (an input that cannot be
read at all, rules that do not load) -- then no output file is written or replaced.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from .common import EXIT_ERROR, add_presumptions_option, date_arg, positive_int, rules_specs


def output_folder_problem(path: str) -> str:
    """Why ``path`` cannot be an output folder, or '' when it can (it may not exist yet): asked before an
    audit of hours starts, not after."""
    if os.path.exists(path) and not os.path.isdir(path):
        return "exists and is not a folder"
    parent = path
    while not os.path.exists(parent):  # the nearest existing ancestor must be a writable folder
        parent = os.path.dirname(os.path.abspath(parent))
    if not os.path.isdir(parent):
        return f"{parent} is not a folder"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"cannot write in {parent}"
    return ""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``audit`` on ``subparsers`` (from ``parser.add_subparsers``) with its handler."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "audit",
        help="re-check recorded findings over many records: classes, campaign metrics, HTML/Markdown/JSON report",
        description="Audit inspection records in bulk: every recorded finding and every criterion is classed "
        "(confirmed, unsupported, miscited, missed, undetermined, superseded); writes results.jsonl, summary.json, "
        "report.md and report.html to OUTDIR, atomically. See docs/audit.md.",
        epilog="Exit codes: 0 every record audited; 1 some records are error rows; 2 usage or input error.",
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="JSON Lines (.jsonl), CSV (.csv/.tsv) or Parquet (.parquet) files")
    p.add_argument(
        "-o", "--output", required=True, metavar="OUTDIR", help="folder for results.jsonl, summary.json, report.md, report.html"
    )
    p.add_argument(
        "--rules",
        action="append",
        metavar="PACK|PATH",
        help="packs (by name), pack folders or module files; repeat or comma-separate (default: all shipped packs)",
    )
    p.add_argument(
        "--format", choices=("auto", "jsonl", "csv", "parquet"), default="auto", help="input format (default: by file name)"
    )
    p.add_argument(
        "--report-date",
        type=date_arg,
        metavar="DATE",
        help="as-of date of the closed-loop figures (overdue, rectified); default: the latest inspection date in the input",
    )
    p.add_argument("-j", "--jobs", type=positive_int, metavar="N", help="worker processes (default: every core)")
    p.add_argument("--backend", choices=("native", "interpreter", "durable"), default="native")
    add_presumptions_option(p)
    p.add_argument("--engine", choices=("local", "dask"), default="local", help="local process pool, or a Dask cluster")
    p.add_argument(
        "--scheduler", metavar="ADDRESS", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 (default: a local cluster)"
    )
    p.add_argument("--part-size", type=positive_int, metavar="BYTES", help="bytes of JSON Lines per unit of work (default 1 MiB)")
    p.add_argument("--top", type=positive_int, default=20, metavar="N", help="how many criteria the 'most frequent' tables show")
    p.add_argument("--title", default="safetyrules audit", help="title of the reports")
    g = p.add_mutually_exclusive_group()
    g.add_argument(
        "--progress", dest="progress", action="store_true", default=None, help="show the progress bar (default: on a terminal)"
    )
    g.add_argument("--no-progress", dest="progress", action="store_false")
    p.set_defaults(func=cmd_audit)
    return p


def cmd_audit(args: argparse.Namespace) -> int:
    from ..audit.readers import DEFAULT_PART_BYTES, AuditInputError
    from ..audit.runner import AuditOptions, exit_code, run_audit

    problem = output_folder_problem(args.output)
    if problem:
        print(f"safetyrules audit: {args.output}: {problem}", file=sys.stderr)
        return EXIT_ERROR

    options = AuditOptions(
        report_date=args.report_date,
        fmt=None if args.format == "auto" else args.format,
        jobs=args.jobs,
        backend=args.backend,
        engine=args.engine,
        scheduler=args.scheduler,
        progress=args.progress,
        part_bytes=args.part_size or DEFAULT_PART_BYTES,
        top=args.top,
        title=args.title,
        presumptions=args.presumptions,
    )
    try:
        summary = run_audit(args.inputs, args.output, options=options, rule_specs=rules_specs(args))
    except AuditInputError as exc:
        print(f"safetyrules: {exc}", file=sys.stderr)
        return EXIT_ERROR
    rec = summary["reconciliation"]
    m = summary["metrics"]
    c = summary["classes"]
    print(
        f"{rec['records_in']:,} records: {rec['results']:,} audited, {rec['errors']:,} error rows"
        f"{'' if rec['reconciles'] else ' (DOES NOT RECONCILE)'}; "
        + ", ".join(f"{k} {c[k]:,}" for k in c)
        + f"; {m['recorded_per_1000'] if m['recorded_per_1000'] is not None else '–'} recorded per 1000 inspections; "
        f"output in {args.output}",
        file=sys.stderr,
    )
    return exit_code(summary)
