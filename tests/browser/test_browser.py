"""The web interface in a real browser: what a person clicks, end to end."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import seed, stored

HOSTILE = '"><img src=x onerror=alert(1)><script>alert(2)<\\script>.txt'


def wait_for(condition: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


def arrived(browser: Any, fragment: str) -> None:
    """Wait until the browser shows a fully loaded page whose URL has ``fragment``."""
    wait_for(
        lambda: (
            fragment in browser.current_url
            and browser.execute_script("return document.readyState") == "complete"
        )
    )


def heading(browser: Any) -> str:
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException

    try:
        return str(by_css(browser, "h1").text)
    except (NoSuchElementException, StaleElementReferenceException):
        return ""  # the next page is on its way


def by_css(browser: Any, selector: str) -> Any:
    from selenium.webdriver.common.by import By

    return browser.find_element(By.CSS_SELECTOR, selector)


def all_css(browser: Any, selector: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return list(browser.find_elements(By.CSS_SELECTOR, selector))


def link(browser: Any, text: str) -> Any:
    from selenium.webdriver.common.by import By

    return browser.find_element(By.LINK_TEXT, text)


def names(browser: Any) -> list[str]:
    from selenium.common.exceptions import StaleElementReferenceException

    try:
        return [cell.text for cell in all_css(browser, "td.name a")]
    except StaleElementReferenceException:
        return ["(the next page is on its way)"]


def crumbs(browser: Any) -> list[str]:
    return [item.text for item in all_css(browser, ".crumbs a")]


def row_menu(browser: Any, name: str) -> Any:
    """Open the actions menu of row ``name`` and return it."""
    from selenium.webdriver.common.by import By

    for row in all_css(browser, "tbody tr"):
        if row.find_element(By.CSS_SELECTOR, "td.name a").text == name:
            menu = row.find_element(By.CSS_SELECTOR, "details.menu")
            menu.find_element(By.TAG_NAME, "summary").click()
            return menu
    raise AssertionError(f"no row {name!r}")


def test_root_lists_shares_and_breadcrumbs_lead_back(browser: Any, store: Any) -> None:
    store.mkdir("/docs")
    store.mkdir("/docs/reports")
    seed(store, "/docs/reports/q1.txt", b"q1")
    browser.get(browser.base + "/")
    assert "WsgiDAV" not in browser.page_source
    assert names(browser) == ["memory/"]
    link(browser, "memory/").click()
    wait_for(lambda: heading(browser) == "memory")
    link(browser, "docs/").click()
    wait_for(lambda: heading(browser) == "docs")
    link(browser, "reports/").click()
    wait_for(lambda: heading(browser) == "reports")
    assert names(browser) == ["q1.txt"]
    assert crumbs(browser) == ["All shares", "memory", "docs", "reports"]
    link(browser, "docs").click()
    wait_for(lambda: heading(browser) == "docs")
    link(browser, "↑ Parent folder").click()
    wait_for(lambda: heading(browser) == "memory")
    link(browser, "All shares").click()
    wait_for(lambda: heading(browser) == "All shares")
    assert names(browser) == ["memory/"]


def test_sizes_dates_and_sorting(browser: Any, store: Any) -> None:
    store.mkdir("/zdir")
    seed(store, "/a.bin", b"x" * 1536)
    seed(store, "/b.bin", b"x" * (3 * 1024 * 1024 + 1))
    seed(store, "/c.bin", b"x" * 10)
    browser.get(browser.base + "/memory/")
    assert names(browser) == ["zdir/", "a.bin", "b.bin", "c.bin"]  # folders first
    sizes = [cell.text for cell in all_css(browser, "td.size")]
    assert sizes == ["", "1.5 KiB", "3.0 MiB", "10 B"]
    assert all_css(browser, "td.date time")[1].get_attribute("datetime").endswith("Z")
    link(browser, "Size").click()
    arrived(browser, "sort=size&order=asc")
    assert names(browser) == ["zdir/", "c.bin", "a.bin", "b.bin"]
    link(browser, "Size").click()  # the active column's link reverses the order
    arrived(browser, "order=desc")
    assert names(browser) == ["zdir/", "b.bin", "a.bin", "c.bin"]


def test_upload_through_the_form(browser: Any, store: Any, tmp_path: Path) -> None:
    store.mkdir("/inbox")
    local = tmp_path / "report 2026.txt"
    local.write_bytes(b"uploaded through a form\n" * 1000)
    browser.get(browser.base + "/memory/inbox/")
    by_css(browser, "input[type=file]").send_keys(str(local))
    by_css(browser, "form[enctype] button").click()
    arrived(browser, "done=upload")
    assert names(browser) == ["report 2026.txt"]
    assert stored(store, "/inbox/report 2026.txt") == local.read_bytes()


def test_new_folder_rename_and_delete(browser: Any, store: Any) -> None:
    browser.get(browser.base + "/memory/")
    by_css(browser, "input[name=name]").send_keys("projects")
    link_free = [b for b in all_css(browser, ".tools button") if b.text == "Create folder"]
    link_free[0].click()
    arrived(browser, "done=mkdir")
    assert names(browser) == ["projects/"]
    assert store.stat("/projects").is_dir
    menu = row_menu(browser, "projects/")
    field = menu.find_element("css selector", "input[name=to]")
    field.clear()
    field.send_keys("archive")
    menu.find_element("css selector", "form:not(.delete) button").click()
    arrived(browser, "done=rename")
    assert names(browser) == ["archive/"]
    row_menu(browser, "archive/").find_element("css selector", "form.delete button").click()
    alert = wait_for(lambda: _alert(browser))
    assert "archive" in alert.text
    alert.accept()
    arrived(browser, "done=delete")
    assert names(browser) == []
    assert store.list("/") == []


def _alert(browser: Any) -> Any:
    from selenium.common.exceptions import NoAlertPresentException

    try:
        return browser.switch_to.alert
    except NoAlertPresentException:
        return None


def test_cancelled_delete_keeps_the_file(browser: Any, store: Any) -> None:
    seed(store, "/keep.txt", b"keep")
    browser.get(browser.base + "/memory/")
    row_menu(browser, "keep.txt").find_element("css selector", "form.delete button").click()
    wait_for(lambda: _alert(browser)).dismiss()
    assert names(browser) == ["keep.txt"]
    assert stored(store, "/keep.txt") == b"keep"


def test_download_a_folder_as_zip(browser: Any, store: Any, downloads: Path) -> None:
    store.mkdir("/photos")
    store.mkdir("/photos/2026")
    seed(store, "/photos/cat.jpg", b"\xff\xd8 cat" * 1000)
    seed(store, "/photos/2026/dog.jpg", b"\xff\xd8 dog")
    browser.get(browser.base + "/memory/photos/")
    link(browser, "Download as zip").click()
    target = downloads / "photos.zip"
    wait_for(lambda: target.exists() and not list(downloads.glob("*.crdownload")))
    archive = zipfile.ZipFile(io.BytesIO(target.read_bytes()))
    assert archive.testzip() is None
    assert sorted(archive.namelist()) == [
        "photos/", "photos/2026/", "photos/2026/dog.jpg", "photos/cat.jpg"
    ]  # fmt: skip
    assert archive.read("photos/cat.jpg") == b"\xff\xd8 cat" * 1000
    assert archive.read("photos/2026/dog.jpg") == b"\xff\xd8 dog"


def test_hostile_file_name_is_shown_as_text(browser: Any, store: Any) -> None:
    seed(store, "/" + HOSTILE, b"harmless")
    browser.get(browser.base + "/memory/")
    assert names(browser) == [HOSTILE]
    assert _alert(browser) is None
    assert all_css(browser, "img") == []
    assert browser.execute_script("return document.scripts.length") == 1  # our own
    link(browser, HOSTILE).click()
    wait_for(lambda: browser.find_element("tag name", "body").text == "harmless")


def test_drop_uploads_with_put_and_progress(browser: Any, store: Any) -> None:
    browser.get(browser.base + "/memory/")
    browser.execute_script(
        """
        const data = new DataTransfer();
        data.items.add(new File(["dropped bytes"], "dropped.txt", {type: "text/plain"}));
        document.dispatchEvent(new DragEvent("drop", {dataTransfer: data, bubbles: true}));
        """
    )
    wait_for(lambda: "dropped.txt" in names(browser))
    assert stored(store, "/dropped.txt") == b"dropped bytes"


def test_cross_site_form_post_is_refused(browser: Any, store: Any, tmp_path: Path) -> None:
    """A page elsewhere (here a file: URL) posting to the share gets 403."""
    page = tmp_path / "evil.html"
    page.write_text(
        f'<form method="post" action="{browser.base}/memory/">'
        '<input name="action" value="mkdir"><input name="name" value="pwned">'
        "<button>go</button></form>"
    )
    browser.get(page.as_uri())
    by_css(browser, "button").click()
    wait_for(lambda: "403" in browser.page_source)
    with pytest.raises(FileNotFoundError):
        store.stat("/pwned")


def test_narrow_screen_has_no_sideways_scrolling(browser: Any, store: Any) -> None:
    seed(store, "/" + "a-rather-long-file-name-" * 4 + ".txt", b"x")
    metrics = {"width": 360, "height": 740, "deviceScaleFactor": 2, "mobile": True}
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    try:
        browser.get(browser.base + "/memory/")
        assert browser.execute_script("return window.innerWidth") == 360
        width = browser.execute_script("return document.documentElement.scrollWidth")
        assert width <= 360
        assert not by_css(browser, "td.date").is_displayed()  # the date column folds away
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_without_javascript_upload_works_and_delete_asks_on_a_page(
    browser: Any, store: Any, tmp_path: Path
) -> None:
    local = tmp_path / "plain.txt"
    local.write_bytes(b"no script needed")
    browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    try:
        browser.get(browser.base + "/memory/")
        assert not all_css(browser, "html.js")
        by_css(browser, "input[type=file]").send_keys(str(local))
        by_css(browser, "form[enctype] button").click()
        arrived(browser, "done=upload")
        assert stored(store, "/plain.txt") == b"no script needed"
        row_menu(browser, "plain.txt").find_element("css selector", "form.delete button").click()
        wait_for(lambda: "Delete the file plain.txt?" in heading(browser))
        assert stored(store, "/plain.txt") == b"no script needed"
        by_css(browser, "button.danger").click()
        arrived(browser, "done=delete")
        assert stored(store, "/plain.txt") is None
    finally:
        browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})
