"""Bulk audit of recorded findings: ``safetyrules audit INPUT -o OUTDIR`` (see docs/audit.md).

from safetyrules import load_rules
from safetyrules.audit import AuditOptions, run_audit

summary = run_audit(["records.jsonl"], "out", load_rules("hazchem"), AuditOptions(report_date=None))
summary["reconciliation"]   # records_in == results + errors
"""

from .classify import CLASSES, STATUSES, CriterionIndex, FindingError, classify
from .metrics import Aggregate, summarize
from .readers import AuditInputError
from .runner import AuditContext, AuditOptions, audit_part, audit_record, exit_code, run_audit

__all__ = [
    "CLASSES",
    "STATUSES",
    "Aggregate",
    "AuditContext",
    "AuditInputError",
    "AuditOptions",
    "CriterionIndex",
    "FindingError",
    "audit_part",
    "audit_record",
    "classify",
    "exit_code",
    "run_audit",
    "summarize",
]
