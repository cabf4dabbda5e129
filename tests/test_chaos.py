"""Chaos: the rig's day (`tests/rig_day.py`) with the server failing 30 % of requests at random
ends exactly as the day without faults: no duplicate record of any kind, the same files, the
same manifest, the same ledger, and the same base session of each day.

Each seeded run starts from the morning, with the loopback server meeting 30 % of the requests
(drawn from a generator seeded with the run's seed) with one of `CHAOS_FAULTS`: a server
exception (500), a proxy's HTML error page (502), 503 and 429 with Retry-After, a reset
connection, a reply that comes after the client stopped waiting (the server acts anyway), a reply
lost after the server acted, and a slow reply. The day's commands run as an operator runs them;
between two steps, and at the end, `sync` runs (under the same faults) until nothing is left but
the watchdog's confirmation of the transfer, as a rig's scheduled sync would. Then the faults
stop and the world is compared with the uninterrupted day's.

Three seeds in the test run; `LABLEDGER_TEST_CHAOS_SEEDS=50` runs fifty.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from typing import Any

import pytest

from tests.alyx_server.faults import PROXY_HTML, FaultRule
from tests.rig_day import STEPS, World, uninterrupted_day

RATE = 0.3
SEEDS = int(os.environ.get("LABLEDGER_TEST_CHAOS_SEEDS", "3"))
SYNCS = 40
"""Syncs a run may need to finish under faults before it counts as stuck."""
READ_TIMEOUT = 0.5
"""Seconds labledger waits for a reply here (the `late` fault answers after 0.8 s)."""

CHAOS_FAULTS = (
    FaultRule(None, "", "status", times=None, status=500),
    FaultRule(None, "", "status", times=None, status=502, body=PROXY_HTML),
    FaultRule(None, "", "status", times=None, status=503, retry_after=1),
    FaultRule(None, "", "status", times=None, status=429, retry_after=1),
    FaultRule(None, "", "drop", times=None),
    FaultRule(None, "", "delay", times=None, seconds=0.8),
    FaultRule(None, "", "lose_reply", times=None),
    FaultRule(None, "", "delay", times=None, seconds=0.1),
)
"""What a request picked at random meets (see the module's docstring, in that order)."""


def _finished(results: list[dict[str, Any]]) -> bool:
    """Nothing left but the watchdog's confirmation of a transfer (no service runs here)."""
    return all(
        result["outcome"] == "done" or result["action"] == "confirm transfer" for result in results
    )


def _settle(world: World) -> int:
    """`sync` until it has nothing left to do; how many it took."""
    last = ""
    for attempt in range(1, SYNCS + 1):
        last = world.plain("sync", "--json").stdout
        if _finished(json.loads(last or "[]")):
            return attempt
    pytest.fail(f"still not finished after {SYNCS} syncs under faults:\n{last}")


def chaotic_day(seed: int) -> tuple[dict[str, Any], dict[str, Any], Counter[str]]:
    """The day under faults with `seed`, settled: what it left, what the day without faults
    left, and the requests the server received by the fault they met ("" for none)."""
    world, reference = uninterrupted_day()
    world.restore(reference.before[STEPS[0].name])
    world.server.requests.clear()
    world.env["LABLEDGER_ALYX__READ_TIMEOUT"] = str(READ_TIMEOUT)
    try:
        world.server.faults.at_random(RATE, seed, CHAOS_FAULTS)
        for step in STEPS:
            if step.prepare is not None:
                _settle(world)  # the protected file must be on Alyx first
                step.prepare(world.server)
            ran = world.run(step.args, online=step.online, shim=False)
            assert ran.returncode != 70 and "Traceback" not in ran.stderr, ran.stderr
        _settle(world)
    finally:
        world.server.faults.at_random(0, seed)
        del world.env["LABLEDGER_ALYX__READ_TIMEOUT"]
    met: Counter[str] = Counter(str(r.fault or "") for r in world.server.requests.all())
    got, want = (
        reference.comparable(end) for end in (world.end(), reference.after[STEPS[-1].name])
    )
    return got, want, met


def _twice(keys: list[Any]) -> list[Any]:
    return sorted(key for key, count in Counter(map(str, keys)).items() if count > 1)


@pytest.mark.parametrize("seed", range(SEEDS))
def test_the_day_under_random_faults_ends_as_without_them(seed: int) -> None:
    got, want, met = chaotic_day(seed)
    faulted = sum(count for fault, count in met.items() if fault)
    assert faulted >= 0.1 * sum(met.values()), f"too few faults to mean anything: {met}"
    alyx = got["alyx"]
    for kind in ("sessions", "datasets", "weighings", "water_administrations"):
        assert not _twice(alyx.get(kind, [])), f"{kind} recorded twice on Alyx"
    parents = {s["key"]: s.get("parent") for s in alyx["sessions"]}
    assert parents == {s["key"]: s.get("parent") for s in want["alyx"]["sessions"]}
    for part in want:
        assert got[part] == want[part], f"{part}: now {got[part]!r}\nwithout faults {want[part]!r}"
