"""Deadline continuation: a backlog larger than one run can move is worked off by consecutive runs.

Real servers on loopback: the emulator holds hours of finished activations, the receiver holds each
ACK a moment (a slow Logstash). Every run gets an ``__OW_DEADLINE`` a few seconds away, as OpenWhisk
gives it, stops pulling ``deadline_grace`` before it, saves, says ``more``, and the next run continues.
"""

import random
import time

from logfwd_dev.emulator.server import Emulator
from logfwd_dev.receiver.server import Receiver
from logfwd.runner import run_once
from logfwd.settings import load_settings

DEADLINE = 7.0    # seconds from a run's start to its deadline
GRACE = 5.5       # so a run pulls for ~1.5 s; the window in flight has until the 5 s save reserve
BATCH = 100       # events per window
ACK_DELAY = 0.25  # seconds the receiver holds every ACK: ~400 events/s, far below the backlog
MAX_RUNS = 12     # a bound, so that a run that makes no progress fails the test instead of hanging it


def ids(events) -> list[str]:
    return [event["@metadata"]["_id"] for event in events]


def settings_for(emulator, receiver, tmp_path, deadline: float, **extra):
    params = {"apihost": emulator.url, "api_key": emulator.api_key, "actions": "hello,shop/cart",
              "logstash_hosts": f"127.0.0.1:{receiver.address[1]}", "logstash_tls": "false",
              "checkpoint": f"file:{tmp_path / 'checkpoint.json'}", "initial_lookback": "7200", "overlap": "60",
              "batch_size": str(BATCH), "deadline_grace": str(GRACE), **extra}
    return load_settings(params, {"__OW_DEADLINE": str(int(deadline * 1000))}, None)


def test_a_backlog_is_worked_off_by_consecutive_runs_that_each_stop_at_their_deadline(tmp_path):
    with Emulator(rng=random.Random(11)) as emulator, \
            Receiver(ack_delay=ACK_DELAY, keepalive_interval=0.1) as receiver:
        emulator.seed(["hello", "shop/cart"], 450, 3600.0, lines=5, max_duration=2.0)
        produced = {f"guest/{a['activationId']}:{i}" for a in emulator.produced() for i in range(a["lines"])}

        runs = []  # (summary, seconds left before the deadline when the run returned)
        for _ in range(MAX_RUNS):
            deadline = time.time() + DEADLINE
            summary = run_once(settings_for(emulator, receiver, tmp_path, deadline))
            runs.append((summary, deadline - time.time()))
            if not summary["more"]:
                break
        received = ids(receiver.events)

    *continued, (last, last_left) = runs
    assert len(continued) >= 2, "the backlog was meant to need several runs"
    assert not last["more"] and last["ok"] and not last.get("errors"), last
    for summary, left in continued:
        assert summary["more"] and summary["stopped_at_deadline"], summary
        assert summary["ok"] and not summary.get("errors"), summary
        assert summary["events"] > 0, "every run moves the backlog forward"
    assert all(left > 0 for _, left in runs), [round(left, 2) for _, left in runs]
    assert last["lag_seconds"] == 0, last

    assert produced <= set(received), f"{len(produced - set(received))} lines lost"
    assert len(received) - len(set(received)) <= BATCH * len(runs), "more re-sent than a window per run"
    assert sum(summary["events"] for summary, _ in runs) >= len(produced)


def test_a_grace_below_the_save_reserve_still_stops_cleanly_at_the_deadline(tmp_path):
    # The window in flight must end before the time kept for saving, which shrinks with the grace.
    with Emulator(rng=random.Random(12)) as emulator, \
            Receiver(ack_delay=ACK_DELAY, keepalive_interval=0.1) as receiver:
        emulator.seed(["hello", "shop/cart"], 450, 3600.0, lines=5, max_duration=2.0)
        deadline = time.time() + 4.0
        summary = run_once(settings_for(emulator, receiver, tmp_path, deadline, deadline_grace="2"))
        left = deadline - time.time()

    assert summary["more"] and summary["stopped_at_deadline"], summary
    assert summary["events"] > 0, summary
    # On a busy machine the last window may still await its ACK when the time for work ends: it is
    # abandoned (and re-sent by the next run), which the summary says. Nothing else may go wrong.
    cut = "timed out waiting for the ACK"
    assert all(cut in error for error in summary.get("errors", [])), summary
    assert left > 0, f"the run returned {-left:.2f} s after its deadline"


def test_an_api_that_stops_answering_still_leaves_the_run_time_to_save_before_its_deadline(tmp_path):
    with Emulator(rng=random.Random(13), slow_rate=1.0, slow_seconds=10.0) as emulator, Receiver() as receiver:
        emulator.seed(["hello", "shop/cart"], 10, 600.0, lines=2)
        deadline = time.time() + 4.0
        summary = run_once(settings_for(emulator, receiver, tmp_path, deadline, deadline_grace="2"))
        left = deadline - time.time()

    assert summary["more"] and summary.get("errors"), summary
    assert left > 0, f"the run returned {-left:.2f} s after its deadline"
