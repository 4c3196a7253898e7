"""Activation records -> events, from the shared sample records in tests/events/."""

import copy
import json
from pathlib import Path

import pytest

from logfwd.errors import BadRecordError, ConfigError
from logfwd.codecs import jsonbytes
from logfwd.codecs.jsonbytes import json_payloads as payloads, string
from logfwd.sources.openwhisk.events import (RESERVED_FIELDS, RecordEvents, activation_events, check_fields, event_id,
                                             line_fields, plain_line_json)

SAMPLES = Path(__file__).parent / "events"


def sample(name: str) -> dict:
    return json.loads((SAMPLES / f"{name}.json").read_text(encoding="utf-8"))


def test_nodejs_record_one_event_per_line():
    record = sample("activation_nodejs")
    events = activation_events(record)

    assert [e["message"] for e in events] == [
        "resizing image 42",
        "width=800 height=600",
        "warning: slow disk",
        "café ünïcødé ✓ 日本語 done",
        "",
    ]
    assert [e["stream"] for e in events] == ["stdout", "stdout", "stderr", "stdout", "stdout"]
    assert [e["@timestamp"] for e in events] == [
        "2023-11-14T22:13:20.178483919Z",  # 9 digits kept
        "2023-11-14T22:13:20.294672800Z",  # 7 digits, padded
        "2023-11-14T22:13:20.301000000Z",
        "2023-11-14T22:13:20.400000000Z",
        "2023-11-14T22:13:20.000000000Z",
    ]
    assert [e["log"] for e in events] == [{"offset": i} for i in range(5)]
    assert events[0] == {
        "@timestamp": "2023-11-14T22:13:20.178483919Z",
        "message": "resizing image 42",
        "stream": "stdout",
        "log": {"offset": 0},
        "faas": {
            "name": "images/resize",
            "id": "/guest/images/resize",
            "version": "0.0.3",
            "execution": "2f0c1b4a9d8e4e6f8c1b4a9d8e4e6f01",
            "coldstart": True,
        },
        "openwhisk": {
            "namespace": "guest",
            "kind": "nodejs:20",
            "activation": {
                "status": "success",
                "success": True,
                "start": "2023-11-14T22:13:20.123000000Z",
                "duration_ms": 334,
                "wait_ms": 41,
                "init_ms": 212,
            },
            "limits": {"timeout_ms": 60000, "memory_mb": 256},
        },
        "@metadata": {"_id": "guest/2f0c1b4a9d8e4e6f8c1b4a9d8e4e6f01:0"},
    }


def test_events_are_json_and_lean():
    for name in ("activation_nodejs", "activation_markers", "activation_sequence", "activation_trigger"):
        for event in activation_events(sample(name)):
            encoded = json.dumps(event, separators=(",", ":"), ensure_ascii=False)
            assert json.loads(encoded) == event
            assert len(encoded.encode()) < 700, encoded


@pytest.mark.parametrize("name", ["activation_nodejs", "activation_markers", "activation_sequence",
                                  "activation_trigger"])
def test_payloads_are_each_event_as_compact_json_with_unique_keys(name):
    events = activation_events(sample(name), fields={"labels": {"team": "imaging"}, "service": "x"})
    encoded = payloads(events)
    assert len(encoded) == len(events) > 0
    for event, payload in zip(events, encoded):
        pairs = json.loads(payload, object_pairs_hook=lambda items: items)  # every key, duplicates kept
        assert len({key for key, _ in pairs}) == len(pairs), payload
        assert json.loads(payload) == event
        assert payload == json.dumps(json.loads(payload), separators=(",", ":"), ensure_ascii=False).encode()
    # Plain dicts (other sources) take the general path to the same JSON.
    assert [json.loads(p) for p in payloads(list(events))] == [json.loads(p) for p in encoded]


def test_record_events_read_as_a_list_of_merged_events():
    events = activation_events(sample("activation_nodejs"))
    merged = list(events)
    assert events[1] == merged[1] and events[-1] == merged[-1] and events[1:3] == merged[1:3]
    assert all(event["faas"] is merged[0]["faas"] for event in merged)  # shared once per record
    assert list(payloads(RecordEvents([], {"faas": {}}))) == []
    assert list(payloads(RecordEvents([{"message": "m"}], {}))) == [b'{"message":"m"}']
    encoded = payloads(RecordEvents([{"a": 1}, {"a": 2}], {"b": 3}))
    assert list(encoded) == [b'{"a":1,"b":3}', b'{"a":2,"b":3}'] == encoded[:] and encoded[-1] == b'{"a":2,"b":3}'
    assert encoded.heads == [b'{"a":1', b'{"a":2'] and encoded.tail == b',"b":3}'  # the shared part held once


def test_ids_are_deterministic_and_distinct_per_offset():
    record = sample("activation_nodejs")
    first = [e["@metadata"]["_id"] for e in activation_events(record)]
    again = [e["@metadata"]["_id"] for e in activation_events(copy.deepcopy(record))]
    assert first == again
    assert len(set(first)) == len(first)
    assert first[3] == event_id("guest", "2f0c1b4a9d8e4e6f8c1b4a9d8e4e6f01", 3)
    other = dict(record, activationId="2f0c1b4a9d8e4e6f8c1b4a9d8e4e6f02")
    assert not set(first) & {e["@metadata"]["_id"] for e in activation_events(other)}


def test_event_id_separates_namespaces():
    assert event_id("a", "f" * 32, 1) != event_id("b", "f" * 32, 1)
    assert event_id("a", "f" * 32, 1) != event_id("a", "f" * 32, 10)


def test_warm_start_and_missing_annotations():
    record = sample("activation_nodejs")
    record["annotations"] = [a for a in record["annotations"] if a["key"] != "initTime"]
    assert activation_events(record)[0]["faas"]["coldstart"] is False

    bare = {"activationId": "ab" * 16, "start": 1700000000000, "name": "solo", "logs": ["hi"]}
    (event,) = activation_events(bare)
    assert event["faas"] == {"name": "solo", "id": "/_/solo", "execution": "ab" * 16, "coldstart": False}
    assert event["openwhisk"] == {"activation": {"start": "2023-11-14T22:13:20.000000000Z"}}
    assert event["@metadata"]["_id"] == f"_/{'ab' * 16}:0"


def test_name_falls_back_to_record_name_and_namespace_to_path():
    record = sample("activation_nodejs")
    record["annotations"] = [{"key": "path", "value": "guest"}, "junk", {"value": 1}]  # odd shapes tolerated
    event = activation_events(record)[0]
    assert event["faas"]["name"] == "resize"
    assert event["faas"]["id"] == "/guest/resize"

    record = sample("activation_nodejs")
    del record["namespace"]
    event = activation_events(record)[0]
    assert event["@metadata"]["_id"].startswith("guest/")
    assert "namespace" not in event["openwhisk"]


def test_timeout_annotation_only_when_true():
    record = sample("activation_markers")
    record["annotations"].append({"key": "timeout", "value": True})
    assert activation_events(record)[0]["openwhisk"]["activation"]["timeout"] is True
    assert "timeout" not in activation_events(sample("activation_markers"))[0]["openwhisk"]["activation"]


def test_markers_and_unparsed_lines_are_kept_and_flagged():
    events = activation_events(sample("activation_markers"))
    assert [e.get("logfwd") for e in events] == [
        None,
        {"unparsed": True},
        {"marker": "truncated"},
        {"unparsed": True, "marker": "missing"},
        {"marker": "missing"},
    ]
    # Unparsed lines take the activation start (millisecond precision) and no stream.
    assert events[1]["@timestamp"] == "2023-11-14T22:17:20.000000000Z"
    assert events[1]["message"] == "this line has no timestamp"
    assert "stream" not in events[1]
    assert events[2]["stream"] == "stderr"
    assert events[2]["@timestamp"] == "2023-11-14T22:17:20.000000300Z"


def test_external_logs_replace_the_record_logs():
    record = sample("activation_external_logs")
    assert len(activation_events(record)) == 0
    logs = sample("activation_external_logs.logs")["logs"]
    events = activation_events(record, logs=logs)
    assert [e["message"] for e in events] == ["charging card ending 4242", "card declined"]
    assert events[0]["@timestamp"] == "2023-11-14T22:16:20.510000001Z"
    assert events[1]["openwhisk"]["activation"]["status"] == "application error"
    assert events[1]["openwhisk"]["activation"]["success"] is False


def test_sequence_record_lists_its_components():
    events = activation_events(sample("activation_sequence"))
    assert [e["message"] for e in events] == [
        "sequence component activation 9a8b7c6d5e4f4a3b8c2d1e0f9a8b7c01",
        "sequence component activation 9a8b7c6d5e4f4a3b8c2d1e0f9a8b7c02",
    ]
    assert all(e["logfwd"] == {"record_type": "sequence"} for e in events)
    assert all(e["@timestamp"] == "2023-11-14T22:14:20.000000000Z" for e in events)
    assert [e["@metadata"]["_id"] for e in events] == [
        "guest/5e6f7a8b9c0d4e1f8a2b3c4d5e6f7a01:0",
        "guest/5e6f7a8b9c0d4e1f8a2b3c4d5e6f7a01:1",
    ]


def test_topmost_alone_marks_a_sequence():
    record = sample("activation_sequence")
    record["annotations"] = [{"key": "topmost", "value": True}]
    assert activation_events(record)[0]["logfwd"]["record_type"] == "sequence"


def test_trigger_record_one_event_per_rule_result():
    record = sample("activation_trigger")
    events = activation_events(record)
    assert [e["message"] for e in events] == record["logs"]
    assert all(e["logfwd"] == {"record_type": "trigger"} for e in events)
    assert all("stream" not in e for e in events)
    assert events[0]["faas"]["name"] == "every-minute"


def test_json_log_lines_of_an_action_are_not_a_trigger():
    record = sample("activation_trigger")
    record["annotations"] = [{"key": "kind", "value": "python:3.11"}]
    events = activation_events(record)
    assert all(e["logfwd"] == {"unparsed": True} for e in events)


def test_non_string_entries_and_odd_logs_shapes():
    record = sample("activation_nodejs")
    record["logs"] = [{"a": 1}, 42, None, "2023-11-14T22:13:20.5Z stdout: ok"]
    events = activation_events(record)
    assert [e["message"] for e in events] == ['{"a": 1}', "42", "null", "ok"]
    assert [e.get("logfwd") for e in events] == [{"unparsed": True}] * 3 + [None]

    record["logs"] = None
    assert len(activation_events(record)) == 0
    record["logs"] = "2023-11-14T22:13:20.5Z stdout: one\n2023-11-14T22:13:20.6Z stdout: two"
    assert [e["message"] for e in activation_events(record)] == ["one", "two"]
    record["logs"] = {"unexpected": "object"}
    assert [e["message"] for e in activation_events(record)] == ['{"unexpected": "object"}']


def test_oversize_line_cut_at_a_utf8_boundary():
    record = sample("activation_nodejs")
    message = "é" * 10  # 2 bytes each
    record["logs"] = [f"2023-11-14T22:13:20.5Z stdout: {message}", "2023-11-14T22:13:20.5Z stdout: short"]
    events = activation_events(record, max_line_bytes=7)
    assert events[0]["message"] == "ééé"  # 6 bytes: the 4th "é" would straddle byte 7
    assert events[0]["logfwd"] == {"truncated_bytes": 14}
    assert events[1]["message"] == "short"
    assert "logfwd" not in events[1]


def test_oversize_four_byte_characters_and_exact_fit():
    record = sample("activation_nodejs")
    record["logs"] = ["2023-11-14T22:13:20.5Z stdout: a😀b", "2023-11-14T22:13:20.5Z stdout: 😀😀"]
    events = activation_events(record, max_line_bytes=8)
    assert events[0]["message"] == "a😀b" and "logfwd" not in events[0]  # 6 bytes fit
    assert events[1]["message"] == "😀😀" and "logfwd" not in events[1]  # exactly 8 bytes fit
    events = activation_events(record, max_line_bytes=4)
    assert events[0]["message"] == "a" and events[0]["logfwd"] == {"truncated_bytes": 5}
    assert events[1]["message"] == "😀" and events[1]["logfwd"] == {"truncated_bytes": 4}


def test_unparsed_line_can_be_truncated_too():
    record = sample("activation_nodejs")
    record["logs"] = ["x" * 100]
    (event,) = activation_events(record, max_line_bytes=10)
    assert event["message"] == "x" * 10
    assert event["logfwd"] == {"unparsed": True, "truncated_bytes": 90}


def test_static_fields_are_merged_at_the_top():
    fields = {"token": "abc", "labels": {"env": "prod"}}
    events = activation_events(sample("activation_nodejs"), fields=fields)
    assert all(e["token"] == "abc" and e["labels"] == {"env": "prod"} for e in events)
    assert events[0]["@metadata"] == {"_id": "guest/2f0c1b4a9d8e4e6f8c1b4a9d8e4e6f01:0"}


@pytest.mark.parametrize("key", sorted(RESERVED_FIELDS))
def test_static_fields_may_not_overwrite_reserved_keys(key):
    with pytest.raises(ConfigError) as error:
        activation_events(sample("activation_nodejs"), fields={key: "x", "labels": {}})
    assert error.value.parameter == "fields"
    assert key in str(error.value)


def test_check_fields():
    assert check_fields({"service": {"name": "shop"}}) == {"service": {"name": "shop"}}
    with pytest.raises(ConfigError, match="fields"):
        check_fields(["not", "an", "object"])


@pytest.mark.parametrize(
    "change, complaint",
    [
        ({"activationId": None}, "activationId"),
        ({"activationId": ""}, "activationId"),
        ({"start": None}, "start"),
        ({"start": "1700000000000"}, "start"),
        ({"start": True}, "start"),
        ({"start": -5}, "start"),
        ({"start": 10**20}, "start"),
    ],
)
def test_bad_record_names_the_record(change, complaint):
    record = {**sample("activation_nodejs"), **change}
    with pytest.raises(BadRecordError) as error:
        activation_events(record)
    text = str(error.value)
    assert complaint in text
    assert "name='resize'" in text
    if "activationId" in change:
        assert f"activationId={change['activationId']!r}" in text
    else:
        assert "2f0c1b4a9d8e4e6f8c1b4a9d8e4e6f01" in text


def test_missing_keys_are_bad_records_too():
    record = sample("activation_nodejs")
    del record["start"]
    with pytest.raises(BadRecordError, match="start"):
        activation_events(record)
    with pytest.raises(BadRecordError, match="list"):
        activation_events(["not", "a", "record"])


def test_integral_float_start_is_accepted():
    record = {**sample("activation_nodejs"), "start": 1700000000123.0}
    activation = activation_events(record)[0]["openwhisk"]["activation"]
    assert activation["start"] == "2023-11-14T22:13:20.123000000Z"


def test_max_line_bytes_must_be_positive():
    with pytest.raises(ConfigError, match="max_line_bytes"):
        activation_events(sample("activation_nodejs"), max_line_bytes=0)


def test_records_are_not_modified():
    record = sample("activation_markers")
    before = copy.deepcopy(record)
    activation_events(record, fields={"labels": {"a": 1}}, max_line_bytes=10)
    assert record == before


@pytest.mark.parametrize("message", ["hello", "", 'quote " and \\ backslash', "tab\tnew\nline \x00 \x1f \x7f",
                                     "café ünïcødé ✓ 日本語 😀", "lone \ud800 surrogate", "</script>", "x" * 3000])
@pytest.mark.parametrize("id_prefix", ["guest/2f0c1b4a9d8e4e6f8c1b4a9d8e4e6f01:", 'odd "ns"\\/é\ud800:'])
@pytest.mark.parametrize("with_orjson", [True, False])
def test_plain_lines_written_directly_are_the_general_forms_json(message, id_prefix, with_orjson, monkeypatch):
    # The fast path (a plain line's JSON written from its parts) and the general one (a dict, encoded),
    # with orjson and with the standard library alone.
    if not with_orjson:
        monkeypatch.setattr(jsonbytes, "orjson", None)
    for stream, offset in (("stdout", 0), ("stderr", 1234567)):
        line = line_fields("2023-11-14T22:13:20.178483919Z", stream, message, offset, id_prefix)
        direct = plain_line_json("2023-11-14T22:13:20.178483919Z", stream, message, offset, string(id_prefix)[:-1])
        assert direct == jsonbytes.dumps(line)[:-1]
        assert json.loads(direct + b"}") == json.loads(jsonbytes.dumps(line))


def test_events_read_as_dicts_are_the_json_sent():
    # Events keep their lines as JSON: read as dicts they are decoded from it, so they are what is sent
    # (a lone surrogate reads back as the "?" that replaces it on the wire).
    record = {**sample("activation_nodejs"), "logs": ["2023-11-14T22:13:20.1Z stdout: a \ud800 b", "bare"]}
    events = activation_events(record)
    assert [json.loads(p) for p in payloads(events)] == list(events)
    assert events[0]["message"] == "a ? b" and events[1]["logfwd"] == {"unparsed": True}
    assert (events.unparsed, events.truncated) == (1, 0)


_ODD_LINES = [
    "2023-11-14T22:13:20.178483919Z stdout: plain",
    "2023-11-14T22:13:20.178483919Z  stderr: plain on stderr",
    "2023-11-14T22:14:59.000000000Z stderr: Logs were truncated because the total bytes size exceeds the limit",
    "2023-11-14T22:14:59.000000000Z stdout: Logs were truncated because (on stdout: no marker)",
    "2023-11-14T22:13:20.1784Z stdout: a trimmed fraction",
    "2023-02-30T22:13:20.178483919Z stdout: no such day",
    "2023-02-28T24:13:20.178483919Z stdout: no such hour",
    "1969-12-31T23:59:59.999999999Z stdout: before 1970",
    "2016-12-31T23:59:60.500000000Z stdout: a leap second",
    "2023-11-14T22:13:20.178483919Z stdout:no space after the colon",
    "2023-11-14T22:13:20.178483919Z stdout: " + "x" * 40,
    "2023-11-14T22:13:20.178483919Z stdout: " + "é" * 20,
    "2023-11-14T22:13:20.178483919Z stdout: lone \ud800 surrogate, quote \" and \\ tab\t",
    "2023-11-14T22:15:00.000000000Z stdout: a new minute",
    "There was an issue while collecting your logs",
    "bare text",
    "",
    # Lines next to the fast path's checks (slices and lookups, one orjson call on the entry):
    "2023-11-14T22:13:20.178483919Z stdout: ",
    "2023-11-14T22:13:20.178483919Z stderr: There was an issue while collecting your logs",
    "2023-11-14T22:13:20.178483919Z stderr: The action did not initialize or run as expected",
    "2023-11-14T22:13:20.178483919Z stderr:  Logs were truncated because (a space more: no marker)",
    "2023-11-14T22:13:20.17848391٩Z stdout: a non-ASCII digit in the fraction",
    "2023-11-14T22:13:20.1784839x9Z stdout: a letter in the fraction",
    "2023-11-14T22:13:60.178483919Z stdout: second 60",
    "2023-11-14T22:13:20,178483919Z stdout: a comma for the dot",
    "2023-11-14T22:13:20.178483919Z stdout:  two spaces after the colon",
    "2023-11-14T22:13:20.178483919Z stdouts: a longer stream",
    "xxxx-11-14T22:13:20.178483919Z stdout: not a year",
    "2023-11-14T22:13:20.178483919Z stdout: a \\",
    "2023-11-14T22:13:20.178483919Z stdout: \\",
    '2023-11-14T22:13:20.178483919Z stdout: "," and "\\",\\"" inside, %s %d %% %b',
    "2023-11-14T22:13:20.178483919Z stdout: \\u00e9 \\ud800 escaped text, not escapes",
    "2023-11-14T22:13:20.178483919Z stderr: \ud83d\ude00 😀 \x00 \x1f\x7f\u2028\u2029",
    "2023-11-14T22:13:20.178483919Z stdout: \udc00",
    "2023-11-14T22:13:20.178483919Z stdout: \x00",
    "2023-11-14T22:13:20.178483919Z stderr: \ud800",
    # Trimmed fractions (Docker drops trailing zeros; the invoker pads the time to 30 characters):
    "2023-11-14T22:13:20.1784Z      stdout: trimmed to four digits",
    "2023-11-14T22:13:20.1Z         stderr: trimmed to one",
    "2023-11-14T22:13:20.17848391Z  stdout: trimmed to eight",
    "2023-11-14T22:13:20.1784Z      stderr: Logs were truncated because the limit was hit",
    "2023-11-14T22:13:20.1784Z       stdout: a space more",
    "2023-11-14T22:13:20.1784Z     stdout: a space less",
    "2023-11-14T22:13:20.1784Z\t     stdout: a tab in the padding",
    "2023-11-14T22:13:20.Z          stdout: a dot and no digits",
    "2023-11-14T22:13:20.17٩4Z      stdout: a non-ASCII digit",
    "2023-11-14T22:13:60.1784Z      stdout: second 60",
    "2023-02-30T22:13:20.1784Z      stdout: no such day",
    "2023-11-14T22:13:20.1784Z      stdout:",
    "2023-11-14T22:13:20.1784Z      stdout: \ud800 a lone surrogate",
    "2023-11-14T22:13:20.1784Z      stdouts: a longer stream",
]


@pytest.fixture(params=["c", "python"])
def fast_path(request, monkeypatch):
    """Which fast path activation_events takes: the one in C (conftest's ``c_heads``) or the Python one."""
    from logfwd.sources.openwhisk import events as events_module
    from logfwd.sources.openwhisk import plainlines

    if request.param == "python":
        monkeypatch.setattr(events_module, "_plain_heads", plainlines.python_heads)
    else:  # built, or skipped where nothing could build it
        monkeypatch.setattr(events_module, "_plain_heads", request.getfixturevalue("c_heads"))
    return request.param


def _mark_the_fast_path(events_module, fast_path, patched) -> list:
    """Makes the fast path's lines tell themselves apart: the Python one's start '{"fast":1,'; the C one's are
    counted in the list returned, and marked the same way."""
    from logfwd.sources.openwhisk import plainlines

    taken = [0]
    if fast_path == "python":
        plain_template = plainlines._plain_template
        patched.setattr(plainlines, "_plain_template",
                        lambda *args: None if (t := plain_template(*args)) is None else b'{"fast":1,' + t[1:])
    else:
        c_heads = events_module._plain_heads

        def counted(entries, first, heads, *rest):
            before = len(heads)
            end = c_heads(entries, first, heads, *rest)
            taken[0] += len(heads) - before
            heads[before:] = [b'{"fast":1,' + head[1:] for head in heads[before:]]
            return end

        patched.setattr(events_module, "_plain_heads", counted)
    return taken


def _general_path_only(events_module, patched) -> None:
    patched.setattr(events_module, "_plain_heads", lambda entries, first, *rest: first)


@pytest.mark.parametrize("max_line_bytes", [1_048_576, 400, 60])  # 400: lines of 101+ characters may be cut
@pytest.mark.parametrize("with_orjson", [True, False])
def test_the_fast_path_writes_what_the_general_path_writes(max_line_bytes, with_orjson, fast_path, monkeypatch):
    # activation_events writes a plain line's JSON straight from the invoker-shape match (in C, or in Python
    # with one orjson call); with that match turned off every line takes parse_line and the general path: the
    # same bytes, line for line.
    import random

    from logfwd.sources.openwhisk import events as events_module
    from logfwd.sources.openwhisk import plainlines
    from logfwd_dev.emulator.generate import ActivationFactory
    from logfwd_dev.emulator.records import DEFAULT_CATALOG, full_record

    if not with_orjson:
        monkeypatch.setattr(jsonbytes, "orjson", None)
    factory = ActivationFactory(random.Random(7), {spec.path: spec for spec in DEFAULT_CATALOG})
    records = [full_record(a, "guest") for i in range(150)
               for a in factory.make(sorted(factory.catalog)[i % len(factory.catalog)], 1_700_000_000_000 + i * 997,
                                     120, 10)]
    records += [sample(name) for name in ("activation_nodejs", "activation_markers")]
    records += [{**sample("activation_nodejs"), "logs": _ODD_LINES + [{"not": "text"}, 17]}]
    records += [{**sample("activation_nodejs"), "namespace": 'odd %s "ns" %d\\ é\ud800', "logs": _ODD_LINES}]
    records += [{**sample("activation_nodejs"), "logs": _ODD_LINES[:1] * (plainlines._PLAIN_LINES + 1)}]
    assert sum(len(r["logs"]) for r in records) > 1_500

    def heads():
        return [activation_events(r, max_line_bytes=max_line_bytes).heads for r in records]

    fast = heads()
    with monkeypatch.context() as patched:  # the fast path is taken (short lines only): marking its lines shows it
        counted = _mark_the_fast_path(events_module, fast_path, patched)
        taken = sum(head.startswith(b'{"fast":1,') for record in heads() for head in record)
        assert fast_path == "python" or taken == counted[0]
        if not with_orjson and fast_path == "python":  # the Python fast path needs orjson: all take the general one
            assert taken == 0
        else:
            assert taken > (1_000 if max_line_bytes > 1_000 else 0) if max_line_bytes >= 400 else taken == 0
    _general_path_only(events_module, monkeypatch)
    assert heads() == fast


def test_payloads_join_each_head_to_the_shared_tail():
    events = activation_events(sample("activation_nodejs"), fields={"labels": {"a": 1}})
    encoded = events.payloads()
    whole = [jsonbytes.dumps(event) for event in events]
    assert list(encoded) == whole and encoded[1:] == whole[1:] and encoded[-1] == whole[-1]
    assert sum(map(len, encoded.heads)) + len(encoded.tail) < sum(map(len, whole))  # the shared part held once


def test_the_fast_paths_tables_grow_once_on_several_threads(monkeypatch):
    # Records may be built on several threads: the per-offset pieces still line up with their offsets.
    import threading

    from logfwd.sources.openwhisk import plainlines

    stdout, stderr, ends = [], [], []
    monkeypatch.setattr(plainlines, "_STDOUT_MIDDLES", stdout)
    monkeypatch.setattr(plainlines, "_STDERR_MIDDLES", stderr)
    monkeypatch.setattr(plainlines, "_PLAIN_ENDS", ends)
    monkeypatch.setattr(plainlines, "_PLAIN_MIDDLES", {"Z stdout: ": stdout, "Z stderr: ": stderr})
    threads = [threading.Thread(target=plainlines._plain_template, args=(b'"ns/id:', 2_000 + 500 * i))
               for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert ends == [b'%d"}' % i for i in range(5_500)]
    assert stdout == [b',"stream":"stdout","log":{"offset":%d},"@metadata":{"_id":' % i for i in range(5_500)]
    assert stderr == [m.replace(b"stdout", b"stderr") for m in stdout]


def test_trimmed_fractions_take_the_fast_path(fast_path, monkeypatch):
    from logfwd.sources.openwhisk import events as events_module

    trimmed = ["2023-11-14T22:13:20.1784Z      stdout: four digits", "2023-11-14T22:13:20.1Z         stderr: one",
               "2023-11-14T22:13:20.17848391Z  stdout: eight"]
    record = {**sample("activation_nodejs"), "logs": trimmed + ["2023-11-14T22:13:20.1784Z     stdout: a space less"]}
    general = activation_events(record).heads
    _mark_the_fast_path(events_module, fast_path, monkeypatch)
    marked = activation_events(record).heads
    assert [head.startswith(b'{"fast":1,') for head in marked] == [True, True, True, False]
    assert [b'{' + head[len(b'{"fast":1,'):] if head.startswith(b'{"fast":1,') else head for head in marked] == general
