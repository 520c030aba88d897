"""The web UI in a real headless Chromium (Debian's `chromium` + `chromium-driver`, driven by
selenium), against a real `lunaroute serve` whose UI listens on 0.0.0.0 (beyond loopback:
the admin login guards it) and is reached through 127.0.0.1.

A Claude-Code-style conversation is recorded for real: the Anthropic SDK streams two turns
through the gateway to the strict mock (a scripted Write tool call, then the answer to its
result). Every page must load with no console error (a CSP violation is one); screenshots of
each page land in the test's tmp directory, and with UPDATE_DOCS_SCREENSHOTS=1 two of them
are copied to docs/img/ for the README.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import anthropic
import pytest

from tests.mock_upstream.fixture import session_mock_upstream
from tests.ui.seed import seed_sessions
from tests.ui.ui_kit import ADMIN_KEY, CLIENT_KEY, admin_keys, data_dir, get, ui_gateway, wait_for_port

CHROMIUM = shutil.which("chromium")
DRIVER = shutil.which("chromedriver")
selenium = pytest.importorskip("selenium")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or DRIVER is None,
    reason="needs Debian's chromium and chromium-driver (scripts/test installs them)",
)

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
CONVERSATION = str(uuid.uuid4())
WRITE_SCHEMA = {
    "type": "object",
    "properties": {"file_path": {"type": "string"}, "content": {"type": "string"}},
    "required": ["file_path", "content"],
}
WRITE_INPUT = {"file_path": "hello.py", "content": "print('hello')\n"}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    mock = session_mock_upstream()
    mock.reset()
    gw, port = ui_gateway(tmp_path_factory.mktemp("ui-browser"), mock.url, ui_host="0.0.0.0", keys=admin_keys())
    # A week of traffic behind the recorded conversation, so the charts have something to draw.
    seed_sessions(data_dir(gw), 2500, span_s=7 * 86400.0)
    gw.start()
    wait_for_port(port)
    _record_conversation(gw, mock)
    yield gw, port
    assert gw.stop() == 0, gw.logs()


def _record_conversation(gw, mock) -> None:
    client = anthropic.Anthropic(base_url=gw.anthropic_url, api_key=CLIENT_KEY, max_retries=0)
    common = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 1024,
        "system": "You are Claude Code, Anthropic's official CLI for Claude.",
        "tools": [{"name": "Write", "description": "Write a file", "input_schema": WRITE_SCHEMA}],
        "metadata": {"user_id": f"user_0a1b_account_2c3d_session_{CONVERSATION}"},
    }
    history = [{"role": "user", "content": "Create hello.py that prints hello"}]
    mock.script([{"tool_calls": [{"name": "Write", "input": WRITE_INPUT, "id": "toolu_01HelloWrite"}]}])
    with client.messages.stream(messages=history, **common) as stream:
        first = stream.get_final_message()
    assert first.stop_reason == "tool_use"
    history += [
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_01HelloWrite", "content": "File created successfully"}
            ],
        },
    ]
    mock.script([{"text": "Created hello.py; run it with python hello.py."}])
    with client.messages.stream(messages=history, **common) as stream:
        second = stream.get_final_message()
    assert second.content[0].text.startswith("Created hello.py")


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(20)
    yield driver
    driver.quit()


def _console_errors(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]


def _shot(driver, out: Path, name: str) -> Path:
    path = out / f"ui-{name}.png"
    driver.save_screenshot(str(path))
    assert path.stat().st_size > 10_000
    return path


def _wait_for_conversation(port: int, cookie: str) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        page = get(port, f"/sessions?conversation={CONVERSATION}", cookie=cookie).text
        if "2 matching sessions" in page:
            return
        time.sleep(0.1)
    raise AssertionError("the recorded conversation never reached the index")


def test_the_ui_in_chromium(served, browser, tmp_path) -> None:
    gw, port = served
    base = f"http://127.0.0.1:{port}"
    wait = WebDriverWait(browser, 10)
    shots: dict[str, Path] = {}

    # Bound to 0.0.0.0: every page sends the browser to the login form first.
    browser.get(base + "/sessions")
    assert urlsplit(browser.current_url).path == "/login"
    assert parse_qs(urlsplit(browser.current_url).query)["next"] == ["/sessions"]
    shots["login"] = _shot(browser, tmp_path, "login")
    browser.find_element(By.ID, "key").send_keys(CLIENT_KEY)  # a real key, without the admin scope
    browser.find_element(By.CSS_SELECTOR, "form[action='/login'] button").click()
    assert "admin scope" in wait.until(ec.presence_of_element_located((By.ID, "login-error"))).text
    browser.find_element(By.ID, "key").send_keys(ADMIN_KEY)
    browser.find_element(By.CSS_SELECTOR, "form[action='/login'] button").click()
    wait.until(ec.url_to_be(base + "/sessions"))
    cookie = browser.get_cookie("lunaroute_ui")
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict" and ADMIN_KEY not in cookie["value"]
    assert browser.execute_script("return document.cookie") == ""  # HttpOnly: no script can read it
    assert _console_errors(browser) == []
    _wait_for_conversation(port, f"lunaroute_ui={cookie['value']}")

    # Every page loads without a console error (a blocked inline script or style would be one).
    for name, path, heading in (
        ("overview", "/?period=7d", "Overview"),
        ("sessions", "/sessions", "Sessions"),
        ("providers", "/providers", "Providers"),
        ("budgets", "/budgets", "Budgets"),
        ("config", "/config", "Config"),
    ):
        browser.get(base + path)
        assert browser.find_element(By.TAG_NAME, "h1").text.startswith(heading), name
        assert _console_errors(browser) == [], name
        shots[name] = _shot(browser, tmp_path, name)
    browser.get(base + "/?period=7d")
    assert len(browser.find_elements(By.CSS_SELECTOR, "svg.chart rect")) > 50
    browser.get(base + "/providers")
    served = browser.find_element(By.ID, "provider-up-anthropic").text
    assert "closed" in served and "answering" in served  # the two recorded turns went through it

    # Search: the form's filters narrow the list; ui.js leaves empty fields out of the URL.
    browser.get(base + "/sessions")
    browser.find_element(By.NAME, "provider").send_keys("up-anthropic")
    Select(browser.find_element(By.NAME, "status")).select_by_value("5xx")
    browser.find_element(By.CSS_SELECTOR, "#filters button[type=submit]").click()
    wait.until(lambda d: "provider=" in d.current_url)
    assert parse_qs(urlsplit(browser.current_url).query) == {"provider": ["up-anthropic"], "status": ["5xx"]}
    rows = browser.find_elements(By.CSS_SELECTOR, "table.sessions tbody tr")
    statuses = [r.find_element(By.CSS_SELECTOR, ".status").text for r in rows]
    assert rows and all("up-anthropic" in r.text for r in rows) and all(s.startswith("5") for s in statuses)
    assert _console_errors(browser) == []

    # The recorded conversation's timeline: the tool call, its result, the answer.
    browser.get(base + f"/sessions?conversation={CONVERSATION}")
    assert "2 matching sessions" in browser.find_element(By.ID, "match-count").text
    browser.find_element(By.LINK_TEXT, CONVERSATION[:17] + "…").click()
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "ol.timeline")))
    steps = browser.find_elements(By.CSS_SELECTOR, "li.step")
    assert len(steps) == 2
    assert "tool call Write" in steps[0].text and "hello.py" in steps[0].text and "stop: tool_use" in steps[0].text
    assert "tool result" in steps[1].text and "File created successfully" in steps[1].text
    assert "Created hello.py; run it with python hello.py." in steps[1].text
    assert "events" in steps[0].find_element(By.CLASS_NAME, "step-head").text
    assert _console_errors(browser) == []
    shots["conversation"] = _shot(browser, tmp_path, "conversation")

    # One click to a turn, its stream events with timing, one more to its raw JSON.
    steps[0].find_element(By.CSS_SELECTOR, ".step-head a").click()
    wait.until(ec.presence_of_element_located((By.ID, "events")))
    events = browser.find_elements(By.CSS_SELECTOR, "table.events tbody tr")
    assert "message_start" in events[0].text
    assert any("input_json_delta" in e.text or "partial_json" in e.text for e in events)
    shots["session"] = _shot(browser, tmp_path, "session")
    browser.find_element(By.ID, "raw-link").click()
    raw = browser.find_element(By.TAG_NAME, "body").text
    assert f'"conversation_id": "{CONVERSATION}"' in raw and '"name": "Write"' in raw
    assert _console_errors(browser) == []

    # Logging out ends the session: the next page is the login form again.
    browser.get(base + "/providers")
    browser.find_element(By.CSS_SELECTOR, "form[action='/logout'] button").click()
    wait.until(lambda d: urlsplit(d.current_url).path == "/login")
    browser.get(base + "/providers")
    assert urlsplit(browser.current_url).path == "/login"

    assert set(shots) == {"login", "overview", "sessions", "providers", "budgets", "config", "conversation", "session"}
    if os.environ.get("UPDATE_DOCS_SCREENSHOTS") == "1":
        DOCS_IMG.mkdir(exist_ok=True)
        shutil.copyfile(shots["overview"], DOCS_IMG / "ui-overview.png")
        shutil.copyfile(shots["conversation"], DOCS_IMG / "ui-conversation.png")
