"""The dashboard: its model (a scenario and its baseline at the same seed) and the page in a real browser.

The browser tests start `hemsim-dashboard` on a free port, drive Debian's chromium with Playwright, move
a lever, step the model and check that the charts change; screenshots go to results/test-artifacts/.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT
from sim.dashboard.twin import PolicyTwin

SMALL = {"students": 20_000, "years": 3}
DASHBOARD = str(Path(sys.executable).parent / "hemsim-dashboard")
ARTIFACTS = ROOT / "results" / "test-artifacts" / "dashboard"


def _run(twin: PolicyTwin) -> PolicyTwin:
    while twin.running:
        twin.step()
    return twin


def test_the_twin_is_the_scenario_and_the_baseline_run_on_their_own_at_the_same_seed():
    from sim.model import HemsimModel
    twin = _run(PolicyTwin(scenario_name="open_visas", seed=2, **SMALL))
    alone = {name: HemsimModel(scenario=name, seed=2, years=3, **{"world.students": 20_000}).run()
             for name in ("open_visas", "baseline")}
    for model, name in ((twin.sim, "open_visas"), (twin.base, "baseline")):
        results = model.recorder.results()
        assert results.metrics.equals(alone[name].metrics) and results.flows.equals(alone[name].flows), name
    frame = twin.datacollector.get_model_vars_dataframe()
    assert len(frame) == 3 and np.allclose(frame["papers"], alone["open_visas"].metric("papers"))


def test_dashboard_levers_reach_talent_flows_and_research_output():
    """Opening visas everywhere draws more international students; research cooperation raises the
    internationally co-authored share (same seed as the baseline, from the first year)."""
    visas = _run(PolicyTwin(visa_openness=0.5, lever_start=0, **SMALL))
    frame = visas.datacollector.get_model_vars_dataframe()
    assert (frame["international students"] > frame["international students (baseline)"]).all()
    cooperation = _run(PolicyTwin(research_cooperation=1.0, lever_start=0, **SMALL))
    frame = cooperation.datacollector.get_model_vars_dataframe()
    share = "international co-authorship share"
    assert (frame[share] > frame[f"{share} (baseline)"]).all()
    untouched = _run(PolicyTwin(**SMALL)).datacollector.get_model_vars_dataframe()
    assert untouched["papers"].equals(untouched["papers (baseline)"])      # no lever moved: no difference


@pytest.mark.parametrize("controls, message", [
    ({"seed": "abc"}, "seed='abc': must be a whole number"),
    ({"seed": "-1"}, "seed='-1'"),
    ({"visa_openness": 5.0}, "visa_openness=5.0: must be a number in [-1, 1]"),
    ({"tuition_factor": float("nan")}, "tuition_factor=nan"),
    ({"countries": "XXX"}, "countries=XXX: unknown country or group"),
    ({"scenario_name": "nope"}, "scenario=nope: unknown scenario"),
    ({"students": 10}, "students=10: must be a whole number from 1,000"),
    ({"world": "moon"}, "moon"),
])
def test_bad_controls_are_refused_in_one_line_and_nothing_runs(controls, message):
    twin = PolicyTwin(**({"years": 3, "students": 20_000} | controls))
    assert twin.error is not None and message in twin.error and "\n" not in twin.error
    assert not twin.running and twin.sim is None
    twin.step()                                                   # a refused twin stays still
    assert len(twin.datacollector.get_model_vars_dataframe()) == 0


@pytest.mark.parametrize("args, message", [(["--port", "0"], "--port=0"), (["--port", "x"], "invalid int"),
                                           (["--host", ""], "--host=''"), (["--nope"], "unrecognized")])
def test_the_command_refuses_bad_options_in_one_line(args, message):
    p = subprocess.run([DASHBOARD, *args], capture_output=True, text=True, timeout=120)
    assert p.returncode == 2 and message in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr


# ---- in a real browser ------------------------------------------------------------------------------
def _browser() -> str | None:
    if not shutil.which("chromium") and os.geteuid() == 0:
        subprocess.run(["bash", str(ROOT / "scripts" / "browser-up.sh")], capture_output=True)
    return shutil.which("chromium")


@pytest.fixture(scope="module")
def server():
    browser = _browser()
    if browser is None:
        if os.environ.get("HEMSIM_REQUIRE_BROWSER"):
            pytest.fail("chromium is required (HEMSIM_REQUIRE_BROWSER) but scripts/browser-up.sh could not install it")
        pytest.skip("no chromium here and not root to install it (scripts/browser-up.sh)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = open(ARTIFACTS / "server.log", "w")
    proc = subprocess.Popen([DASHBOARD, "--port", str(port)], stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                assert proc.poll() is None, f"hemsim-dashboard exited {proc.returncode}; log in {log.name}"
                time.sleep(0.5)
        yield url, browser
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()


@pytest.fixture
def page(server):
    from playwright.sync_api import sync_playwright
    url, browser = server
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=browser, args=["--no-sandbox"])
        page = b.new_page(viewport={"width": 1400, "height": 2000})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url, timeout=120_000)
        page.get_by_text("same seed").wait_for(timeout=120_000)
        yield page
        b.close()
        assert not errors, errors


def _charts(page) -> list[str]:
    return [img.get_attribute("src") for img in page.locator("img").all()]


def _step(page, times: int) -> None:
    for k in range(1, times + 1):
        page.get_by_role("button", name="Step").click()
        page.get_by_text(f"Time: {float(k)}").wait_for(timeout=60_000)


@pytest.mark.browser
def test_moving_a_lever_and_stepping_changes_the_charts(page):
    page.screenshot(path=ARTIFACTS / "1-loaded.png", full_page=True)
    body = page.inner_text("body").lower()
    assert "visa openness" in body and "international" in body and "scenario" in body
    thumb = page.locator(".v-input").filter(has_text="visa openness").get_by_role("slider")
    thumb.focus()
    for _ in range(6):
        page.keyboard.press("ArrowRight")
    assert float(thumb.get_attribute("aria-valuenow")) == pytest.approx(0.3)
    page.get_by_role("button", name="Reset").click()
    page.get_by_text("visa openness +0.3").wait_for(timeout=120_000)
    before = _charts(page)
    _step(page, 3)
    page.get_by_text("Effect in 2018").wait_for(timeout=60_000)
    after = _charts(page)
    page.screenshot(path=ARTIFACTS / "2-stepped.png", full_page=True)
    assert len(after) >= 5 and sum(a != b for a, b in zip(before, after)) >= 4      # the charts were redrawn
    table = page.inner_text("body")
    row = next(line for line in table.splitlines() if line.startswith("international students"))
    assert float(row.split()[-1].rstrip("%")) > 1.0, row                 # more visas: more international students


@pytest.mark.browser
def test_a_bad_control_shows_a_message_not_a_traceback(page):
    seed = page.locator(".v-input").filter(has_text="Seed").locator("input")
    seed.fill("abc")
    seed.press("Enter")
    page.get_by_role("button", name="Reset").click()
    page.get_by_text("Not applied: seed='abc'").wait_for(timeout=60_000)
    page.screenshot(path=ARTIFACTS / "3-refused.png", full_page=True)
    assert "Traceback" not in page.inner_text("body")
