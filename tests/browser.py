"""Headless Debian Chromium for tests that look at a rendered report as a person would.

The browser comes from Debian's packages `chromium` and `chromium-driver`, never from a download
by Selenium Manager: the machines reach only the package registries. A fresh CI machine does not
have the packages, so the `chromium` fixture installs them (we run as root there), and fails
loudly, never skips, when it cannot: a report nobody opened in a browser is not tested.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.remote.command import Command
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
PACKAGES = ("chromium", "chromium-driver")
APT_TIMEOUT = 1200
"""Seconds for one apt-get run: installing Chromium on a fresh machine takes a minute or two."""

FLAGS = (
    "--headless=new",
    "--no-sandbox",  # we run as root in a container; the sandbox needs user namespaces
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # no network but the registries: nothing may phone home
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",  # a container's /dev/shm is small
    "--window-size=1280,1000",
)


def _installed() -> bool:
    return all(os.access(path, os.X_OK) for path in (CHROMIUM, CHROMEDRIVER))


def _apt_get(*args: str) -> subprocess.CompletedProcess[str]:
    """One apt-get run, never through a shell, never asking a question."""
    apt_get = shutil.which("apt-get") or "apt-get"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        return subprocess.run(
            [apt_get, *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=APT_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return subprocess.CompletedProcess([apt_get, *args], 1, "", str(error))


def _install() -> str:
    """Installs the packages; '' when done, else the last line apt-get wrote about why not."""
    install = ("install", "-y", "-q", "--no-install-recommends", *PACKAGES)
    result = _apt_get(*install)
    if result.returncode != 0 or not _installed():
        _apt_get("update", "-q")  # an old or missing package list is the usual cause
        result = _apt_get(*install)
    if result.returncode == 0 and _installed():
        return ""
    lines = (result.stderr or result.stdout).strip().splitlines()
    return lines[-1] if lines else f"exit status {result.returncode}"


def ensure_chromium() -> None:
    """Makes sure Chromium and its driver are installed, or fails the test run saying how to fix it.

    A file lock keeps two test processes from running apt-get at once.
    """
    if _installed():
        return
    lock_path = Path(tempfile.gettempdir()) / "labledger-chromium-install.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        why = "" if _installed() else _install()
    if why:
        pytest.fail(
            f"the browser tests need Debian's {' and '.join(PACKAGES)} and installing them failed "
            f"({why}); run as root: apt-get update && apt-get install -y {' '.join(PACKAGES)}",
            pytrace=False,
        )


def chromium_options(profile: Path) -> Options:
    """Headless Debian Chromium with a fresh profile, keeping every console message."""
    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return options


@pytest.fixture(scope="session")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    """One headless Chromium for the whole run (starting one takes about a second)."""
    ensure_chromium()
    profile = tmp_path_factory.mktemp("chromium-profile")
    # The driver path given here means Selenium Manager is never asked to download anything.
    service = Service(executable_path=str(CHROMEDRIVER))
    driver = webdriver.Chrome(options=chromium_options(profile), service=service)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def browser_log(driver: WebDriver) -> list[dict[str, Any]]:
    """The console messages since the last call (reading the log empties it)."""
    response = driver.execute(Command.GET_LOG, {"type": "browser"})
    return cast("list[dict[str, Any]]", response["value"])


def open_report(driver: WebDriver, path: Path) -> list[dict[str, Any]]:
    """Opens a local HTML file, waits until it has loaded, and returns its console messages.

    Each message is a dict with `level` ('SEVERE', 'WARNING', 'INFO', …), `message`, `source`
    and `timestamp`; what an earlier page logged is dropped first.
    """
    browser_log(driver)
    driver.get(path.resolve().as_uri())
    WebDriverWait(driver, 10).until(
        lambda current: current.execute_script("return document.readyState") == "complete"
    )
    return browser_log(driver)
