"""The receiving end matches what the forwarder emits.

Events are built by the real event builder from the shared sample records (tests/events/), then every
leaf field is checked against logstash/index-template.json, and the pipeline's settings against the
events (the document id) and the template (index name, template file).
"""

import fnmatch
import json
import re
from pathlib import Path

import pytest

from logfwd.sources.openwhisk.events import RESERVED_FIELDS, activation_events

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = Path(__file__).parent / "events"
TEMPLATE = json.loads((ROOT / "logstash" / "index-template.json").read_text())
MAPPINGS = TEMPLATE["template"]["mappings"]
PIPELINE = (ROOT / "logstash" / "pipeline.conf").read_text()
# Logz.io's account token and type, and a user's own labels: static fields merged into every event.
STATIC_FIELDS = {"token": "abc123", "type": "openwhisk", "labels": {"env": "prod", "team": "payments"}}
# Added by Logstash itself, not by the forwarder: @version always; tags and event.original in some setups.
RECEIVER_FIELDS = {"@version", "tags", "event.original"}
# Every event must carry these: time, text, order within the activation, the activation.
REQUIRED_FIELDS = {"@timestamp", "message", "log.offset", "faas.execution", "openwhisk.activation.start"}
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.(\d{1,9}))?Z$")
COMPATIBLE = {
    bool: {"boolean"},
    int: {"long", "integer", "unsigned_long"},
    float: {"double", "float", "scaled_float"},
    str: {"keyword", "text", "match_only_text", "wildcard", "date", "date_nanos"},
}


def timed_out_sequence_component(record: dict) -> dict:
    """A sample record as it looks when it ran inside a sequence and hit its time limit."""
    annotations = [a for a in record["annotations"] if a["key"] != "timeout"]
    annotations += [{"key": "causedBy", "value": "sequence"}, {"key": "timeout", "value": True}]
    return {**record, "cause": "5e6f7a8b9c0d4e1f8a2b3c4d5e6f7a01", "annotations": annotations}


def sample_events() -> list[dict]:
    events = []
    for path in sorted(SAMPLES.glob("*.json")):
        if path.name.endswith(".logs.json"):
            continue
        record = json.loads(path.read_text(encoding="utf-8"))
        separate = path.with_name(path.stem + ".logs.json")  # logs kept outside the record
        logs = json.loads(separate.read_text(encoding="utf-8"))["logs"] if separate.exists() else None
        events += activation_events(record, fields=STATIC_FIELDS, logs=logs)
        events += activation_events(record, fields=STATIC_FIELDS, logs=logs, max_line_bytes=8)  # truncation
        if isinstance(record.get("annotations"), list):
            events += activation_events(timed_out_sequence_component(record), fields=STATIC_FIELDS, logs=logs)
    assert events, f"no sample records in {SAMPLES}"
    return events


EVENTS = sample_events()


def leaves(document: dict, prefix: str = ""):
    for key, value in document.items():
        path = prefix + key
        if isinstance(value, dict):
            yield from leaves(value, path + ".")
        elif isinstance(value, list):
            for item in value:
                yield path, item
        else:
            yield path, value


def mapped_fields(properties: dict, prefix: str = "") -> dict[str, dict]:
    fields = {}
    for name, mapping in properties.items():
        if "properties" in mapping:
            fields.update(mapped_fields(mapping["properties"], prefix + name + "."))
        else:
            fields[prefix + name] = mapping
    return fields


FIELDS = mapped_fields(MAPPINGS["properties"])


def mapping_for(path: str, value) -> dict:
    """The explicit mapping, or what the template's dynamic templates give a static field."""
    if path in FIELDS:
        return FIELDS[path]
    assert path.split(".")[0] not in RESERVED_FIELDS, f"{path} is emitted by the forwarder but not mapped"
    for template in MAPPINGS.get("dynamic_templates", []):
        (rule,) = template.values()
        if rule.get("match_mapping_type") == "string" and isinstance(value, str):
            return rule["mapping"]
    pytest.fail(f"static field {path} would be mapped by Elasticsearch's guesswork")


def test_template_is_a_composable_template_for_the_pipeline_index():
    assert set(TEMPLATE) >= {"index_patterns", "template"}
    index = re.search(r'index\s*=>\s*"([^"%]+)%\{\+YYYY\.MM\.dd\}"', PIPELINE).group(1) + "2024.01.31"
    assert any(fnmatch.fnmatch(index, pattern) for pattern in TEMPLATE["index_patterns"]), index


def test_every_emitted_field_is_mapped_with_a_compatible_type():
    checked = set()
    for event in EVENTS:
        for path, value in leaves({k: v for k, v in event.items() if k != "@metadata"}):
            mapping = mapping_for(path, value)
            assert mapping["type"] in COMPATIBLE[type(value)], f"{path}={value!r} cannot go in {mapping}"
            if mapping["type"] in ("date", "date_nanos"):
                assert RFC3339.match(value), f"{path}={value!r} is not a time Elasticsearch parses"
            checked.add(path)
    assert {"token", "type", "labels.env"} <= checked


def test_nanosecond_times_are_kept_by_a_date_nanos_field():
    fractions = [RFC3339.match(e["@timestamp"]).group(2) or "" for e in EVENTS]
    assert any(f.ljust(9, "0")[3:] != "000000" for f in fractions), "samples lack sub-millisecond times"
    assert FIELDS["@timestamp"]["type"] == "date_nanos"


def test_every_mapped_field_is_emitted_so_the_template_holds_nothing_stale():
    emitted = {path for event in EVENTS for path, _ in leaves(event)}
    stale = set(FIELDS) - RECEIVER_FIELDS - emitted
    assert not stale, f"mapped but never emitted by the forwarder: {sorted(stale)}"


def test_required_fields_are_on_every_event():
    for event in EVENTS:
        present = {path for path, _ in leaves(event)}
        assert REQUIRED_FIELDS <= present, f"missing {REQUIRED_FIELDS - present} in {event}"
    assert REQUIRED_FIELDS <= set(FIELDS)


# --- the pipeline --------------------------------------------------------------------------------


def settings(text: str) -> dict[str, str]:
    """`name => value` pairs of the pipeline, comments left out (each name is used once here)."""
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    pairs = re.findall(r'(\w+)\s*=>\s*("(?:[^"\\]|\\.)*"|\[[^\]]*\]|[\w.]+)', "\n".join(lines))
    return {name: value.strip('"') for name, value in pairs}


SETTINGS = settings(PIPELINE)


def test_documents_are_created_under_the_id_every_event_carries():
    assert SETTINGS["action"] == "create"
    reference = re.fullmatch(r"%\{((?:\[[^\]]+\])+)\}", SETTINGS["document_id"]).group(1)
    keys = re.findall(r"\[([^\]]+)\]", reference)
    assert keys[0] == "@metadata", "the id must stay out of the indexed document"
    ids = []
    for event in EVENTS:
        value = event
        for key in keys:
            value = value[key]
        ids.append(value)
    assert len(set(ids)) == len({(e["faas"]["execution"], e["log"]["offset"]) for e in EVENTS})


def test_the_beats_input_speaks_tls_with_optional_client_authentication():
    assert SETTINGS["ssl_enabled"] == "true"
    auth = re.fullmatch(r"\$\{(\w+):(\w+)\}", SETTINGS["ssl_client_authentication"])
    assert auth and auth.group(2) in {"none", "optional", "required"}
    for name in ("ssl_certificate", "ssl_key", "ssl_certificate_authorities", "port"):
        assert name in SETTINGS, name


def test_the_pipeline_installs_this_template():
    assert SETTINGS["manage_template"] == "true" and SETTINGS["template_api"] == "composable"
    default_path = re.fullmatch(r"\$\{\w+:([^}]+)\}", SETTINGS["template"]).group(1)
    assert Path(default_path).name == "index-template.json"
    assert SETTINGS["data_stream"] == "false", "a data stream would ignore the daily index and its ids"


def test_every_environment_variable_is_documented_in_the_header():
    header = PIPELINE.split("input {")[0]
    for name in set(re.findall(r"\$\{(\w+)", PIPELINE)):
        assert name in header, f"${{{name}}} is used but not documented at the top of pipeline.conf"
