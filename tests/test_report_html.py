"""The HTML and CSV reports: escaped, self-contained, deterministic, and readable in a browser.

The HTML is checked twice: as text (escaping, no URL, the structure tests and people rely on) and
as Chromium draws it (headings shown, entries counted, a failure in red, a silent console).
"""

from __future__ import annotations

import csv
import io
import re
from html import escape as esc
from pathlib import Path
from typing import Any

from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By

from labledger.projections.html import CSP, render_html
from labledger.projections.render import to_csv
from labledger.projections.report_model import Report, Timeline
from labledger.projections.rows import AuditEntry
from tests.browser import open_report

PLAIN = "cortexlab/algernon/2026-11-21/001"
NASTY = "lab<script>alert(1)</script>/tom&jerry/2026-11-22/002"
"""A session key that breaks the page if it is not escaped."""
ERROR = "Alyx said <script>alert('x')</script> & \"quit\""
VIDEO = "raw_video_data/_iblrig_leftCamera.mp4"
QUIET = "cortexlab/algernon/2026-11-23/001"
"""A session with a timeline but no events."""


def _event(
    position: int,
    kind: str,
    event: str,
    session: str,
    *,
    file: str = "",
    alyx_user: str = "test_user",
    summary: str = "",
) -> AuditEntry:
    """An audit entry at minute `position`, its operation id starting with the position."""
    return AuditEntry(
        position=position,
        recorded_at=f"2026-11-21T10:{position:02d}:05.123456+00:00",
        kind=kind,
        event=event,
        aggregate_id="a",
        session_id=None,
        session=session,
        subject="algernon",
        file=file,
        alyx_user=alyx_user,
        os_user="operator",
        host="rig-01",
        tool_version="labledger test",
        operation_id=f"{position:08d}-0000-4000-8000-000000000001",
        summary=summary or f"{event} happened",
        details={"attempt": position},
    )


def _report() -> Report:
    """Two sessions with an intent, an outcome and a fact each; the nasty one failed."""
    plain = [
        _event(1, "intent", "Session.RegistrationRequested", PLAIN),
        _event(2, "outcome", "Session.Registered", PLAIN, alyx_user=""),
        _event(
            3, "fact", "Dataset.Discovered", PLAIN, file="raw_video_data/_iblrig_leftCamera.mp4"
        ),
    ]
    nasty = [
        _event(4, "fact", "Session.Created", NASTY),
        _event(5, "intent", "Session.RegistrationRequested", NASTY),
        _event(6, "outcome", "Session.RegistrationFailed", NASTY, summary=ERROR),
    ]
    rows: list[dict[str, Any]] = [
        {"session": PLAIN, "files": 3, "eid": "e1", "transfer": "confirmed", "last_error": None},
        {"session": NASTY, "files": None, "eid": None, "transfer": "stalled", "last_error": ERROR},
        {"session": QUIET, "files": 0, "eid": None, "transfer": "none", "last_error": ""},
    ]
    return Report(
        title="labledger status",
        generated_at="2026-11-21T11:00:00+00:00",
        source="sqlite ledger.sqlite3",
        columns=["session", "files", "eid", "transfer", "last_error"],
        rows=rows,
        timelines=[
            Timeline(PLAIN, rows[0], plain),
            Timeline(NASTY, rows[1], nasty),
            Timeline(QUIET, rows[2], []),
        ],
        filters={"subject": "algernon & co"},
    )


def _sections(page: str) -> dict[str, tuple[str, str]]:
    """Timeline sections by their <h2> text (still escaped): (element id, inner HTML)."""
    found = re.findall(
        r'<section class="timeline" id="([^"]+)">\n<h2>(.*?)</h2>(.*?)</section>', page, re.S
    )
    return {heading: (anchor, body) for anchor, heading, body in found}


def _entries(body: str) -> list[tuple[str, str]]:
    """(class attribute, event name) of each timeline entry, in document order."""
    return re.findall(r'<li class="([^"]+)">.*?<span class="event">([^<]*)</span>', body)


def test_data_is_escaped() -> None:
    page = render_html(_report())
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "tom&amp;jerry" in page
    assert "&quot;quit&quot;" in page
    assert "algernon &amp; co" in page  # the filters too


def test_self_contained() -> None:
    page = render_html(_report())
    assert not re.search(r"https?:|//|\burl\(|@import|\bsrc=", page)
    assert f'<meta http-equiv="Content-Security-Policy" content="{CSP}">' in page
    assert "default-src 'none'" in CSP
    assert "script-src" not in CSP  # no script may run
    assert '<link rel="icon" href="data:,">' in page


def test_header_shows_title_time_source_and_filters() -> None:
    page = render_html(_report())
    assert "<title>labledger status</title>" in page
    assert "<h1>labledger status</h1>" in page
    assert "2026-11-21 11:00:00 UTC" in page
    assert "sqlite ledger.sqlite3" in page
    assert "subject:" in page


def test_each_session_has_its_timeline_in_order() -> None:
    sections = _sections(render_html(_report()))
    assert list(sections) == [PLAIN, esc(NASTY), QUIET]
    plain = _entries(sections[PLAIN][1])
    assert [name for _, name in plain] == [
        "Session.RegistrationRequested",
        "Session.Registered",
        "Dataset.Discovered",
    ]
    assert [css for css, _ in plain] == [
        "entry kind-intent",
        "entry kind-outcome",
        "entry kind-fact",
    ]
    nasty = _entries(sections[esc(NASTY)][1])
    assert [name for _, name in nasty] == [
        "Session.Created",
        "Session.RegistrationRequested",
        "Session.RegistrationFailed",
    ]
    assert "No events" in sections[QUIET][1]
    assert "<li" not in sections[QUIET][1]


def test_entry_shows_time_file_who_and_operation() -> None:
    body = _sections(render_html(_report()))[PLAIN][1]
    assert (
        '<time datetime="2026-11-21T10:01:05.123456+00:00">2026-11-21 10:01:05 UTC</time>' in body
    )
    assert f'<span class="file">{VIDEO}</span>' in body
    assert "alyx test_user · operator@rig-01" in body
    assert "op 00000001<" in body  # the first 8 characters of the operation id
    registered = body.split('<span class="event">Session.Registered</span>')[1].split("</li>")[0]
    assert "alyx" not in registered  # no Alyx user recorded: only os_user@host
    assert "operator@rig-01" in registered


def test_failed_outcome_is_a_failure() -> None:
    nasty = _entries(_sections(render_html(_report()))[esc(NASTY)][1])
    classes = {name: css.split() for css, name in nasty}
    assert "failed" in classes["Session.RegistrationFailed"]
    assert "failed" not in classes["Session.RegistrationRequested"]
    assert "failed" not in classes["Session.Created"]
    assert '<span class="badge">failure</span>' in render_html(_report())


def test_session_cell_links_to_its_timeline() -> None:
    page = render_html(_report())
    sections = _sections(page)
    anchors = [anchor for anchor, _ in sections.values()]
    assert len(set(anchors)) == 3
    assert all(re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", anchor) for anchor in anchors)
    for heading, (anchor, _) in sections.items():
        assert f'<td><a href="#{anchor}">{heading}</a></td>' in page


def test_table_cells() -> None:
    page = render_html(_report())
    assert "<th>last error</th>" in page
    assert '<th class="num">files</th>' in page
    assert '<td class="num">3</td>' in page
    assert '<td class="num">–</td>' in page  # None
    assert f'<td class="error">{esc(ERROR)}</td>' in page
    assert '<td class="transfer-stalled">stalled</td>' in page
    assert '<td class="transfer-confirmed">confirmed</td>' in page
    assert '<td class="error"></td>' not in page  # an empty error is no error


def test_deterministic() -> None:
    assert render_html(_report()) == render_html(_report())


def test_csv_header_none_and_json() -> None:
    rows: list[dict[str, Any]] = [{"a": None, "b": {"x": 1, "y": [1, 2]}, "c": 3}, {"a": "v"}]
    text = to_csv(rows, ["a", "b", "c"])
    assert text == 'a,b,c\n,"{""x"":1,""y"":[1,2]}",3\nv,,\n'


def test_csv_round_trips_awkward_text() -> None:
    awkward = 'one, "two"\nthree'
    text = to_csv([{"session": awkward, "n": 1}], ["session", "n"])
    assert list(csv.reader(io.StringIO(text))) == [["session", "n"], [awkward, "1"]]


def test_csv_of_no_rows_is_the_header() -> None:
    assert to_csv([], ["session", "last_error"]) == "session,last_error\n"


def _rgb(css_colour: str) -> tuple[int, int, int]:
    red, green, blue = (int(part) for part in re.findall(r"\d+", css_colour)[:3])
    return red, green, blue


def test_chromium_draws_the_report(chromium: WebDriver, tmp_path: Path) -> None:
    report = _report()
    path = tmp_path / "report.html"
    path.write_text(render_html(report), encoding="utf-8")

    log = open_report(chromium, path)

    assert chromium.title == "labledger status"
    headings = chromium.find_elements(By.CSS_SELECTOR, "section.timeline h2")
    assert [h.text for h in headings] == [PLAIN, NASTY, QUIET]  # the <script> shows as text
    assert all(h.is_displayed() for h in headings)
    sections = chromium.find_elements(By.CSS_SELECTOR, "section.timeline")
    counts = [len(s.find_elements(By.CSS_SELECTOR, "li.entry")) for s in sections]
    assert counts == [3, 3, 0]
    failed = chromium.find_elements(By.CSS_SELECTOR, "li.entry.failed")
    assert [f.find_element(By.CSS_SELECTOR, ".event").text for f in failed] == [
        "Session.RegistrationFailed"
    ]
    red, green, blue = _rgb(failed[0].value_of_css_property("color"))
    assert red > 150 and green < 80 and blue < 80
    assert chromium.execute_script("return document.scripts.length") == 0
    assert [entry for entry in log if entry["level"] in ("SEVERE", "WARNING")] == []
    assert not any("error" in str(entry["message"]).lower() for entry in log)

    chromium.find_element(By.LINK_TEXT, NASTY).click()
    anchor, _ = _sections(path.read_text(encoding="utf-8"))[esc(NASTY)]
    assert sections[1].get_attribute("id") == anchor
    assert chromium.current_url.endswith(f"#{anchor}")


def test_console_check_catches_a_blocked_load(chromium: WebDriver, tmp_path: Path) -> None:
    """The silent console above means something: what the policy blocks is caught."""
    blocked = '<script>document.title = "ran";</script>'  # inline script: refused by the CSP
    page = render_html(_report()).replace("</main>", blocked + "</main>")
    path = tmp_path / "loads.html"
    path.write_text(page, encoding="utf-8")
    assert any(entry["level"] == "SEVERE" for entry in open_report(chromium, path))
    assert chromium.title == "labledger status"
