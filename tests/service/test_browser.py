"""The checklist page in a real browser (Playwright driving Chromium) against the service over HTTP:
an inspector fills the coal form for an underground mine, adds a working face, sees the determination
appear with its citation, downloads the record (which ``safetyrules check`` then judges the same way)
and loads it again; scopes hide what does not apply; it works on a phone-sized screen and offline
(nothing is requested from anywhere but the service); the static copy opens from a folder.

The browser is found as in tests/audit/test_browser.py (``SAFETYRULES_CHROMIUM``, then ``chromium`` and
the like on PATH, then Playwright's own); when there is none the tests FAIL, they are not skipped.
"""

import json
import os
import subprocess
import sys

import pytest

from safetyrules.service import create_app
from safetyrules.service.page import build_page
from tests.conftest import ROOT
from tests.service.conftest import LiveServer

COAL_FACE_RULE = "coal-mine-2026.a8.i1.s2"
COAL_FACE_CITATION = "《煤矿重大事故隐患判定标准》第八条第（一）项"


@pytest.fixture(scope="module")
def site():
    from safetyrules import load_rules

    rules = load_rules(os.path.join(ROOT, "rules", "mining"), os.path.join(ROOT, "rules", "industry-trade"))
    with LiveServer(create_app(rules, env={})) as server:
        yield server.url


def open_page(browser, url, **context):
    ctx = browser.new_context(accept_downloads=True, **(context or {"viewport": {"width": 1280, "height": 900}}))
    page = ctx.new_page()
    requests, errors = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(url)
    page.wait_for_selector("#form .site")
    return page, requests, errors


def coal_underground(page):
    page.select_option("#industry", "mining:coal_mine")
    page.fill("#inspection_date", "2026-09-16")
    page.dispatch_event("#inspection_date", "change")
    page.wait_for_selector("#mod-coal-mine-2026")
    page.fill("#record_id", "BROWSER-1")
    page.fill("#site_name", "示例井工煤矿")
    page.select_option("#f-mine_type", "underground")


def add_face(page, key, actual, required):
    index = page.locator("fieldset[data-list='working_faces'] .list-item").count()
    page.click("button[data-add='working_faces']")
    page.fill(f"#l-working_faces-{index}-id", key)
    page.fill(f"#l-working_faces-{index}-air_actual_m3_min", str(actual))
    page.fill(f"#l-working_faces-{index}-air_required_m3_min", str(required))


def test_loads_offline_with_labelled_controls(browser, site):
    page, requests, errors = open_page(browser, site + "/")
    coal_underground(page)
    page.wait_for_selector("#summary.major_hazard_found, #summary.undetermined")
    assert errors == []
    assert requests and all(r.startswith(site + "/") for r in requests), [r for r in requests if not r.startswith(site)]
    # every control has a label a screen reader reads out
    unlabelled = page.evaluate("""() => Array.from(document.querySelectorAll('input, select'))
        .filter(c => c.type !== 'file' && c.labels.length === 0).map(c => c.id || c.outerHTML.slice(0, 80))""")
    assert unlabelled == []
    # a fact read by many items is asked once
    assert page.locator("[data-fact='mine_type']").count() == 1
    assert page.locator(f"#item-{COAL_FACE_RULE.replace('.', '_2e')} .ref a[href='#list-working_faces']").count() == 1
    page.context.close()


def test_coal_underground_face_download_check_and_load(browser, site, tmp_path):
    page, _, errors = open_page(browser, site + "/")
    coal_underground(page)
    add_face(page, "2205掘进工作面", 420, 600)
    found = page.locator(f"#found .determination[data-rule='{COAL_FACE_RULE}']")
    found.wait_for(timeout=20000)
    assert COAL_FACE_CITATION in found.inner_text() and "2205掘进工作面" in found.inner_text()
    assert "f.air_actual_m3_min < f.air_required_m3_min * 75%" in found.locator(".evidence").inner_text()
    assert page.locator("#summary").get_attribute("class") == "summary major_hazard_found"
    # the item in the form says so too; undetermined items name the facts still to record
    item = page.locator(f"#item-{COAL_FACE_RULE.replace('.', '_2e')} .verdict")
    assert item.get_attribute("class") == "verdict matched"
    pending = page.locator("#pending .undetermined").first
    assert "需记录 Record" in pending.inner_text()

    with page.expect_download() as info:
        page.click("#download")
    download = info.value
    assert download.suggested_filename == "BROWSER-1.json"
    path = tmp_path / "record.json"
    download.save_as(str(path))
    record = json.loads(path.read_text(encoding="utf-8"))
    assert record["site"] == {"industry": "coal_mine", "name": "示例井工煤矿", "attributes": {"mine_type": "underground"}}
    assert record["facts"]["working_faces"] == [{"id": "2205掘进工作面", "air_actual_m3_min": 420, "air_required_m3_min": 600}]

    check = subprocess.run(
        [sys.executable, "-m", "safetyrules", "check", str(path), "--rules", "mining", "--format", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert check.returncode == 1, check.stderr  # 1: major hazard found
    report = json.loads(check.stdout)
    assert [(d["rule_id"], d["citation"]["rendered"]) for d in report["determinations"]] == [(COAL_FACE_RULE, COAL_FACE_CITATION)]

    # remove the face: the determination goes; load the record again: it comes back with the values
    page.click("fieldset[data-list='working_faces'] .list-item button.remove")
    found.wait_for(state="detached", timeout=20000)
    page.set_input_files("#load", str(path))
    found.wait_for(timeout=20000)
    assert page.input_value("#l-working_faces-0-air_actual_m3_min") == "420"
    assert page.input_value("#record_id") == "BROWSER-1" and page.input_value("#f-mine_type") == "underground"
    assert errors == []
    page.context.close()


def test_out_of_scope_items_and_modules_are_hidden(browser, site):
    page, _, errors = open_page(browser, site + "/")
    coal_underground(page)
    face_item = page.locator(f"#item-{COAL_FACE_RULE.replace('.', '_2e')}")
    page.wait_for_selector("#summary.undetermined")
    assert face_item.is_visible()
    page.select_option("#f-mine_type", "open_pit")  # underground items no longer apply
    face_item.wait_for(state="hidden", timeout=20000)
    assert page.locator(".item:visible").count() < page.locator(".item").count()
    # industry and trade: a sector chooses its module; the others are out of scope
    page.select_option("#industry", "industry-trade:industry_trade")
    page.wait_for_selector("#mod-it-metallurgy-2023")
    page.select_option("#f-it_sector", "nonferrous")
    metallurgy = page.locator("#mod-it-metallurgy-2023")
    page.wait_for_function("document.getElementById('mod-it-metallurgy-2023').classList.contains('not-applicable')")
    assert not metallurgy.locator(".item").first.is_visible()
    assert page.locator("#mod-it-nonferrous-2023 .item").first.is_visible()
    assert errors == []
    page.context.close()


def test_phone_sized_screen(browser, site):
    page, _, errors = open_page(browser, site + "/", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    coal_underground(page)
    add_face(page, "F-9", 100, 400)
    page.locator(f"#found .determination[data-rule='{COAL_FACE_RULE}']").wait_for(timeout=20000)
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], width  # nothing wider than the screen
    assert page.locator("#download").is_visible() and page.locator("#judge").is_visible()
    assert errors == []
    page.context.close()


def test_static_copy_opens_from_a_folder(browser, service_rules, tmp_path):
    build_page(service_rules, str(tmp_path))
    page, requests, errors = open_page(browser, (tmp_path / "index.html").as_uri())
    assert errors == [] and all(r.startswith("file://") for r in requests)
    assert "safetyrules check" in page.inner_text("#message")  # no service to judge on: says what to do
    page.select_option("#industry", "construction:construction")
    page.wait_for_selector(".module")
    with page.expect_download() as info:
        page.click("#download")
    record = json.loads(open(info.value.path(), encoding="utf-8").read())
    assert record["site"]["industry"] == "construction" and record["inspection_date"]
    page.context.close()


def test_unfinished_record_is_said_on_the_page_without_a_refused_request(browser, site):
    """A record without its id, or a list item without its key, is what the inspector has not typed yet:
    the page says so itself instead of sending a request the service must refuse (422)."""
    page, _, errors = open_page(browser, site + "/")
    page.select_option("#industry", "mining:coal_mine")
    page.fill("#inspection_date", "2026-09-16")
    page.dispatch_event("#inspection_date", "change")
    page.wait_for_selector("#mod-coal-mine-2026")
    page.fill("#record_id", "")  # the page proposes one; an inspector may clear it
    page.wait_for_function("document.getElementById('summary').textContent.indexOf('Not filled in yet') >= 0")
    assert page.get_attribute("#record_id", "aria-invalid") == "true"
    page.fill("#record_id", "BROWSER-2")
    page.wait_for_function("document.getElementById('summary').textContent.indexOf('Not filled in yet') < 0")
    page.click("button[data-add='working_faces']")
    page.wait_for_function(
        "(document.getElementById('l-working_faces-0-id') || {}).getAttribute"
        " && document.getElementById('l-working_faces-0-id').getAttribute('aria-invalid') === 'true'"
    )
    assert "Not filled in yet" in page.locator("#summary").inner_text()
    page.fill("#l-working_faces-0-id", "F-1")
    page.wait_for_function("document.getElementById('summary').textContent.indexOf('Not filled in yet') < 0")
    assert errors == []
    page.context.close()


def test_items_show_their_exceptions_and_presumptions(browser, site):
    page, _, errors = open_page(browser, site + "/")
    page.select_option("#industry", "mining:metal_nonmetal_mine")
    page.fill("#inspection_date", "2026-09-16")
    page.dispatch_event("#inspection_date", "change")
    item = page.locator("#item-" + "metal-nonmetal-mine-2022.ug.i27.s2".replace(".", "_2e"))
    item.wait_for(state="attached", timeout=20000)
    text = item.locator(".exception").text_content()
    assert "除外 Except where: 经批准的联合试运转" in text and "《" in text
    assert "approved_joint_trial_run = 否 no" in text  # what a record that does not say is taken to mean
    assert errors == []
    page.context.close()
