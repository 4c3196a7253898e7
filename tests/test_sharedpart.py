"""The keys a record's events share: the fast form (JSON from pieces cached per action) against the
general form (dicts, encoded whole), byte for byte, over many odd records."""

import copy
import json
import random
from pathlib import Path

import pytest

from logfwd.codecs import jsonbytes
from logfwd.codecs.owlog import format_time_ns
from logfwd.sources.openwhisk import events as events_module, sharedpart
from logfwd.sources.openwhisk.events import activation_events
from logfwd.sources.openwhisk.pending import marker_events
from logfwd_dev.emulator.generate import ActivationFactory
from logfwd_dev.emulator.records import DEFAULT_CATALOG, full_record

SAMPLES = Path(__file__).parent / "events"

# Values that the general form keeps, drops or writes in its own way; each record takes some of them.
_TEXT = ["guest", "", "café ✓ 日本語", 'q"uote\\ back/slash \t\n\x00\x1f', "lone \ud800 surrogate", "50%", "%s %d",
         17, 1.5, True, None, ["a"], {"a": 1}, float("nan")]
_NUMBER = [0, 1, 334, -5, 2**63 - 1, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1, 2**70, 1.0, 1.5, 1e16, 2.5e-7,
           float("nan"), float("inf"), True, False, "12", None, [3], {"n": 1}]
_IDS = ["2f0c1b4a9d8e4e6f8c1b4a9d8e4e6f01", "ab" * 16, "A-b_c", 'x"y', "é" * 4, "lone \udfff", "a\\b", "%d"]
_FIELDS = [{}, {"labels": {"team": "imaging"}, "service": "x"}, {"note": "50% café ✓ %s"}, {"n": 2.5e-7, "m": -0.0, "e": 1e16},
           {"nan": float("nan")}, {"t": (1, 2)}, {"deep": {"a": [1, {"b": None}], "é": "✓"}}]
_REFUSED = [{"big": 2**70}, {"lone": "\ud800"}, {1: "a number as key"}]  # orjson refuses these: the general form
# (then the standard library writes the whole object, and it writes 2.5e-7 as 2.5e-07: the floats above tell)


def _emulator_records(count: int) -> list[dict]:
    factory = ActivationFactory(random.Random(3), {spec.path: spec for spec in DEFAULT_CATALOG})
    paths = sorted(factory.catalog)
    records = [full_record(a, "guest") for i in range(count)
               for a in factory.make(paths[i % len(paths)], 1_700_000_000_000 + i * 737, 120, 2)]
    return jsonbytes.loads(jsonbytes.dumps(records))  # as a page decodes them


def _sample(name: str) -> dict:
    return json.loads((SAMPLES / f"{name}.json").read_text(encoding="utf-8"))


def _odd(record: dict, rng: random.Random) -> dict:
    """``record`` with a few of its values made odd: missing, of another type, unicode, huge."""
    record = copy.deepcopy(record)
    annotations = record.setdefault("annotations", [])
    for _ in range(rng.randint(1, 4)):
        change = rng.randrange(14)
        if change == 0:
            record.pop(rng.choice(["name", "namespace", "version", "response", "duration", "cause", "annotations"]),
                       None)
        elif change == 1:
            record[rng.choice(["name", "namespace", "version", "cause"])] = rng.choice(_TEXT + _IDS)
        elif change == 2:
            record["duration"] = rng.choice(_NUMBER)
        elif change == 3:
            record["response"] = rng.choice([None, "oops", [], {}, {"status": rng.choice(_TEXT)},
                                             {"status": "success", "success": rng.choice([True, False, 1, 0, "true"])},
                                             {"status": rng.choice(["application error", "whisk internal error"]),
                                              "success": False}])
        elif change == 4:
            record["activationId"] = rng.choice(_IDS)
        elif change == 5 and isinstance(annotations, list):
            key = rng.choice(["path", "kind", "causedBy", "waitTime", "initTime", "timeout", "topmost", "other"])
            value = rng.choice(_TEXT + _NUMBER + ["guest/pkg/act", "other-ns/act", "nodejs:20", "sequence"])
            annotations.append({"key": key, "value": value})
        elif change == 6 and isinstance(annotations, list):
            limits = {"timeout": rng.choice(_NUMBER), "memory": rng.choice(_NUMBER)}
            for gone in rng.sample(["timeout", "memory"], rng.randint(0, 2)):
                del limits[gone]
            annotations.append({"key": "limits", "value": rng.choice([limits, limits, None, "256", [1]])})
        elif change == 7 and isinstance(annotations, list):
            annotations.append(rng.choice([{"key": "kind"}, {"value": 1}, "text", 5, None, [1, 2], {"key": 7, "value": 1},
                                           {"key": None, "value": "x"}, {"key": "timeout", "value": True}]))
        elif change == 8:
            reordered = annotations[::-1] if isinstance(annotations, list) else []
            record["annotations"] = rng.choice([None, "text", {}, [], reordered])
            annotations = record["annotations"]
        elif change == 9:
            record["start"] = rng.choice([0, 999, 1000, 1_700_000_000_999, 253_402_300_799_999, 1_700_000_000_123.0])
        elif change == 10 and isinstance(annotations, list):
            annotations.append({"key": "initTime", "value": rng.choice(_NUMBER)})
        elif change == 11 and isinstance(annotations, list):
            annotations.append({"key": "path", "value": rng.choice(["é/ü/ß", "ns/a\"b", "ns/\ud800", "noslash", "/x"])})
        elif change == 12:
            record["namespace"] = rng.choice(["guest", "ünïcødé", "", None])
        else:
            record["cause"] = rng.choice(_IDS + ["", None, 5])
    return record


def _records() -> list[dict]:
    rng = random.Random(15)
    plain = _emulator_records(60) + [_sample(n) for n in ("activation_nodejs", "activation_markers",
                                                          "activation_sequence", "activation_trigger")]
    # Equal but not alike (1 == 1.0 == True): one action, its limits each way in turn, then its status.
    alike = []
    for value in (1, 1.0, True, 1, 0, False, 0.0, 0):
        for key in ("timeout", "memory"):
            record = copy.deepcopy(plain[0])
            record["annotations"] = [a for a in record["annotations"] if a["key"] != "limits"]
            record["annotations"].append({"key": "limits", "value": {"timeout": 60000, "memory": 256, key: value}})
            record["response"] = {"status": "success", "success": [True, 1, 1.0, False, 0][len(alike) % 5]}
            alike.append(record)
    # Each number at the edges of what orjson writes, in each place a record has one.
    for value in (2**63 - 1, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1, 1.0, True, None):
        for place in ("duration", "waitTime", "initTime"):
            record = copy.deepcopy(plain[1])
            record["duration"] = value if place == "duration" else 5
            record["annotations"] += [{"key": key, "value": value if place == key else 5}
                                      for key in ("waitTime", "initTime")]
            alike.append(record)
    return plain + alike + [_odd(rng.choice(plain), rng) for _ in range(1_500)]


def _general(monkeypatch):
    """The general form only: the annotations read item by item, the start formatted whole, the shared
    part built as a dict and encoded whole."""
    monkeypatch.setattr(events_module, "shared_json", lambda *args: None)
    monkeypatch.setattr(events_module, "_annotations",
                        lambda record: events_module._annotations_item_by_item(record.get("annotations")))
    monkeypatch.setattr(events_module, "start_time", lambda start_ms: format_time_ns(start_ms * 1_000_000))


def _built(records: list[dict], fields: dict, calls: list) -> list:
    """Per record: the payloads, the events read as dicts and whether the fast form wrote them; or the
    error, for a record (or static fields) refused."""
    out = []
    for record in records:
        called = len(calls)
        try:
            events = activation_events(record, fields=fields, logs=["2023-11-14T22:13:20.178483919Z stdout: hi"])
            out.append((list(events.payloads()), list(events), calls[called:] == [True]))
        except Exception as exc:  # both forms must refuse it alike
            out.append(repr(exc))
    return out


@pytest.mark.parametrize("fields", _FIELDS + _REFUSED, ids=range(len(_FIELDS + _REFUSED)))
def test_the_fast_form_writes_the_general_forms_bytes(fields, monkeypatch):
    records = _records()
    calls, shared_json = [], sharedpart.shared_json

    def recorded(*args):
        written = shared_json(*args)
        calls.append(written is not None)
        return written

    monkeypatch.setattr(events_module, "shared_json", recorded)
    fast = _built(records, fields, calls)
    with monkeypatch.context() as general:
        _general(general)
        reference = _built(records, fields, [])
    assert sum(isinstance(item, str) for item in fast) < len(records) // 10
    for record, mine, theirs in zip(records, fast, reference):
        if isinstance(theirs, str):
            assert mine == theirs, record
            continue
        assert mine[0] == theirs[0], record  # the bytes sent
        # Read as dicts: the JSON sent where the fast form wrote it (as the lines already are), else as before.
        assert mine[1] == ([json.loads(p) for p in mine[0]] if mine[2] else theirs[1]), record
    taken = sum(mine[2] for mine in fast if not isinstance(mine, str))
    assert taken == 0 if fields in _REFUSED else taken > len(records) // 3, taken


def test_without_orjson_the_general_form_is_taken(monkeypatch):
    monkeypatch.setattr(jsonbytes, "orjson", None)
    record = _sample("activation_nodejs")
    assert sharedpart.shared_json(record, {}, {}, "", "guest", "x") is None
    events = activation_events(record, fields={"n": 2.5e-7})
    assert b',"n":2.5e-07,"faas":' in events.payloads()[0]  # the standard library's float (orjson: 2.5e-7)


def test_the_caches_are_bounded(monkeypatch):
    monkeypatch.setattr(sharedpart, "_CACHE_LIMIT", 8)
    monkeypatch.setattr(sharedpart, "_MINUTES_LIMIT", 8)
    record = _emulator_records(1)[0]
    for version in range(50):
        varied = {**record, "version": f"0.0.{version}", "start": 1_900_000_000_000 + version * 60_000}  # minutes not seen before
        events = activation_events(varied)
        assert json.loads(events.payloads()[0])["faas"]["version"] == f"0.0.{version}"
        assert events[0]["openwhisk"]["activation"]["start"] == format_time_ns(varied["start"] * 1_000_000)
    assert 0 < len(sharedpart._PIECES) <= 8 and 0 < len(sharedpart._MINUTES) <= 8


@pytest.mark.parametrize("start_ms", [0, 1, 999, 1000, 59_999, 1_700_000_000_000, 1_700_000_000_001,
                                      1_700_000_059_999, 1_700_000_060_000, 951_782_400_000, 253_402_300_799_999])
def test_start_time_is_format_time_ns(start_ms):
    assert sharedpart.start_time(start_ms) == format_time_ns(start_ms * 1_000_000)
    assert sharedpart.start_time(start_ms) == format_time_ns(start_ms * 1_000_000)  # cached


@pytest.mark.parametrize("annotations", [
    [{"key": "path", "value": "a/b"}, {"key": "path", "value": "c/d"}],  # the last one wins
    [{"key": "kind", "value": "nodejs:20"}, {"key": 7, "value": "x"}, {"key": None, "value": "y"}],
    [{"key": "kind"}, {"key": "path", "value": "a/b"}],  # no value: read as None
    [{"value": "no key"}, "text", 5, None, [1, 2], {"key": "initTime", "value": 3}],
    [{"key": ["unhashable"], "value": 1}, {"key": "timeout", "value": True}],
    ({"key": "kind", "value": "a tuple, not a list"},), "text", None, {"key": "path", "value": "a/b"},
])
def test_annotations_read_in_one_pass_or_item_by_item_alike(annotations):
    fast = events_module._annotations({"annotations": annotations})
    general = events_module._annotations_item_by_item(annotations)
    assert {key: value for key, value in fast.items() if isinstance(key, str)} == general  # others are never read


def test_marker_events_keep_their_bytes(monkeypatch):
    record = _emulator_records(1)[0]
    fields = {"labels": {"team": "é ✓ 50%"}}
    fast = list(marker_events(record, fields=fields, wait_seconds=5).payloads())
    _general(monkeypatch)
    assert fast == list(marker_events(record, fields=fields, wait_seconds=5).payloads())
