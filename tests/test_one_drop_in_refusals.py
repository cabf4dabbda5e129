"""Where ONE-api 3.6.1's `RegistrationClient` raises, labledger's raises too (tests/drop_in.py).

A rig script written for ONE learns of a refusal by an exception. labledger's exceptions are its
own one-line errors that name the fix, on purpose, so only *that* both sides raise is compared,
and that neither server nor data folder was changed differently.

Left out on purpose (README, "differs on purpose"): work that waits for the operator to fix a
name or a setting Alyx does not know (a session folder's subject, `created_by`, `repository`):
labledger keeps it pending and returns None (tests/test_client_returns.py); files of a session
not yet on Alyx (they wait for the session); a single unregistrable path in a dry run (ONE raises
IndexError).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.drop_in import LAB_ROOT, Twin, at, call

SAMPLE_DAY = "2026-11-21"
WHEN = f"{SAMPLE_DAY}T10:00:00"


@pytest.fixture
def twin(tmp_path: Path) -> Iterator[Twin]:
    both = Twin(tmp_path)
    yield both
    both.close()


def test_refusals_raise_on_both_sides(twin: Twin) -> None:
    ses = twin.session()
    new = twin.session(f"algernon/{SAMPLE_DAY}/002")
    licks = at(f"{ses}/alf/licks.times.npy")
    twin.step(call("register_session", at(ses), file_list=False))
    twin.step(
        # values ONE checks itself
        call("register_weight", "algernon", 0),
        call("register_water_administration", "algernon", 0),
        call("register_weight", "algernon", 25.0, date_time="07/14/21"),
        call("register_water_administration", "algernon", 1.0, date_time=WHEN, session="nope"),
        call("register_session", at(new), start_time=f"{SAMPLE_DAY[:-2]}22T10:00:00"),
        call("register_session", at(new), lab="otherlab"),
        call("register_session", at("notasession")),
        call("check_protected_files", at(f"{ses}/notes.txt")),
        # names ONE looks up on Alyx before sending
        call("register_weight", "nobody", 20.0, date_time=WHEN),
        call("register_water_administration", "nobody", 1.0, date_time=WHEN),
        call("register_session", at(new), users="ghost"),
        call("create_new_session", "ghost", at(LAB_ROOT), SAMPLE_DAY),
        # what Alyx refuses (ONE raises requests.HTTPError)
        call("register_weight", "algernon", -3.0, date_time=WHEN),
        call("register_water_administration", "algernon", 1.0, date_time=WHEN, water_type="Gin"),
        call("register_session", at(new), procedures="Flying"),
        call("register_session", at(new), projects="nope"),
        call("register_files", [licks], qc="bogus"),
        refusals=True,
    )
    twin.assert_same()
