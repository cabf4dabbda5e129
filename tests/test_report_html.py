"""The HTML and CSV reports: escaped, self-contained, deterministic, and readable in a browser.

The HTML is checked twice: as text (escaping, no URL, the structure tests and people rely on) and
as Chromium draws it (headings shown, entries counted, a failure in red, a silent console).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from html import escape as esc
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By

from labledger.projections.html import CSP, render_html
from labledger.projections.html_cells import LONG_TEXT, LONG_TOKEN, breakable, column_kind
from labledger.projections.render import to_csv
from labledger.projections.report_model import EventGroup, Report, Timeline
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


def _groups(body: str) -> list[tuple[str, str, str]]:
    """(file or 'session', badge classes, badge text) of each one-line group, in page order."""
    return re.findall(
        r'<details><summary><code>([^<]*)</code> <b class="([^"]+)">([^<]*)</b>',
        body,
    )


def _entries(body: str) -> list[tuple[str, str]]:
    """(class attribute, event name) of each event row of the groups, in document order."""
    return re.findall(r'<tr class="([^"]+)"><td>[^<]*<td>([^<]*)<td>', body)


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
    assert "<time>2026-11-21 11:00:00Z</time>" in page
    assert "times are UTC (Z)" in page
    assert "sqlite ledger.sqlite3" in page
    assert "Filters: subject: <b>algernon &amp; co</b>" in page


def test_timelines_newest_first_one_line_per_file() -> None:
    """Sessions in the table's order, newest first; in each, the session's own events on one
    line, then one line per file, each showing its latest event; the events below, newest
    first, named without their aggregate (the line says whose they are)."""
    sections = _sections(render_html(_report()))
    assert list(sections) == [QUIET, esc(NASTY), PLAIN]
    plain = sections[PLAIN][1]
    assert _groups(plain) == [
        ("session", "outcome", "Registered"),
        (VIDEO, "fact", "Discovered"),
    ]
    assert _entries(plain) == [
        ("outcome", "Registered"),
        ("intent", "RegistrationRequested"),
        ("fact", "Discovered"),
    ]
    assert '<ol class="files timed">' in plain
    assert "· 2 events</small></summary>" in plain and "· 1 event</small></summary>" in plain
    nasty = sections[esc(NASTY)][1]
    assert _groups(nasty) == [("session", "outcome failed", "RegistrationFailed")]
    assert [name for _, name in _entries(nasty)] == [
        "RegistrationFailed",
        "RegistrationRequested",
        "Created",
    ]
    assert "No events" in sections[QUIET][1]
    assert "<details" not in sections[QUIET][1]


def test_groups_of_a_timeline() -> None:
    """The session's own events form one group; files are grouped by path, the most recently
    changed first, each group newest first, whatever order the events came in."""
    events = [
        _event(4, "fact", "Dataset.Discovered", PLAIN, file="b.npy"),
        _event(1, "fact", "Session.Created", PLAIN),
        _event(2, "fact", "Dataset.Created", PLAIN, file="a.npy"),
        _event(5, "outcome", "Dataset.RegistrationFailed", PLAIN, file="a.npy"),
        _event(3, "fact", "Dataset.Created", PLAIN, file="b.npy"),
    ]
    own, files = Timeline(PLAIN, {}, events).groups()
    assert own is not None and [e.position for e in own.events] == [1]
    assert [(g.file, [e.position for e in g.events]) for g in files] == [
        ("a.npy", [5, 2]),
        ("b.npy", [4, 3]),
    ]
    assert files[0].failed and not files[1].failed
    assert Timeline(PLAIN, {}, events[:1]).groups() == (None, [EventGroup("b.npy", events[:1])])


def test_row_shows_time_event_summary_who_and_operation() -> None:
    """Who (the Alyx user, else the OS user, at the host) and the operation are written once for
    the events of one operation that follow each other."""
    page = render_html(
        replace(
            _report(),
            timelines=[
                Timeline(
                    PLAIN,
                    {},
                    [
                        _event(1, "intent", "Session.RegistrationRequested", PLAIN),
                        replace(
                            _event(2, "outcome", "Session.Registered", PLAIN, alyx_user=""),
                            operation_id="00000001-0000-4000-8000-000000000001",
                        ),
                        _event(3, "fact", "Session.TransferStalled", PLAIN, summary="stuck"),
                    ],
                )
            ],
        )
    )
    rows = re.findall(r"<tr class=[^\n]*", _sections(page)[PLAIN][1])
    assert rows == [
        '<tr class="fact failed"><td>2026-11-21 10:03:05Z<td>TransferStalled<td>stuck'
        "<td>test_user@rig-01 · op 00000003",
        '<tr class="outcome"><td>2026-11-21 10:02:05Z<td>Registered'
        "<td>Session.Registered happened<td>operator@rig-01 · op 00000001",
        '<tr class="intent"><td>2026-11-21 10:01:05Z<td>RegistrationRequested'
        "<td>Session.RegistrationRequested happened<td>test_user@rig-01 · op 00000001",
    ]
    same_run = render_html(
        replace(
            _report(),
            timelines=[
                Timeline(
                    PLAIN,
                    {},
                    [
                        _event(1, "intent", "Session.RegistrationRequested", PLAIN),
                        replace(
                            _event(2, "outcome", "Session.Registered", PLAIN),
                            operation_id="00000001-0000-4000-8000-000000000001",
                        ),
                    ],
                )
            ],
        )
    )
    assert re.findall(r"<td>[^<]*\n", same_run) == [
        "<td>test_user@rig-01 · op 00000001\n",
        "<td>\n",
    ]


def test_failed_outcome_is_a_failure() -> None:
    nasty = _entries(_sections(render_html(_report()))[esc(NASTY)][1])
    classes = {name: css.split() for css, name in nasty}
    assert "failed" in classes["RegistrationFailed"]
    assert "failed" not in classes["RegistrationRequested"]
    assert "failed" not in classes["Created"]
    assert '<b class="outcome failed">RegistrationFailed</b>' in render_html(_report())


def test_session_cell_links_to_its_timeline() -> None:
    page = render_html(_report())
    sections = _sections(page)
    anchors = [anchor for anchor, _ in sections.values()]
    assert len(set(anchors)) == 3
    assert all(re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", anchor) for anchor in anchors)
    cells = re.findall(r'<td class="key w"><a href="#([^"]+)">(.*?)</a></td>', page)
    shown = {anchor: re.sub(r"<[^>]+>", "", text) for anchor, text in cells}
    assert shown == {anchor: heading for heading, (anchor, _) in sections.items()}


def test_session_keys_break_only_in_a_table_without_room() -> None:
    """Keys stay on one line while the table's unbreakable parts fit the window; in a table of
    many wide columns they may break after the lab and the subject, the date and number kept
    together."""
    wide = ["a", "b", "c", "d"]
    rows = [
        {"session": key, **dict.fromkeys(wide, letter * 40)}
        for key, letter in ((PLAIN, "x"), (QUIET, "y"))
    ]
    page = render_html(replace(_report(), columns=["session", *wide], rows=rows))
    anchor = _sections(page)[PLAIN][0]
    key = 'cortexlab/<wbr>algernon/<wbr><span class="w">2026-11-21/001</span>'
    assert f'<td class="key"><a href="#{anchor}">{key}</a></td>' in page
    narrow = render_html(replace(_report(), columns=["session", *wide[:2]], rows=rows))
    assert f'<td class="key w"><a href="#{anchor}">{PLAIN}</a></td>' in narrow


def test_table_cells() -> None:
    page = render_html(_report())
    assert "<th>last error</th>" in page
    assert '<th class="num">files</th>' in page
    assert '<td class="num">3</td>' in page
    assert '<td class="num">–</td>' in page  # None
    error = esc(ERROR).replace("/", "/<wbr>")
    assert f'<td class="text error">{error}</td>' in page
    assert '<td class="word transfer-stalled">stalled</td>' in page
    assert '<td class="word transfer-confirmed">confirmed</td>' in page
    assert '<td class="text error"></td>' not in page  # an empty error is no error


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        ([1, 2.5, None], "num"),
        ([True, 1], "text"),  # a flag is no number
        (["1efdbe38-7a70-48ce-b42c-7e7ed94e1e71", None], "uid"),
        (["1efdbe38-7a70-48ce-b42c-7e7ed94e1e71", "e1"], "path"),  # not all ids
        (["2026-11-21 14:30:05Z", "2026-11-21T14:30:05+00:00"], "time"),
        (["test_user", "confirmed"], "word"),
        (["x" * 33], "path"),  # a long word: it may break
        (["alf/probe00/spikes.times.npy"], "path"),
        (["subject nobody does not exist on Alyx"], "text"),
        ([None, None], "text"),
        ([], "text"),
    ],
)
def test_column_kind(values: list[Any], kind: str) -> None:
    assert column_kind(values) == kind


def test_ids_stay_whole_and_long_text_folds() -> None:
    """An eid shows its first characters in the table, whole in a tooltip, and the cell
    selects it whole; an id inside text is kept on one line; a long error folds to three lines
    that open on a click, its whole text in the page once."""
    eid = "1efdbe38-7a70-48ce-b42c-7e7ed94e1e71"
    long_error = " ".join(["no dataset type matches the file"] * (LONG_TEXT // 20))
    page = render_html(
        replace(
            _report(),
            columns=["session", "alyx_eid", "last_error"],
            rows=[{"session": PLAIN, "alyx_eid": eid, "last_error": long_error}],
            timelines=[
                Timeline(
                    PLAIN,
                    {},
                    [
                        _event(
                            1,
                            "outcome",
                            "Session.Registered",
                            PLAIN,
                            summary=f"on Alyx as eid {eid}",
                        )
                    ],
                )
            ],
        )
    )
    assert f'<td class="uid"><span class="id" title="{eid}">{eid}</span></td>' in page
    folded = f'<details class="clip"><summary>{long_error}</summary></details>'
    assert f'<td class="text error">{folded}</td>' in page
    assert page.count(long_error) == 1
    assert f'<td>on Alyx as eid <span class="id">{eid}</span>' in page


LONG = "spikes.amplitudesMeasuredOnTheBestChannelOfEveryCluster.npy"

BREAKABLE = [
    # text, as the page writes it: breaks between words and after a slash only
    ("alf/probe00/spikes.times.npy", "alf/<wbr>probe00/<wbr>spikes.times.npy"),
    ("/tmp/flags/", "/<wbr>tmp/<wbr>flags/"),
    ("Subject.WaterAdministrationFailed", "Subject.WaterAdministrationFailed"),
    ("weighing 22.5 g", "weighing 22.5 g"),
    ("at 2026-12-01 20:01:51Z, then", 'at <span class="w">2026-12-01 20:01:51Z</span>, then'),
    ("at 2026-12-01T20:01:51.5+00:00", 'at <span class="w">2026-12-01T20:01:51.5+00:00</span>'),
    (
        "algernon_2026-11-21_11-16-17.yml",
        '<span class="w">algernon_2026-11-21_11-16-17.yml</span>',
    ),
    ("flags/a_11-16-17.yml", 'flags/<wbr><span class="w">a_11-16-17.yml</span>'),
    (
        "as 1efdbe38-7a70-48ce-b42c-7e7ed94e1e71",
        'as <span class="id">1efdbe38-7a70-48ce-b42c-7e7ed94e1e71</span>',
    ),
    (
        "(1efdbe38-7a70-48ce-b42c-7e7ed94e1e71)",
        '<span class="w">(<span class="id">1efdbe38-7a70-48ce-b42c-7e7ed94e1e71</span>)</span>',
    ),
    (f"alf/{LONG}", f'alf/<wbr><span class="long" title="{LONG}">{LONG}</span>'),
    ("a <b> & 'c'", "a &lt;b&gt; &amp; &#x27;c&#x27;"),
]
"""Row by row: how free text is written (see `html_cells.breakable`)."""


@pytest.mark.parametrize(("text", "shown"), BREAKABLE)
def test_text_breaks_between_words_and_after_slashes_only(text: str, shown: str) -> None:
    assert breakable(text) == shown


def test_a_long_name_shows_its_first_characters() -> None:
    """A piece longer than LONG_TOKEN characters is clipped like an eid; shorter ones whole."""
    assert len(LONG) > LONG_TOKEN
    assert "long" not in breakable("x" * LONG_TOKEN)


def test_a_value_every_row_holds_is_said_once_above_the_table() -> None:
    """As the terminal tables: a column whose value every row holds is said once above the
    table (a session key still linking to its timeline), a column empty in every row is named
    there and left out; one row keeps its values."""
    rows: list[dict[str, Any]] = [
        {"when": f"2026-11-21 10:0{n}:05Z", "session": PLAIN, "file": None, "host": "rig-01"}
        for n in range(3)
    ]
    report = replace(_report(), columns=["when", "session", "file", "host"], rows=rows)
    page = render_html(report)
    anchor = _sections(page)[PLAIN][0]
    line = re.search(r'<p class="meta alike">(.*?)</p>', page)
    assert line is not None
    said = re.sub(r"<[^>]+>", "", line.group(1))
    assert said == f"Every row: session: {PLAIN} · host: rig-01. Empty in every row: file."
    assert f'<a href="#{anchor}"><b>' in line.group(1)
    assert re.findall(r"<th[^>]*>([^<]*)</th>", page) == ["when"]
    one = render_html(replace(report, rows=rows[:1]))
    assert re.findall(r"<th[^>]*>([^<]*)</th>", one) == ["when", "session", "host"]
    assert "Every row" not in one and "Empty in every row: file." in one


def test_numbered_steps_keep_their_order() -> None:
    """A report of numbered steps (pending) lists them in the order they run; every other
    report lists rows newest first (the table's `timed` class lets the switch turn them)."""
    steps = replace(
        _report(),
        columns=["step", "session"],
        rows=[{"step": 1, "session": PLAIN}, {"step": 2, "session": QUIET}],
    )
    page = render_html(steps)
    assert '<table id="rows">' in page
    assert page.index(">1</td>") < page.index(">2</td>")
    status = render_html(_report())
    assert '<table id="rows" class="timed">' in status
    assert status.index(QUIET) < status.index(PLAIN)
    assert '<input type="checkbox" id="oldest">' in status
    one = replace(_report(), rows=_report().rows[:1], timelines=_report().timelines[:1])
    assert 'id="oldest"' not in render_html(one)  # nothing to turn around


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
    assert [h.text for h in headings] == [QUIET, NASTY, PLAIN]  # the <script> shows as text
    assert all(h.is_displayed() for h in headings)
    sections = chromium.find_elements(By.CSS_SELECTOR, "section.timeline")
    counts = [len(s.find_elements(By.CSS_SELECTOR, "table.events tr")) for s in sections]
    assert counts == [0, 3, 3]
    failed = chromium.find_elements(By.CSS_SELECTOR, "table.events tr.failed")
    assert [str(f.get_attribute("textContent")).strip() for f in failed] == [
        f"2026-11-21 10:06:05ZRegistrationFailed{ERROR}test_user@rig-01 · op 00000006"
    ]
    badge = chromium.find_element(By.CSS_SELECTOR, "summary > b.failed")
    red, green, blue = _rgb(badge.value_of_css_property("background-color"))
    assert red > 150 and green < 80 and blue < 80
    assert _rgb(badge.value_of_css_property("color")) == (255, 255, 255)  # readable on red
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
