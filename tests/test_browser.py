"""The HTML report and the drift matrix, opened in headless Chromium as a person would look at them.

Debian's ``chromium`` and ``chromium-driver`` (``/usr/bin/chromium``, ``/usr/bin/chromedriver``),
driven by Selenium; nothing downloads a browser.  Checked at 1280 px and at 390 px wide: the page
loads with no console error; the verdict, the counts and every failed requirement are visible; the
filter works; a failure's rerun command is there and selectable (one click selects all of it); the
body never scrolls sideways.  Outside CI a machine without the browser skips, saying so; under CI
(``CI=true``) a missing browser fails.

The pages are those of the known reports of tests/test_reports.py, plus, when
``CONFORMANCE_BROWSER_REPORTS`` names a folder (``nox -s browser`` does), the real reports in it and
their drift matrix.  Screenshots go to ``CONFORMANCE_BROWSER_ARTIFACTS`` when set.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from conformance import _html, matrix
from conformance._render import failing_tests, load_report, rerun_command
from tests.test_reports import _matrix_reports, known_report

CHROMIUM = Path(os.environ.get("CONFORMANCE_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("CONFORMANCE_CHROMEDRIVER", "/usr/bin/chromedriver"))
WIDTHS = (1280, 390)
IN_CI = os.environ.get("CI", "").lower() == "true"


def _missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "the Python package selenium is not installed (dependency group 'browser'; nox -s browser has it)"
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not path.exists():
            return f"{path} is missing: apt-get install chromium chromium-driver (package {package})"
    return None


@pytest.fixture(scope="module")
def browser():
    missing = _missing()
    if missing:
        if IN_CI:
            pytest.fail(f"CI=true and the browser check cannot run: {missing}")
        pytest.skip(f"no browser to check the HTML pages in: {missing}")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager never fetches a browser or a driver
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--hide-scrollbars"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


ARTIFACTS = os.environ.get("CONFORMANCE_BROWSER_ARTIFACTS")
TIMINGS: dict[str, float] = {}


def _real_reports() -> list[Path]:
    folder = os.environ.get("CONFORMANCE_BROWSER_REPORTS")
    if not folder:
        return []
    return [p for p in sorted(Path(folder).glob("*.json")) if "report_version" in json.loads(p.read_text())]


def _pages() -> list[tuple[str, Any]]:
    pages: list[tuple[str, Any]] = [
        ("known-failing", known_report()),
        ("known-conformant", known_report(failing=False)),
    ]
    pages += [(path.stem, path) for path in _real_reports()]
    return pages


def _open(driver, path: Path, width: int, name: str) -> None:
    driver.set_window_size(width, 900)
    driver.get_log("browser")  # drop what an earlier page logged
    started = time.perf_counter()
    driver.get(path.as_uri())
    TIMINGS[f"{name}@{width}"] = round(time.perf_counter() - started, 3)
    errors = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    assert not errors, f"console errors on {name} at {width} px: {errors}"
    state = driver.execute_script("return document.readyState")
    assert state == "complete"
    overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name} at {width} px scrolls sideways by {overflow} px"
    broken = driver.execute_script(
        "return [].slice.call(document.querySelectorAll('.chip, .verdict, .filter button'))"
        ".filter(function(e){return e.getClientRects().length > 1 || e.getBoundingClientRect().height > 40;})"
        ".map(function(e){return e.textContent;});"
    )
    assert not broken, f"{name} at {width} px breaks labels over lines: {broken[:5]}"


def _shot(driver, name: str, width: int) -> None:
    if ARTIFACTS:
        Path(ARTIFACTS).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(ARTIFACTS) / f"{name}-{width}.png"))
        (Path(ARTIFACTS) / "render-times.json").write_text(json.dumps(TIMINGS, indent=2) + "\n")


def _shown(driver, css: str) -> list[str]:
    """The ids of the elements matching ``css`` that take up room on the page (one round trip)."""
    script = (
        "return [].slice.call(document.querySelectorAll(arguments[0]))"
        ".filter(function(e){return e.getClientRects().length > 0;}).map(function(e){return e.id;});"
    )
    return list(driver.execute_script(script, css))


def _click_filter(driver, key: str) -> None:
    from selenium.webdriver.common.by import By

    button = driver.find_element(By.CSS_SELECTOR, f'[data-filter="{key}"]')
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    button.click()
    assert button.get_attribute("aria-pressed") == "true"


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize(("name", "source"), _pages(), ids=[name for name, _ in _pages()])
def test_html_report_in_the_browser(browser, tmp_path, name, source, width):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    report = load_report(source) if isinstance(source, Path) else source
    page = tmp_path / f"{name}.html"
    page.write_text(_html.render(report), encoding="utf-8")
    _open(browser, page, width, name)

    verdict = browser.find_element(By.ID, "verdict")
    assert verdict.is_displayed() and verdict.text == report["summary"]["verdict"].replace("-", " ")
    assert verdict.location["y"] < 900, "the verdict is in the first screen"
    counts = browser.find_element(By.ID, "counts")
    assert counts.is_displayed()
    for outcome in ("passed", "failed", "not-testable", "skipped", "not-tested"):
        assert f"{report['summary'][outcome]} {outcome}" in counts.text
    failing = [r["id"] for r in report["requirements"] if r["outcome"] in ("failed", "not-testable")]
    shown = set(_shown(browser, "article.req"))
    top = browser.find_element(By.ID, "failures").text if failing else ""
    for rid in failing:
        assert rid in shown, f"{rid} failed but is not visible"
        assert rid in top, f"{rid} failed but is not in the list at the top"
    _shot(browser, name, width)

    selected = report["run"].get("selected")
    listed = [r["id"] for r in report["requirements"] if selected is None or r["id"] in selected]
    assert sorted(_shown(browser, "article.req")) == sorted(listed)
    _click_filter(browser, "failing")
    assert sorted(_shown(browser, "article.req")) == sorted(failing)
    _click_filter(browser, "passed")
    passed = [r["id"] for r in report["requirements"] if r["outcome"] == "passed"]
    assert sorted(_shown(browser, "article.req")) == sorted(passed)
    _click_filter(browser, "all")
    search = browser.find_element(By.ID, "search")
    first = listed[0]
    search.send_keys(first)
    assert _shown(browser, "article.req") == [first]
    search.clear()
    search.send_keys(" ")  # clear() fires no input event; an edit does
    assert len(_shown(browser, "article.req")) == len(listed)

    if not failing:
        return
    row = next(r for r in report["requirements"] if r["id"] == failing[0])
    command = rerun_command(report, row, failing_tests(row)[0])
    pre = browser.find_element(By.ID, f"rerun-{failing[0]}-0")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", pre)
    assert pre.is_displayed() and pre.text == command
    assert pre.value_of_css_property("user-select") != "none"
    ActionChains(browser).click(pre).perform()  # one click selects the whole command
    assert browser.execute_script("return window.getSelection().toString()") == command
    browser.execute_script("window.getSelection().removeAllRanges()")
    copy = browser.find_element(By.CSS_SELECTOR, f'button[data-for="rerun-{failing[0]}-0"]')
    copy.click()
    assert browser.execute_script("return window.getSelection().toString()") == command
    assert copy.text in ("Copied", "Selected"), "the button answers the click at once, copied or only selected"
    _shot(browser, f"{name}-failure", width)
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors


def _matrix_inputs() -> tuple[str, list[dict[str, Any]]]:
    real = _real_reports()
    if len(real) >= 2:
        return "matrix-real", [load_report(p) for p in real]
    return "matrix-known", _matrix_reports()


@pytest.mark.parametrize("width", WIDTHS)
def test_drift_matrix_in_the_browser(browser, tmp_path, width):
    from selenium.webdriver.common.by import By

    name, reports = _matrix_inputs()
    page = tmp_path / f"{name}.html"
    page.write_text(matrix.render_html(reports), encoding="utf-8")
    _open(browser, page, width, name)
    _shot(browser, name, width)

    # Where implementations disagree, computed here from the JSON without the renderer's help.
    ids = sorted(
        {
            r["id"]
            for rep in reports
            for r in rep["requirements"]
            if rep["run"].get("selected") is None or r["id"] in rep["run"]["selected"]
        }
    )
    verdicts = {
        rid: {
            "pass" if r["outcome"] == "passed" else "fail"
            for rep in reports
            for r in rep["requirements"]
            if r["id"] == rid and r["outcome"] in ("passed", "failed", "not-testable")
        }
        for rid in ids
    }
    drift = sorted(rid for rid, seen in verdicts.items() if len(seen) > 1)
    highlighted = sorted(_shown(browser, "tr.differs"))
    assert highlighted == drift
    assert browser.find_element(By.ID, "drift-count").text == str(len(drift))
    heads = browser.find_element(By.CSS_SELECTOR, "#matrix thead").text
    for rep in reports:
        assert rep["implementation"]["name"] in heads and rep["implementation"]["version"] in heads

    _click_filter(browser, "differs")
    assert sorted(_shown(browser, "tr[data-outcome]")) == drift
    _click_filter(browser, "all")
    assert len(_shown(browser, "tr[data-outcome]")) == len(ids)

    links = browser.find_elements(By.CSS_SELECTOR, "#matrix td a[href^='#d']")
    if links:  # a failing cell leads to its failure text and rerun command
        target = links[0].get_attribute("href").split("#", 1)[1]
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", links[0])
        links[0].click()
        section = browser.find_element(By.ID, target)
        assert section.is_displayed()
        assert section.find_elements(By.CSS_SELECTOR, "pre.rerun-cmd")
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors
