"""Events: CPU per log line to decode an API page and to turn its records into encoded events.

In-process, one core, best of ``repeats``, on the emulator's own records (10 lines each, as served):
- decoding a page of 200 records with orjson and with the standard library;
- ``activation_events`` + ``payloads``, as the source does: each line's JSON joined to the record's
  shared JSON, encoded once per record;
- the same events encoded whole, one JSON document per merged event dict: what the shared part saves;
- two parts of the first: parsing the log lines alone, and a record's shared part alone;
- the events framed into Lumberjack windows of 2048, without and with compression (the sink's encoding).
"""

import json
import random
import time

from logfwd.codecs import jsonbytes
from logfwd_dev.emulator.generate import ActivationFactory
from logfwd_dev.emulator.records import DEFAULT_CATALOG, full_record
from logfwd.codecs.jsonbytes import json_payloads as payloads
from logfwd.codecs.lumberjack import encode_window
from logfwd.codecs.owlog import parse_line
from logfwd.sources.openwhisk.events import activation_events

from . import workload

PAGE = 200
WINDOW = 2048  # events in a Lumberjack window, as the sink sends them


def run(activations: int, repeats: int) -> dict:
    factory = ActivationFactory(random.Random(1), {spec.path: spec for spec in DEFAULT_CATALOG})
    start_ms = int(time.time() * 1000) - 3_600_000
    records = []
    for i in range(activations):
        made = factory.make(workload.ACTIONS[i % len(workload.ACTIONS)], start_ms + i * 250, 120, 10)
        records += [full_record(activation, "guest") for activation in made]
    pages = [jsonbytes.dumps(records[i : i + PAGE]) for i in range(0, len(records), PAGE)]
    records = [record for page in pages for record in jsonbytes.loads(page)]
    lines = sum(len(record["logs"]) for record in records)
    rows = {
        "decode pages, orjson": _best(lambda: [jsonbytes.orjson.loads(page) for page in pages], repeats),
        "decode pages, json": _best(lambda: [json.loads(page) for page in pages], repeats),
        "events, shared part encoded once": _best(
            lambda: [list(payloads(activation_events(record))) for record in records], repeats),
        "  owlog.parse_line alone (plain lines skip it)": _best(
            lambda: [parse_line(line) for record in records for line in record["logs"]], repeats),
        "  of which: shared part alone (no lines)": _best(
            lambda: [activation_events(record, logs=[]).payloads() for record in records], repeats),
        "events, each encoded whole": _best(
            lambda: [[jsonbytes.dumps(event) for event in activation_events(record)] for record in records],
            repeats),
    }
    encoded = [payload for record in records for payload in payloads(activation_events(record))]
    windows = [encoded[i : i + WINDOW] for i in range(0, len(encoded), WINDOW)]
    rows["Lumberjack windows framed, not compressed"] = _best(
        lambda: [encode_window(window, compression_level=0) for window in windows], repeats)
    rows["Lumberjack windows framed and compressed (level 3)"] = _best(
        lambda: [encode_window(window) for window in windows], repeats)
    return {"records": len(records), "lines": lines, "repeats": repeats,
            "us_per_line": {name: round(seconds * 1e6 / lines, 2) for name, seconds in rows.items()}}


def _best(work, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best
