import copy
import json
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RULES = os.path.join(ROOT, "rules")
EXAMPLES = os.path.join(ROOT, "examples")


@pytest.fixture(scope="session")
def demo_rules():
    from safetyrules import load_rules

    return load_rules(os.path.join(RULES, "demo"))


@pytest.fixture(scope="session")
def hazchem_rules():
    from safetyrules import load_rules

    return load_rules(os.path.join(RULES, "hazchem"))


@pytest.fixture(scope="session")
def demo_ctx(demo_rules):
    from safetyrules.audit import AuditContext

    return AuditContext(demo_rules.ir)


@pytest.fixture(scope="session")
def hazchem_ctx(hazchem_rules):
    from safetyrules.audit import AuditContext

    return AuditContext(hazchem_rules.ir)


def demo(
    record_id="D-1",
    date="2026-08-12",
    output=7150.01,
    capacity=6500,
    quarter=1000,
    faces=(),
    findings=None,
    mine_type="underground",
    region="CN-NM",
    **extra,
):
    facts = {"approved_capacity_t": capacity, "working_faces": list(faces)}
    if output is not None:
        facts["annual_output_t"] = output
    if quarter is not None:
        facts["max_quarter_output_t"] = quarter
    rec = {
        "record_id": record_id,
        "inspection_date": date,
        "site": {"industry": "demo", "region": region, "attributes": {"mine_type": mine_type}},
        "facts": facts,
    }
    if findings is not None:
        rec["findings"] = findings
    rec.update(extra)
    return rec


def example(name):
    with open(os.path.join(EXAMPLES, name), encoding="utf-8") as fh:
        return json.load(fh)


def write_jsonl(path, records):
    with open(path, "w", encoding="utf-8") as fh:
        for r in records:
            fh.write(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False))
            fh.write("\n")
    return str(path)


def audit_one(ctx, record):
    from safetyrules.audit import audit_record

    return audit_record(ctx, ("mem", "line", 1), copy.deepcopy(record), None)


def demo_batch(n=500, seed=3, corrupt_every=100):
    """Varied demo records with findings; every ``corrupt_every``-th line corrupt (a 1 % batch at 100)."""
    import random

    rng = random.Random(seed)
    out = []
    for i in range(n):
        if corrupt_every and i % corrupt_every == corrupt_every - 1:
            out.append('{"record_id": "BROKEN-%d", "inspection_date": ' % i)
            continue
        day = f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        output = rng.choice((5000, 7000, 7150, 7151, 8000, None))
        findings = []
        if output and output > 7150 and rng.random() < 0.8:
            version = "2026" if day >= "2026-07-01" else "2020"
            findings.append(
                {
                    "rule": f"demo-capacity-{version}.a4.i1",
                    "status": rng.choice(("listed", "rectified", "closed")),
                    "listed_on": day,
                    "deadline": "2026-09-30",
                }
            )
        if rng.random() < 0.05:
            findings.append({"rule": "demo-capacity-2020.a4.i1", "status": "listed", "listed_on": day})
        out.append(
            demo(
                record_id=f"B-{i}",
                date=day,
                output=output,
                region=rng.choice(("CN-NM", "CN-SX", None)),
                findings=findings or None,
            )
        )
    return out


#: the flat columns (CSV, Parquet) of a demo record, as the readers map them
HEADER = [
    "record_id",
    "inspection_date",
    "site.industry",
    "site.region",
    "site.attributes.mine_type",
    "facts.annual_output_t",
    "facts.approved_capacity_t",
    "facts.max_quarter_output_t",
    "facts.working_faces",
    "findings",
]
