import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RULES = os.path.join(ROOT, "rules")
EXAMPLES = os.path.join(ROOT, "examples")


@pytest.fixture(scope="session")
def demo_rules():
    from safetyrules import load_rules

    return load_rules(os.path.join(RULES, "demo"))


def demo_record(facts=None, date="2026-08-01", attributes=None, **extra):
    record = {
        "record_id": "T-1",
        "inspection_date": date,
        "site": {"industry": "demo", "attributes": {"mine_type": "underground"} if attributes is None else attributes},
        "facts": facts or {},
    }
    record.update(extra)
    return record
