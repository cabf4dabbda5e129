"""The HTML reports as a person sees them: they fit a 1280 px window, stay small, read at a glance.

One ledger of 100 sessions is built once for the module by the commands an operator runs
(`register` on 100 copies of the sample session against the Alyx test server): every sixth
session's subject is unknown to Alyx, so those carry a long error and queued work, and one session
holds a file whose long, unbreakable name Alyx refuses and is handed to the watchdog (a manifest);
the subject is weighed and given water. The pages are written by `status`, `audit` and
`pending --html`, then drawn by headless Chromium at 1280x900 and checked on layout, not pixels:
no horizontal scrolling (folded, and with every fold opened), no eid on two lines, no line break
inside a file, event or manifest name, a time or an eid (a path or key breaks only after a slash,
prose between words), nothing spilling out of its table cell, the columns in their order inside
the window (those alike in every row said above it), a screenshot of the window's size and one of
the table no wider than the window; then as a person uses it: the newest first and the switch to
oldest first, a file's line opening on a click, one click selecting a whole eid, a long error
opening on a click. The page's size is held under a bound.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import re
import shutil
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By

from labledger.projections.reports import AUDIT_COLUMNS, PENDING_COLUMNS, STATUS_COLUMNS
from labledger.scripts.cli import main
from tests.alyx_cli import alyx_env
from tests.alyx_server import AlyxTestServer
from tests.browser import open_report
from tests.cli_helpers import SAMPLE, Result
from tests.watchdog_folders import watched_service

SESSIONS = 100
UNKNOWN = "nobody"
"""A subject Alyx does not know: its sessions stay queued with a long error."""
LONG_NAME = "alf/probe00/spikes.amplitudesMeasuredOnTheBestChannelOfEveryClusterInMicrovolts.npy"
"""A valid file name with no dataset type on Alyx: refused, its name in a long error."""
WIDTH, HEIGHT = 1280, 900
MAX_STATUS_100 = 900_000
"""Bytes of the status page of the 100 sessions (8 files each, one with a manifest; measured:
826 kB, 3.3 MB before the timelines were grouped per file)."""
MAX_STATUS_12 = 115_000
"""Bytes of the status page of 12 of them (measured: 104 kB; 400 kB before)."""


@dataclass(frozen=True)
class Ledger:
    path: Path
    keys: list[str]
    """Session keys in the order they were registered (oldest first)."""


def _run(*argv: str) -> Result:
    """`labledger` in-process, its output captured without capsys (a module fixture has none)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return Result(code, out.getvalue(), err.getvalue())


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledger]:
    """100 sessions registered in one command (queued where Alyx refuses the subject)."""
    tmp = tmp_path_factory.mktemp("layout")
    path = tmp / "ledger.sqlite3"
    folders, keys = [], []
    for number in range(SESSIONS):
        subject = UNKNOWN if number % 6 == 0 else "algernon"
        name = f"{subject}/2026-11-{1 + number // 9:02d}/{number % 9 + 1:03d}"
        folder = tmp / "cortexlab" / "Subjects" / name
        shutil.copytree(SAMPLE, folder)
        folders.append(str(folder))
        keys.append(f"cortexlab/{name}")
    (Path(folders[1]) / LONG_NAME).write_bytes(b"\x93NUMPY")
    with AlyxTestServer() as server, pytest.MonkeyPatch.context() as env:
        for name in [name for name in os.environ if name.startswith("LABLEDGER_")]:
            env.delenv(name)
        env.setenv("HOME", str(tmp / "home"))
        env.setenv("LABLEDGER_CONFIG", str(_watchdog_settings(tmp)))
        for name, value in alyx_env(server, tmp).items():
            env.setenv(name, value)
        result = _run("register", *folders, "--ledger", str(path))
        assert result.code == 1 and f"subject {UNKNOWN} does not exist" in result.err, result.err
        for argv in (
            ("weigh", "algernon", "21.5"),
            ("water", "algernon", "0.8", "--session", folders[1]),
            ("transfer", folders[1], "--acquired", "11:16:17"),
        ):
            result = _run(*argv, "--ledger", str(path))
            assert result.code == 0, result.err
    yield Ledger(path, keys)


def _watchdog_settings(tmp: Path) -> Path:
    """A settings file with the AIND watchdog service's folders, so `transfer` writes a
    manifest (its long name shows in the status and audit pages)."""
    return watched_service(tmp).settings


def _page(ledger: Ledger, folder: Path, *args: str, name: str = "") -> Path:
    """A report written as HTML by the command, as an operator would."""
    page = folder / f"{name or args[0]}.html"
    result = _run(*args, "--html", "-o", str(page), "--ledger", str(ledger.path))
    assert result.code == 0 and result.err == "", result.err
    return page


# -- size ------------------------------------------------------------------------------------


def test_the_status_page_stays_small(ledger: Ledger, tmp_path: Path) -> None:
    """100 sessions of 8 files (3,200 events) fit under MAX_STATUS_100: the style is written once
    and rows carry short class names, never a style of their own."""
    every = _page(ledger, tmp_path / "all", "status")
    twelve = _page(ledger, tmp_path / "twelve", "status", *ledger.keys[:12])
    text = every.read_text(encoding="utf-8")
    assert every.stat().st_size < MAX_STATUS_100, every.stat().st_size
    assert twelve.stat().st_size < MAX_STATUS_12, twelve.stat().st_size
    assert text.count("<style>") == 1
    assert " style=" not in text
    assert text.count('<section class="timeline"') == SESSIONS


@pytest.fixture(scope="module")
def pages(ledger: Ledger, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The pages of the first 12 sessions (two with the long error, one with the long file name
    and a manifest): status, pending work, and the audit of three of them; the audit of one
    session (its session and subject the same in every row), and the latest events of all
    (weighing and water: no session, no file). (Twelve: the layout is the same for more, and
    Chromium takes a second per hundred sessions opened.)"""
    folder = tmp_path_factory.mktemp("pages")
    twelve = ledger.keys[:12]
    audit = ("audit", "--session", twelve[0], "--session", twelve[1], "--session", twelve[2])
    return {
        "status": _page(ledger, folder, "status", *twelve),
        "pending": _page(ledger, folder, "pending", *twelve),
        "audit": _page(ledger, folder, *audit),
        "one": _page(ledger, folder, "audit", "--session", twelve[1], name="one"),
        "latest": _page(ledger, folder, "audit", "--limit", "40", name="latest"),
    }


# -- layout in Chromium ------------------------------------------------------------------------

LAYOUT = """
const view = document.documentElement.clientWidth;
const lineHeight = e => {
  const style = getComputedStyle(e);
  const line = parseFloat(style.lineHeight);
  return Number.isNaN(line) ? 1.2 * parseFloat(style.fontSize) : line;
};
const shown = e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
const spills = [];
for (const cell of document.querySelectorAll("th, td")) {
  if (!shown(cell)) continue;
  const box = cell.getBoundingClientRect();
  if (cell.scrollWidth > cell.clientWidth + 1) spills.push(cell.innerText.slice(0, 80));
  for (const inner of cell.querySelectorAll("*")) {
    const r = inner.getBoundingClientRect();
    if (shown(inner) && (r.left < box.left - 1 || r.right > box.right + 1))
      spills.push(inner.outerHTML.slice(0, 80));
  }
}
const ids = Array.from(document.querySelectorAll(".id")).filter(shown);
const head = Array.from(document.querySelectorAll("#rows th"), th => {
  const r = th.getBoundingClientRect();
  const style = getComputedStyle(th);
  const inside = r.height - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
  return {label: th.innerText, left: r.left, right: r.right, lines: inside / lineHeight(th)};
});
const table = document.getElementById("rows").getBoundingClientRect();
return {
  view: view,
  inner: [window.innerWidth, window.innerHeight],
  scrollWidth: document.documentElement.scrollWidth,
  spills: spills,
  ids: ids.length,
  wrappedIds: ids.filter(e => e.getBoundingClientRect().height >= 1.5 * lineHeight(e))
    .map(e => e.textContent),
  head: head,
  table: [table.left, table.right],
  alike: (document.querySelector(".alike") || {textContent: ""}).textContent,
};
"""
"""Layout facts in one round trip (a call per element would take seconds)."""

OPEN_ALL = "document.querySelectorAll('details').forEach(d => { d.open = true; });"
"""What a person does clicking every fold open (the page itself runs no script)."""

COLUMNS = {
    "status": STATUS_COLUMNS,
    "pending": PENDING_COLUMNS,
    "audit": AUDIT_COLUMNS,
    "one": AUDIT_COLUMNS,
    "latest": AUDIT_COLUMNS,
}
PAGES = list(COLUMNS)


def _png_size(png: bytes) -> tuple[int, int]:
    """Width and height from a PNG's header chunk."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def _window(driver: WebDriver, page: Path) -> list[dict[str, Any]]:
    """Opens a page in a window whose inside (the page's viewport) is WIDTH x HEIGHT; returns
    the console messages."""
    driver.set_window_size(WIDTH, HEIGHT)
    frame: list[int] = driver.execute_script(
        "return [window.outerWidth - window.innerWidth, window.outerHeight - window.innerHeight]"
    )
    if frame != [0, 0]:
        driver.set_window_size(WIDTH + frame[0], HEIGHT + frame[1])
    return open_report(driver, page)


def _said_above(line: str) -> set[str]:
    """The columns the line above the table names: 'Every row: who: x · host: y. Empty in every
    row: file, waits for.'"""
    same, _, empty = line.partition("Empty in every row: ")
    said = re.findall(r"(?:Every row: | · )([a-z ]+): ", same)
    return {*said, *(name for name in empty.rstrip(".").split(", ") if name)}


def _check_layout(facts: dict[str, Any], page: str) -> None:
    assert facts["inner"] == [WIDTH, HEIGHT]
    assert facts["scrollWidth"] <= facts["view"] <= WIDTH, "the page scrolls sideways"
    assert facts["spills"] == [], "content spills out of its table cell"
    assert facts["wrappedIds"] == [], "an eid breaks across lines"
    head = facts["head"]
    labels = [column["label"] for column in head]
    every = [c.replace("_", " ") for c in COLUMNS[page]]
    assert labels == [label for label in every if label in labels], "columns out of order"
    left_out = {label for label in every if label not in labels}
    assert left_out == _said_above(facts["alike"]), "a column left out is not said above"
    lefts = [column["left"] for column in head]
    assert lefts == sorted(lefts) and len(set(lefts)) == len(lefts)
    assert all(column["lines"] < 1.5 for column in head), "a column header wraps"
    left, right = facts["table"]
    assert left >= 0 and right <= facts["view"], "the table runs past the window"


@pytest.mark.parametrize("page", PAGES)
def test_the_page_fits_1280_pixels(
    chromium: WebDriver, pages: dict[str, Path], page: str, tmp_path: Path
) -> None:
    """Folded (as it opens) and with every fold open, the page fits the window, and a screenshot
    is the window's size while the table's own picture is no wider than the window."""
    log = _window(chromium, pages[page])
    assert [entry for entry in log if entry["level"] == "SEVERE"] == []
    folded = chromium.execute_script(LAYOUT)
    _check_layout(folded, page)
    shot = tmp_path / f"{page}.png"
    assert chromium.save_screenshot(str(shot))
    assert _png_size(shot.read_bytes()) == (WIDTH, HEIGHT)
    head = chromium.find_element(By.CSS_SELECTOR, "#rows thead")
    table_width, _ = _png_size(head.screenshot_as_png)
    left, right = folded["table"]
    assert abs(table_width - (right - left)) <= 1 and table_width <= folded["view"]

    chromium.execute_script(OPEN_ALL)
    opened = chromium.execute_script(LAYOUT)
    _check_layout(opened, page)
    assert opened["ids"] >= folded["ids"]
    if page != "pending":  # pending shows only sessions not on Alyx: no eid
        assert folded["ids"] > 0


BREAKS = r"""
const kinds = arguments[0];
const top = node => {
  const range = document.createRange();
  const found = [];
  for (let i = 0; i < node.data.length; i++) {
    range.setStart(node, i);
    range.setEnd(node, i + 1);
    const rects = range.getClientRects();
    found.push(rects.length ? rects[0].top : null);
  }
  return found;
};
const wrong = [];
for (const table of document.querySelectorAll("#rows, table.events")) {
  const labels = Array.from(table.querySelectorAll("th"), th => th.textContent);
  for (const row of table.querySelectorAll("tbody tr")) {
    Array.from(row.cells).forEach((cell, index) => {
      const kind = kinds[labels[index]] || "prose";
      let previous = null, last = "", gap = false;
      const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const open = node.parentElement.closest(".clip[open] .long");
        top(node).forEach((y, i) => {
          const char = node.data[i];
          if (/\s/.test(char)) { gap = true; return; }
          if (y === null) return;
          if (previous !== null && y > previous + 2 && !open) {
            const allowed = kind === "whole" ? false
              : kind === "path" ? last === "/" : last === "/" || gap;
            if (!allowed) wrong.push([labels[index] || "event row", kind, cell.textContent]);
          }
          previous = y; last = char; gap = false;
        });
      }
    });
  }
}
for (const token of document.querySelectorAll(".w, .id, .long")) {
  if (token.getClientRects().length > 1 && !token.closest(".clip[open]"))
    wrong.push(["token", "whole", token.textContent]);
}
return wrong;
"""
"""Every line break inside a table cell, found by the height of each character's box: where it
falls (after a slash, between words) must suit the column's kind; and every token kept whole
(`.w`, `.id`, `.long`) draws as one box. Fast: one call, a Range per character."""

KINDS = {
    "file": "path",
    "target": "path",
    "session": "path",
    "event": "whole",
    "manifest": "whole",
    "when": "whole",
    "since": "whole",
    "alyx eid": "whole",
}
"""How a column may break: `whole` never (a name, a time, an eid), `path` only after a slash;
any other column is prose (between words, or after a slash of a path in it)."""


@pytest.mark.parametrize("page", PAGES)
def test_names_times_and_eids_never_break_inside(
    chromium: WebDriver, pages: dict[str, Path], page: str
) -> None:
    """File, event and manifest names, times and eids are on one line; paths and session keys
    break only after a slash; prose only between words (or after a slash of a path in it), its
    times, names and eids whole: folded, and with every fold open."""
    _window(chromium, pages[page])
    assert chromium.execute_script(BREAKS, KINDS) == []
    chromium.execute_script(OPEN_ALL)
    assert chromium.execute_script(BREAKS, KINDS) == []


def _boxes(driver: WebDriver, css: str) -> list[tuple[float, float]]:
    """(top, bottom) of each element matching css, in document order."""
    boxes: list[list[float]] = driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0]),"
        " e => { const r = e.getBoundingClientRect(); return [r.top, r.bottom]; })",
        css,
    )
    return [(top, bottom) for top, bottom in boxes]


def _tiled(boxes: list[tuple[float, float]]) -> bool:
    """True when the boxes, top to bottom, follow each other without overlapping."""
    ordered = sorted(boxes)
    return all(upper[1] <= lower[0] + 1 for upper, lower in itertools.pairwise(ordered))


def test_newest_first_with_a_switch(
    chromium: WebDriver, pages: dict[str, Path], ledger: Ledger
) -> None:
    """The status rows and a session's files show newest first; the 'oldest first' box (a
    label and a checkbox: no script) turns both around, and the table keeps its columns."""
    _window(chromium, pages["status"])
    rows = "#rows tbody tr"
    keys = [cell.text for cell in chromium.find_elements(By.CSS_SELECTOR, f"{rows} td.key")]
    assert keys == ledger.keys[11::-1]
    before = _boxes(chromium, rows)
    assert before == sorted(before) and _tiled(before)
    files = "section.timeline:first-of-type ol.files > li"
    files_before = _boxes(chromium, files)
    assert files_before == sorted(files_before) and _tiled(files_before)
    widths = chromium.execute_script(LAYOUT)["head"]

    chromium.find_element(By.CSS_SELECTOR, "label[for=oldest]").click()
    after = _boxes(chromium, rows)
    assert after == sorted(after, reverse=True), "the oldest session is now on top"
    assert _tiled(after)
    assert (after[-1][0], after[0][1]) == pytest.approx((before[0][0], before[-1][1]), abs=1)
    files_after = _boxes(chromium, files)
    assert files_after == sorted(files_after, reverse=True) and _tiled(files_after)
    assert chromium.execute_script(LAYOUT)["head"] == widths


def test_a_file_is_one_line_its_events_open_without_script(
    chromium: WebDriver, pages: dict[str, Path], ledger: Ledger
) -> None:
    """A session's timeline: a line per file (the session's own events on one line too), each
    showing its latest event; a click opens its events, newest first."""
    _window(chromium, pages["status"])
    assert chromium.execute_script("return document.scripts.length") == 0
    section = chromium.find_elements(By.CSS_SELECTOR, "section.timeline")[-2]  # keys[1]
    assert section.find_element(By.TAG_NAME, "h2").text == ledger.keys[1]
    lines = section.find_elements(By.CSS_SELECTOR, "details > summary")
    assert len(lines) == 1 + 8 + 1  # the session, the sample's 8 files, the long name
    one_line = chromium.execute_script(
        "return arguments[0].map(s => s.getBoundingClientRect().height"
        " < 1.5 * parseFloat(getComputedStyle(s).lineHeight))",
        lines,
    )
    assert all(one_line)
    texts = [line.text for line in lines]
    assert texts[0].startswith("session ManifestEmitted ")  # its latest event: the transfer
    long_line = next(text for text in texts if text.startswith(LONG_NAME))
    assert " Rejected " in long_line

    group = lines[1].find_element(By.XPATH, "..")
    events = group.find_elements(By.CSS_SELECTOR, "table.events tr")
    assert not events[0].is_displayed()
    lines[1].click()
    assert all(event.is_displayed() for event in events)
    names = [event.find_elements(By.TAG_NAME, "td")[1].text for event in events]
    assert names[0] == re.split(r"\s+", lines[1].text)[1]  # the line shows the latest event
    assert names[-1] == "Created"


def test_one_click_selects_a_whole_eid(chromium: WebDriver, pages: dict[str, Path]) -> None:
    """The table shows an eid's first characters on one line; a click selects all 36 (what a
    copy then takes), and the tooltip shows them too."""
    _window(chromium, pages["status"])
    cell = chromium.find_element(By.CSS_SELECTOR, "#rows td.uid .id")
    eid = str(cell.get_attribute("title"))
    assert re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", eid)
    clipped = chromium.execute_script(
        "return arguments[0].scrollWidth > arguments[0].clientWidth", cell
    )
    assert clipped and cell.get_attribute("textContent") == eid  # the ellipsis is only drawn
    cell.click()
    assert chromium.execute_script("return window.getSelection().toString()") == eid


def test_a_long_error_opens_on_a_click(chromium: WebDriver, pages: dict[str, Path]) -> None:
    """A long error shows three lines in the table; a click shows all of it (no script)."""
    _window(chromium, pages["audit"])
    folded = next(
        summary
        for summary in chromium.find_elements(By.CSS_SELECTOR, "#rows .clip > summary")
        if LONG_NAME in str(summary.get_attribute("textContent"))
    )
    height = "return arguments[0].getBoundingClientRect().height"
    overflow = "return arguments[0].scrollHeight > arguments[0].clientHeight"
    closed = chromium.execute_script(height, folded)
    line = chromium.execute_script(
        "return parseFloat(getComputedStyle(arguments[0]).lineHeight)", folded
    )
    assert closed == pytest.approx(3 * line, abs=1) and chromium.execute_script(overflow, folded)
    folded.click()
    assert chromium.execute_script(height, folded) > closed
    assert not chromium.execute_script(overflow, folded)
    assert chromium.execute_script(LAYOUT)["scrollWidth"] <= WIDTH
