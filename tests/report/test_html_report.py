"""regime report: one self-contained HTML file, driven in a real browser (headless Chromium
from Debian's `chromium` package through Playwright), and its text escaped."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from rulesengine.cli import cli

HERE = Path(__file__).parent
DEMO = HERE.parent / "analysis" / "data" / "explain_demo.yaml"
DECISIONS = HERE.parent / "analysis" / "data" / "explain_decisions.csv"
CHROMIUM = os.environ.get("REGIME_CHROMIUM") or shutil.which("chromium") or \
    shutil.which("chromium-browser")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def _demo_data(tmp_path: Path) -> Path:
    from rulesengine.data.loaders import write_panel
    from tests.analysis.test_explain import demo_panel

    folder = tmp_path / "demo"
    write_panel(demo_panel(), folder, fmt="csv")
    return folder


def _report(tmp_path: Path, policy: Path, *extra: str) -> Path:
    out = tmp_path / "report.html"
    result = CliRunner().invoke(cli, ["report", "--policy", str(policy), "--data",
                                      str(_demo_data(tmp_path)), "--engine", "reference",
                                      "--decisions", str(DECISIONS), "--out", str(out), *extra])
    assert result.exit_code == 0, result.output
    return out


def test_report_is_self_contained_and_escaped(tmp_path):
    # a policy whose words try to be markup
    text = DEMO.read_text(encoding="utf-8").replace(
        'title: Explain demo framework',
        'title: "Demo <script>alert(1)</script> & co"').replace(
        'reason: "Forecast deficit over the limit"',
        'reason: "Deficit <img src=x onerror=alert(2)> over the limit"')
    policy = tmp_path / "explain_demo.yaml"
    policy.write_text(text, encoding="utf-8")
    page = _report(tmp_path, policy).read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in page and "<img src=x" not in page
    assert "Demo &lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in page
    assert "Deficit &lt;img src=x onerror=alert(2)&gt; over the limit" in page
    # nothing fetched: no URLs to load, a policy that forbids it
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "default-src 'none'" in page
    assert page.count('<tr class="org"') == 6       # the six trusts, not the system


def test_report_needs_an_html_name(tmp_path):
    result = CliRunner().invoke(cli, ["report", "--policy", str(DEMO), "--out",
                                      str(tmp_path / "report.pdf")])
    assert result.exit_code == 1 and "ending in .html" in result.output


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine (Debian: apt-get "
                    "install chromium)")
def test_report_in_a_browser(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    against = tmp_path / "explain_demo_b.yaml"
    against.write_text(DEMO.read_text(encoding="utf-8").replace(
        "policy: explain_demo", "policy: explain_demo_b").replace(
        'deficit_limit: "£2m"', 'deficit_limit: "£300k"'), encoding="utf-8")
    out = _report(tmp_path, DEMO, "--against", str(against))
    shot = os.environ.get("REGIME_REPORT_SCREENSHOT")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            requests: list[str] = []
            page.on("request", lambda r: requests.append(r.url)
                    if not r.url.startswith(("file:", "data:")) else None)
            page.goto(out.as_uri())
            orgs = page.locator("#orgs tr.org")
            assert orgs.count() == 6
            # the summary chart and the comparison are there
            assert page.locator("svg.chart rect").count() == 4
            assert "Organisations per level, explain_demo v1, 2024-Q3" in \
                page.locator("svg.chart title").first.text_content()
            assert page.locator("table.matrix td.moved").count() >= 1
            # expanding a row shows its deciding rule
            t1 = page.locator('#orgs tr.org[data-entity="T1"]')
            detail = t1.locator("xpath=following-sibling::tr[1]")
            assert detail.is_hidden()
            t1.locator("button.expand").click()
            assert detail.is_visible()
            assert "because rule deficit_over_limit fired" in detail.text_content()
            # filtering by text and by level
            page.fill("#filter", "T6")
            assert [r.get_attribute("data-entity") for r in orgs.all() if r.is_visible()] == \
                ["T6"]
            page.fill("#filter", "")
            page.select_option("#level-filter", "red")
            visible = [r.get_attribute("data-entity") for r in orgs.all() if r.is_visible()]
            assert visible and all(page.locator(f'#orgs tr.org[data-entity="{e}"]')
                                   .get_attribute("data-level") == "red" for e in visible)
            assert page.locator("#shown").text_content() == str(len(visible))
            page.select_option("#level-filter", "")
            # sorting by code, both ways
            page.click('#orgs th[data-col="1"]')
            codes = [r.get_attribute("data-entity") for r in orgs.all()]
            assert codes == sorted(codes)
            page.click('#orgs th[data-col="1"]')
            assert [r.get_attribute("data-entity") for r in orgs.all()] == sorted(codes)[::-1]
            if shot:
                page.click('#orgs th[data-col="1"]')
                page.locator('#orgs tr.org[data-entity="T2"] button.expand').click()
                page.screenshot(path=shot, full_page=True)
            assert problems == []
            assert requests == []
        finally:
            browser.close()
