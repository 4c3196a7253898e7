"""Realistic events for the sink benchmark, built once and reused by every client.

The records come from the emulator's own generator (the same records ``logfwd emulate`` serves), the
events from the forwarder's event builder and encoder: what the sink really carries.
"""

import random
import time

from logfwd_dev.emulator.generate import ActivationFactory
from logfwd_dev.emulator.records import DEFAULT_CATALOG, full_record
from logfwd.codecs.jsonbytes import json_payloads as encode
from logfwd.sources.openwhisk.events import activation_events

# Plain actions only: each activation then has exactly ``lines`` log lines (sequences and triggers log ids).
ACTIONS = ("hello", "shop/checkout", "shop/cart", "etl/ingest")


def payloads(count: int, lines: int = 10, seed: int = 1) -> list[bytes]:
    """``count`` serialized events (compact JSON, as the pipeline hands them to the sink)."""
    rng = random.Random(seed)
    factory = ActivationFactory(rng, {spec.path: spec for spec in DEFAULT_CATALOG})
    start_ms = int(time.time() * 1000) - 3_600_000
    out: list[bytes] = []
    i = 0
    while len(out) < count:
        for activation in factory.make(ACTIONS[i % len(ACTIONS)], start_ms + i * 250, 120, lines):
            out += encode(activation_events(full_record(activation, "guest")))
        i += 1
    return out[:count]
