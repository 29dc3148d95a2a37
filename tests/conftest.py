import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RULES = os.path.join(ROOT, "rules")
EXAMPLES = os.path.join(ROOT, "examples")


@pytest.fixture(scope="session", autouse=True)
def _private_rules_cache(tmp_path_factory):
    """The compiled-rules cache stays on (every load of the suite goes through it) but in a folder of
    the test run's own, never the user's."""
    saved = {k: os.environ.get(k) for k in ("SAFETYRULES_CACHE_DIR", "SAFETYRULES_NO_CACHE")}
    os.environ["SAFETYRULES_CACHE_DIR"] = str(tmp_path_factory.mktemp("rules-cache"))
    os.environ.pop("SAFETYRULES_NO_CACHE", None)
    yield
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


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


@pytest.fixture(scope="module")
def browser():
    """A Chromium for the browser tests (the audit report, the checklist page): the system's, or Playwright's;
    a clear failure where there is none."""
    from tests.audit.test_browser import ENV, find_chromium

    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed: pip install -e '.[test]'")
    path = find_chromium()
    with sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=path) if path else p.chromium.launch()
        except Exception as exc:  # noqa: BLE001 - say how to get a browser
            pytest.fail(
                f"no Chromium to run the browser tests ({exc.__class__.__name__}: {str(exc)[:300]}). "
                f"Install one (Debian/Ubuntu: apt-get install chromium) or set {ENV} to its path."
            )
        yield b
        b.close()
