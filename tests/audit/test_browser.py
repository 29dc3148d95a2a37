"""The HTML report in a real browser (Playwright driving Chromium): it loads offline with no request
out and no script error, a filter narrows a table, a heading sorts it, a drill-down opens, a CSV
button downloads the table.

The browser is found in this order: the environment variable ``SAFETYRULES_CHROMIUM`` (a path to a
Chromium or Chrome binary), then ``chromium``, ``chromium-browser``, ``google-chrome`` on PATH, then the
browser Playwright installed itself (``python -m playwright install chromium``). When none is found the
tests FAIL, they are not skipped: a report nobody opened in a browser is not tested. On Debian/Ubuntu:
``apt-get install chromium`` (the CI script does this when it is missing). See docs/audit.md.
"""

import csv
import io
import os
import shutil
from datetime import date

import pytest

from safetyrules.audit import AuditOptions, run_audit
from tests.audit.conftest import EXAMPLES, demo_batch, write_jsonl

ENV = "SAFETYRULES_CHROMIUM"


def find_chromium():
    """The path of a Chromium to launch, or None for Playwright's own; fails when there is none."""
    given = os.environ.get(ENV)
    if given:
        if not os.access(given, os.X_OK):
            pytest.fail(f"{ENV}={given!r} is not an executable file")
        return given
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture(scope="module")
def report(tmp_path_factory, demo_rules, hazchem_rules):
    """Two reports: the re-inspection example (hazchem) and a varied demo batch with every class."""
    d = tmp_path_factory.mktemp("browser")
    run_audit(
        [os.path.join(EXAMPLES, "audit-reinspections.jsonl")],
        str(d / "hazchem"),
        hazchem_rules,
        AuditOptions(jobs=1, report_date=date(2026, 10, 15)),
    )
    path = write_jsonl(d / "demo.jsonl", demo_batch(400))
    run_audit([path], str(d / "demo"), demo_rules, AuditOptions(jobs=1))
    return {"hazchem": str(d / "hazchem" / "report.html"), "demo": str(d / "demo" / "report.html")}


def open_page(browser, path):
    page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    requests, errors = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    # offline: anything but the file itself is refused (and recorded above)
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file://") else route.abort())
    page.goto("file://" + path)
    page.wait_for_load_state("load")
    return page, requests, errors


def visible_rows(page, table_id):
    return page.locator(f"#{table_id} tbody tr:visible").count()


@pytest.mark.parametrize("which", ["hazchem", "demo"])
def test_loads_offline_without_errors(browser, report, which):
    page, requests, errors = open_page(browser, report[which])
    assert requests == ["file://" + report[which]]  # nothing else was even asked for
    assert errors == []
    assert page.locator("h2#summary").is_visible()
    # the filter boxes were wired by the inline script: each says how many rows it shows
    counts = page.locator(".tools .count").all_text_contents()
    assert counts and all(" of " in c for c in counts)
    page.close()


def test_filter_narrows_a_table(browser, report):
    page, _, _ = open_page(browser, report["demo"])
    total = page.locator("#t-by_criterion tbody tr").count()
    assert total >= 2 and visible_rows(page, "t-by_criterion") == total
    box = page.locator('input[data-filter="t-by_criterion"]')
    box.fill("demo-capacity-2020")
    rows = page.locator("#t-by_criterion tbody tr:visible")
    assert 0 < rows.count() < total
    assert all("demo-capacity-2020" in t for t in rows.all_inner_texts())
    assert (
        page.locator(".tools:has(input[data-filter='t-by_criterion']) .count").inner_text() == f"{rows.count()} of {total} rows"
    )
    box.fill("no such criterion anywhere")
    assert visible_rows(page, "t-by_criterion") == 0
    box.fill("")
    assert visible_rows(page, "t-by_criterion") == total
    page.close()


def test_heading_sorts_a_table(browser, report):
    page, _, _ = open_page(browser, report["demo"])
    heading = page.locator("#t-by_month thead th", has_text="inspections")
    values = lambda: [int(t.replace(",", "")) for t in page.locator("#t-by_month tbody tr td:nth-child(2)").all_inner_texts()]  # noqa: E731
    heading.click()
    assert values() == sorted(values())
    heading.click()
    assert values() == sorted(values(), reverse=True) and values() != sorted(values())
    page.close()


def test_drill_down_from_a_class_opens_its_records(browser, report):
    page, _, _ = open_page(browser, report["demo"])
    details = page.locator("details#dd-class-missed")
    assert details.get_attribute("open") is None
    assert not page.locator("#dd-class-missed .rec").first.is_visible()
    page.locator("#t-classes a[href='#dd-class-missed']").click()
    page.wait_for_function("document.getElementById('dd-class-missed').open")
    rec = page.locator("#dd-class-missed .rec").first
    assert rec.is_visible()
    text = rec.inner_text()
    assert "missed" in text and "engine: matched" in text
    assert page.locator("#dd-class-missed .rec").first.locator("ul.ev li").count() >= 1  # the evidence lines
    page.close()


def test_drill_down_from_a_criterion_and_rectification(browser, report):
    page, _, _ = open_page(browser, report["hazchem"])
    link = page.locator("#t-by_criterion a[href='#dd-rule-hazchem-2017.i4.s3']")
    link.click()
    page.wait_for_function("document.getElementById('dd-rule-hazchem-2017.i4.s3').open")
    assert "HC-2026-000318" in page.locator("#dd-rule-hazchem-2017\\.i4\\.s3").inner_text()
    page.locator("a[href='#rect-closed_still_present']").first.click()
    page.wait_for_function("document.getElementById('rect-closed_still_present').open")
    table = page.locator("#t-rect_closed_still_present")
    assert table.is_visible() and "HC-2026-000411" in table.inner_text()
    page.close()


def test_csv_button_downloads_the_table(browser, report):
    page, _, _ = open_page(browser, report["hazchem"])
    with page.expect_download() as info:
        page.locator('button[data-csv="t-rectification_classes"]').click()
    download = info.value
    assert download.suggested_filename == "rectification_classes.csv"
    text = open(download.path(), encoding="utf-8-sig").read()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["class", "findings", "meaning"]
    assert {r[0]: r[1] for r in rows[1:]}["closed_still_present"] == "1"
    page.close()


def test_long_labels_are_not_clipped(browser, report):
    """Every SVG text fits inside its chart (labels are never cut off)."""
    page, _, _ = open_page(browser, report["hazchem"])
    clipped = page.evaluate("""() => {
      const out = [];
      document.querySelectorAll('svg').forEach(svg => {
        const box = svg.getBoundingClientRect();
        svg.querySelectorAll('text').forEach(t => {
          const r = t.getBoundingClientRect();
          if (r.left < box.left - 0.5 || r.right > box.right + 0.5) out.push(t.textContent);
        });
      });
      return out;
    }""")
    assert clipped == []
    page.close()
