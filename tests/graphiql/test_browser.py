"""GraphiQL in a real browser: headless Chromium against the gateway on the
embedded sandbox, with every host but loopback unresolvable.

Needs Debian's `chromium` and `chromium-driver` (bin/install installs them).
`UPDATE_SCREENSHOTS=1` writes the screenshot to docs/graphiql.png for the README.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import pytest
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.wait import WebDriverWait

from gateway.graphiql import load_manifest
from gateway.sandbox.state import SandboxState
from tests.graphiql.serving import sandbox_settings, serve_gateway

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "graphiql.png"

QUERY_EDITOR = ".graphiql-query-editor"
HEADERS_EDITOR = ".graphiql-editor-tool .graphiql-editor:not(.hidden)"
RESPONSE = ".graphiql-response"

T = TypeVar("T")


@pytest.fixture(scope="module")
def sandbox() -> SandboxState:
    return SandboxState()


@pytest.fixture(scope="module")
def gateway_url(sandbox: SandboxState) -> Iterator[str]:
    with serve_gateway(sandbox_settings(), sandbox=sandbox) as url:
        yield url


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[WebDriver]:
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if missing:
        pytest.fail(
            f"the browser test needs {' and '.join(missing)}: "
            "apt-get install chromium chromium-driver (bin/install does)",
            pytrace=False,
        )
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        # Offline, whatever the machine can reach: only loopback resolves.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--window-size=1440,860",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    try:
        driver.get_log("performance")  # the browser's own start-up page is not under test
        yield driver
    finally:
        driver.quit()


def wait_for(driver: WebDriver, what: str, condition: Callable[[], T], timeout: float = 10) -> T:
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.1).until(lambda _: condition())
    except TimeoutException:
        raise AssertionError(f"timed out waiting for {what}") from None


def shown(driver: WebDriver, by: str, value: str, within: WebElement | None = None) -> WebElement:
    """The first element found, once there is one."""
    scope = within if within is not None else driver
    return wait_for(driver, f"{value} to be shown", lambda: scope.find_elements(by, value))[0]


def editor_text(driver: WebDriver, editor: str) -> str:
    text: str = driver.execute_script(
        "return document.querySelector(arguments[0] + ' .view-lines')?.innerText ?? ''", editor
    )
    return text.replace("\u00a0", " ")


def flowing(text: str) -> str:
    """The text with line breaks and indentation as single spaces: a narrow
    result pane wraps long lines."""
    return " ".join(text.split())


def type_into(driver: WebDriver, editor: str, text: str) -> None:
    """Replace an editor's text by typing, as a person would (Monaco closes
    brackets and quotes as they are opened and types over them when closed)."""
    area = driver.find_element(By.CSS_SELECTOR, f"{editor} textarea")
    area.send_keys(Keys.CONTROL, "a")
    area.send_keys(Keys.DELETE)
    area.send_keys(text)
    wait_for(
        driver, f"{editor} to show what was typed", lambda: editor_text(driver, editor) == text
    )


def stored(driver: WebDriver) -> dict[str, str]:
    """Everything in the page's localStorage and sessionStorage."""
    values: dict[str, str] = driver.execute_script(
        """
        const values = {};
        for (const [name, storage] of [['local', localStorage], ['session', sessionStorage]]) {
          for (let index = 0; index < storage.length; index++) {
            const key = storage.key(index);
            values[`${name}:${key}`] = storage.getItem(key);
          }
        }
        return values;
        """
    )
    return values


def run(driver: WebDriver, operation: str, expected: str) -> None:
    # GraphiQL reads the operation name from the editor a moment after typing stops.
    wait_for(
        driver,
        f"the tab to be named {operation}",
        lambda: driver.find_element(By.CSS_SELECTOR, ".graphiql-tab-active").text == operation,
    )
    driver.find_element(By.CSS_SELECTOR, ".graphiql-execute-button").click()
    try:
        wait_for(driver, "the result", lambda: expected in flowing(editor_text(driver, RESPONSE)))
    except AssertionError:
        raise AssertionError(
            f"the result shows {editor_text(driver, RESPONSE)!r}, not {expected!r}"
        ) from None


def origin_requests(driver: WebDriver, origin: str) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """The requests made by documents from `origin`, the page and its workers (id:
    URL), and the network events of the whole browser. The browser's own
    start-up tab (Chromium's new tab page tries a remote page first) is not
    the page's doing."""
    events = [json.loads(entry["message"])["message"] for entry in driver.get_log("performance")]
    requests = {
        event["params"]["requestId"]: event["params"]["request"]["url"]
        for event in events
        if event["method"] == "Network.requestWillBeSent"
        and event["params"].get("documentURL", "").startswith(f"{origin}/")
    }
    return requests, events


def test_graphiql_works_offline_and_keeps_tokens_out_of_storage(
    browser: WebDriver, gateway_url: str, sandbox: SandboxState, tmp_path: Path
) -> None:
    contact = next(iter(sandbox.moneybird.contacts.values()))
    token = "tok-9f3a1c77e2b84d0c"
    manifest = load_manifest()

    # given GraphiQL opened from the gateway, on the sandbox
    browser.get(f"{gateway_url}/graphql")
    wait_for(
        browser,
        "the example query",
        lambda: "contacts(first: 5)" in editor_text(browser, QUERY_EDITOR),
    )
    assert json.loads(editor_text(browser, HEADERS_EDITOR)) == {
        "X-Moneybird-Token": "demo",
        "X-Monite-Token": "demo",
    }

    # then the schema loads: the documentation lists Query's fields
    browser.find_element(By.CSS_SELECTOR, '[aria-label="Show Documentation Explorer"]').click()
    docs = shown(browser, By.CSS_SELECTOR, '[aria-label="Documentation Explorer"]')
    shown(browser, By.LINK_TEXT, "Query", within=docs).click()
    fields = wait_for(
        browser,
        "Query's fields",
        lambda: [
            e.text for e in docs.find_elements(By.CSS_SELECTOR, ".graphiql-doc-explorer-field-name")
        ],
    )
    assert {"contact", "contacts", "contactsByIds", "counterpart", "counterparts"} <= set(fields)
    assert "Error fetching schema" not in browser.find_element(By.TAG_NAME, "body").text

    # when a query is typed and run
    query = f'query BrowserCheck {{ contact(id: "{contact["id"]}") {{ email city }} }}'
    type_into(browser, QUERY_EDITOR, query)
    browser.find_element(By.CSS_SELECTOR, '[aria-label^="Prettify query"]').click()
    wait_for(
        browser, "the query to be prettified", lambda: "\n" in editor_text(browser, QUERY_EDITOR)
    )
    # Back to the start of the query, scrolled fully left, for the screenshot.
    browser.find_element(By.CSS_SELECTOR, f"{QUERY_EDITOR} textarea").send_keys(
        Keys.CONTROL, Keys.HOME
    )
    run(browser, "BrowserCheck", f'"email": "{contact["email"]}"')
    assert f'"city": "{contact["city"]}"' in flowing(editor_text(browser, RESPONSE))
    screenshot = SCREENSHOT if os.environ.get("UPDATE_SCREENSHOTS") else tmp_path / "graphiql.png"
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(screenshot))

    # and a token is typed into the headers and used
    headers = f'{{"X-Moneybird-Token": "{token}", "X-Monite-Token": "{token}"}}'
    type_into(browser, HEADERS_EDITOR, headers)
    type_into(browser, QUERY_EDITOR, query.replace("BrowserCheck", "TokenCheck"))
    run(browser, "TokenCheck", f'"email": "{contact["email"]}"')

    # then the tabs and the history are stored, without the token
    wait_for(
        browser,
        "the tabs and the history to be stored",
        lambda: all(
            "TokenCheck" in stored(browser).get(f"local:graphiql:{key}", "")
            for key in ("tabState", "queries")
        ),
    )
    assert [key for key, value in stored(browser).items() if token in value] == []

    # when the user turns "Persist headers" on, the token is stored, and read back on reload
    browser.find_element(By.CSS_SELECTOR, '[aria-label="Open settings dialog"]').click()
    shown(browser, By.ID, "enable-persist-headers").click()
    wait_for(
        browser,
        "the headers to be stored",
        lambda: token in stored(browser).get("local:graphiql:headers", ""),
    )
    browser.refresh()
    wait_for(browser, "the stored headers", lambda: token in editor_text(browser, HEADERS_EDITOR))

    # and when it is turned off again, no stored value holds the token any more
    browser.find_element(By.CSS_SELECTOR, '[aria-label="Open settings dialog"]').click()
    shown(browser, By.ID, "disable-persist-headers").click()
    wait_for(
        browser,
        "the headers to be forgotten",
        lambda: not any(token in v for v in stored(browser).values()),
    )

    # and all along, nothing left loopback, nothing failed, nothing was logged as an error
    requests, events = origin_requests(browser, gateway_url)
    elsewhere = [
        url
        for url in requests.values()
        if urlsplit(url).scheme != "data" and urlsplit(url).hostname != "127.0.0.1"
    ]
    assert elsewhere == []
    failed = [
        event["params"]
        for event in events
        if event["method"] == "Network.loadingFailed" and event["params"]["requestId"] in requests
    ]
    assert failed == []
    paths = {urlsplit(url).path for url in requests.values()}
    for worker in manifest.workers.values():
        assert f"/graphiql/{worker}" in paths, f"Monaco did not load {worker} from the gateway"
    problems = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    assert problems == []
