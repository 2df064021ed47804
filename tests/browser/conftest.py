"""Headless Debian chromium driven by selenium through the system chromedriver.

No browser or driver is downloaded: both paths are given to selenium, and Selenium
Manager is told to stay offline. Without chromium the tests skip, except under
``CI=true`` where they fail (``require_tool``). One browser serves the whole module;
the gateway (memory backend, 127.0.0.1, free port) is emptied before each test. Basic
credentials go with every request as a header set through the DevTools protocol (a
headless browser has no login prompt).
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from davprovider.dav.cache import CACHE
from davprovider.memory import MemoryBackend, MemoryFactory
from davprovider.memory.tree import Tree
from tests.helpers.external_tools import require_tool
from tests.helpers.gateway import USERS, Gateway, memory_config, running_gateway


@pytest.fixture(scope="module")
def browser_gateway() -> Iterator[Gateway]:
    with running_gateway(memory_config()) as gw:
        yield gw


@pytest.fixture
def gateway(browser_gateway: Gateway) -> Gateway:
    """The gateway with an empty /memory share."""
    factory = browser_gateway.factories["/memory"]
    assert isinstance(factory, MemoryFactory)
    factory.tree = Tree()
    browser_gateway.app.dav.lock_manager.storage.clear()
    CACHE.forget()
    return browser_gateway


@pytest.fixture
def store(gateway: Gateway) -> MemoryBackend:
    """The share's storage, seen directly (seed and check without the gateway)."""
    factory = gateway.factories["/memory"]
    assert isinstance(factory, MemoryFactory)
    return MemoryBackend(factory.tree)


def seed(store: MemoryBackend, path: str, data: bytes = b"") -> None:
    upload = store.open_write(path, size=len(data))
    upload.write(data)
    upload.commit()
    CACHE.forget()


def stored(store: MemoryBackend, path: str) -> bytes | None:
    try:
        stream = store.open_read(path)
    except FileNotFoundError:
        return None
    try:
        return bytes(stream.read())
    finally:
        stream.close()


@pytest.fixture(scope="module")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def chrome(downloads: Path) -> Iterator[Any]:
    """A headless chromium, sending alice's Basic credentials with every request."""
    chromium = require_tool("chromium")
    chromedriver = require_tool("chromedriver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must not go online
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1100,800",
                     "--no-first-run", "--disable-extensions"):  # fmt: skip
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads)})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))
    try:
        driver.set_page_load_timeout(20)
        token = base64.b64encode(f"alice:{USERS['alice']}".encode()).decode()
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd(
            "Network.setExtraHTTPHeaders", {"headers": {"Authorization": f"Basic {token}"}}
        )
        driver.execute_cdp_cmd(
            "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
        )
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def browser(chrome: Any, gateway: Gateway) -> Any:
    """The browser, on a blank page, with ``browser.base`` the gateway's URL."""
    chrome.get("about:blank")
    chrome.base = f"http://{gateway.host}:{gateway.port}"
    return chrome
