"""The drain's parts without servers: credentials, the memory of counted frames, plug parameters."""

import base64
import json

import pytest

from logfwd.errors import ConfigError
from logfwd.settings import load_settings
from logfwd.sinks.statsd import collectors
from logfwd.sources.logplex.credentials import app_credentials, authorized
from logfwd.sources.logplex.seen import DONE, NEW, PENDING, RecentFrames, RedisFrames
from logplex_frames import ROUTER_H12, TS, body

SECRET = "s3cr3t-pa55"


@pytest.mark.parametrize("raw", [
    {"heaven": f"logplex:{SECRET}", "hell": "u:p:w"},
    json.dumps({"heaven": f"logplex:{SECRET}", "hell": "u:p:w"}),
    f"heaven:logplex:{SECRET}, hell:u:p:w",
    [f"heaven:logplex:{SECRET}", "hell:u:p:w"],
])
def test_credentials_come_as_an_object_or_a_list(raw):
    apps = app_credentials("logplex_credentials", raw)
    assert {app: secret.reveal() for app, secret in apps.items()} == {"heaven": f"logplex:{SECRET}", "hell": "u:p:w"}
    assert SECRET not in repr(apps) and SECRET not in str(apps)


@pytest.mark.parametrize("raw, says", [
    ('{"heaven": "logplex' + SECRET, "not valid JSON"),
    ({"heaven": SECRET}, "the credentials of app 'heaven' are not user:password"),
    ({"heaven": "logplex:"}, "are not user:password"),
    ({"": f"u:{SECRET}"}, "is not a name"),
    (f"heaven{SECRET}", "entry 1 is not app:user:password"),
    ({}, "no app given"),
    (42, "expected a JSON object or a list"),
])
def test_bad_credentials_name_the_parameter_and_hide_the_password(raw, says):
    with pytest.raises(ConfigError) as caught:
        app_credentials("logplex_credentials", raw)
    assert says in str(caught.value) and "parameter 'logplex_credentials'" in str(caught.value)
    assert SECRET not in str(caught.value)


def _basic(text: str) -> str:
    return "Basic " + base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize("app, header, ok", [
    ("heaven", _basic(f"logplex:{SECRET}"), True),
    ("heaven", "basic  " + _basic(f"logplex:{SECRET}")[6:], True),
    ("heaven", _basic(f"logplex:{SECRET}x"), False),
    ("heaven", _basic(f"other:{SECRET}"), False),
    ("hell", _basic(f"logplex:{SECRET}"), False),
    (None, _basic(f"logplex:{SECRET}"), False),
    ("heaven", None, False),
    ("heaven", "Bearer " + SECRET, False),
    ("heaven", "Basic %%%", False),
])
def test_basic_auth_is_checked_per_app(app, header, ok):
    apps = app_credentials("c", {"heaven": f"logplex:{SECRET}", "hell": "logplex:other"})
    assert authorized(apps, app, header) is ok


def test_a_frame_is_counted_once_and_a_failed_one_can_be_retried():
    now = [0.0]
    frames = RecentFrames(limit=3, remember=60, clock=lambda: now[0])
    assert frames.claim("a", "F1") == NEW
    assert frames.claim("a", "F1") == PENDING      # another request is counting it
    assert frames.claim("b", "F1") == NEW          # ids are per app
    frames.confirm("a", "F1")
    assert frames.claim("a", "F1") == DONE
    frames.release("a", "F1")                      # a confirmed frame stays counted
    assert frames.claim("a", "F1") == DONE
    assert frames.claim("a", "F2") == NEW
    frames.release("a", "F2")                      # its counters were not sent: the retry counts
    assert frames.claim("a", "F2") == NEW
    now[0] = 31.0                                  # a claim of a request that died expires
    assert frames.claim("a", "F2") == NEW
    now[0] = 61.0                                  # so does the memory of a counted frame
    assert frames.claim("a", "F1") == NEW


def test_the_memory_of_frames_is_bounded():
    frames = RecentFrames(limit=3)
    for number in range(5):
        frames.claim("a", f"F{number}")
        frames.confirm("a", f"F{number}")
    assert [frames.claim("a", f"F{n}") for n in reversed(range(5))] == [DONE, DONE, DONE, NEW, NEW]


@pytest.mark.parametrize("url", ["http://h/0", "redis://", "redis://h:port/0", "redis://h/zero"])
def test_a_bad_store_url_names_the_parameter(url):
    with pytest.raises(ConfigError, match="parameter 'logplex_store'"):
        RedisFrames(url)


def test_collectors_default_to_port_8125():
    assert collectors("statsd_cluster", "a, b:9125,[::1]:8,[::1]") == (
        ("a", 8125), ("b", 9125), ("::1", 8), ("::1", 8125))
    with pytest.raises(ConfigError, match="parameter 'statsd_cluster': no collector given"):
        collectors("statsd_cluster", " , ")


DRAIN = {"source": "logplex", "sink": "statsd"}


@pytest.mark.parametrize("params, says", [
    ({"statsd_cluster": "h:1"}, "parameter 'logplex_credentials': is required"),
    ({"logplex_credentials": "a:u:p"}, "parameter 'statsd_cluster': is required"),
    ({"logplex_credentials": "a:u:p", "statsd_cluster": "h:1", "statsd_routing": "random"},
     "parameter 'statsd_routing': unknown routing 'random'. Choose one of: consistent, crc32-mod-n."),
    ({"logplex_credentials": "a:u:p", "statsd_cluster": "h:1", "statsd_packet_size": "20"},
     "parameter 'statsd_packet_size': 20 is out of range"),
    ({"logplex_credentials": "a:u:p", "statsd_cluster": "h:1", "logplex_drain_tokens": "[1]"},
     "parameter 'logplex_drain_tokens': expected a JSON object"),
])
def test_the_drain_parameters_are_checked(params, says):
    with pytest.raises(ConfigError) as caught:
        load_settings({**DRAIN, **params}, {})
    assert says in str(caught.value)


def test_the_drain_defaults():
    values = load_settings({**DRAIN, "logplex_credentials": "a:u:p", "statsd_cluster": "h"}, {}).values
    assert values["statsd_routing"] == "consistent" and values["statsd_packet_size"] == 1432
    assert values["statsd_prefix"] == "" and values["logplex_platform_only"] is True
    assert values["logplex_max_body"] == 1 << 20 and values["logplex_store"] is None
    assert SECRET not in repr(load_settings({**DRAIN, "logplex_credentials": f"a:u:{SECRET}",
                                             "logplex_store": f"redis://:{SECRET}@h/0", "statsd_cluster": "h"}, {}))


def _request(data: bytes) -> dict:
    return {"method": "POST", "path": "/api/v1/web/ns/logfwd/drain/heaven/logs", "body": data,
            "headers": {"content-type": "application/logplex-1; charset=utf-8",
                        "Authorization": _basic(f"logplex:{SECRET}")}}


@pytest.mark.parametrize("every_line, messages", [
    (False, [ROUTER_H12, "Error R14 (Memory quota exceeded)"]),
    (True, [ROUTER_H12, "Started GET /", "Error R14 (Memory quota exceeded)"]),
])
def test_lines_become_ecs_events(every_line, messages):
    from logfwd.deadline import NO_DEADLINE
    from logfwd.sources.logplex.source import LogplexSource
    data = body([("heroku", "router", ROUTER_H12), ("app", "web.1", "Started GET /"),
                 ("heroku", "web.1", "Error R14 (Memory quota exceeded)")])
    source = LogplexSource(_request(data), credentials=app_credentials("c", {"heaven": f"logplex:{SECRET}"}),
                           every_line=every_line)
    seen = []
    [unit] = list(source.units(NO_DEADLINE, lambda events: seen.extend(events) or [b"x"]))
    assert source.answer()["statusCode"] == 503  # nothing confirmed the unit yet
    unit.done()
    assert source.answer() == {"statusCode": 200, "headers": {"Content-Type": "text/plain; charset=utf-8"},
                               "body": "3 frame(s), 2 Heroku error(s) counted\n"}
    assert [event["message"] for event in seen] == messages
    first = seen[0]
    assert first["@timestamp"] == TS.replace("+00:00", "Z") and first["service"] == {"name": "heaven"}
    assert first["error"] == {"code": "H12", "message": "Request timeout"}
    assert first["metrics"] == [("heaven.heroku.errors.H12", "c", 1)]
    assert first["log"] == {"offset": 0, "syslog": {"priority": 158, "appname": "heroku"},
                            **({"level": "error"} if every_line else {})}  # router fields: for a log sink only
    assert ("http" in first) == every_line
    assert first["process"] == {"name": "router"} and first["@metadata"]["_id"].startswith("heaven:")
    assert len({event["@metadata"]["_id"] for event in seen}) == len(seen)


def test_a_frame_id_that_is_no_id_is_not_remembered():
    from logfwd.deadline import NO_DEADLINE
    from logfwd.sources.logplex.source import LogplexSource
    request = _request(body([("heroku", "web.1", "Error R14 (Memory quota exceeded)")]))
    request["headers"]["Logplex-Frame-Id"] = "x" * 300 + ":*"
    frames = RecentFrames()
    source = LogplexSource(request, credentials=app_credentials("c", {"heaven": f"logplex:{SECRET}"}),
                           frames=frames)
    for unit in source.units(NO_DEADLINE, lambda events: [b"x"]):
        unit.done()
    assert source.answer()["statusCode"] == 200 and source.frame_id is None
    assert "is not an id; re-sends of this request cannot be recognised" in source.warnings[0]


def test_a_router_line_becomes_ecs_fields():
    from logfwd.sources.logplex.ecs import router_fields
    line = ('at=error code=H12 desc="Request timeout" method=POST path="/a?b=\\"c\\"" host=shop.herokuapp.com '
            'request_id=8601b555-6a76 fwd="204.204.204.204, 10.0.0.1" dyno= connect=1ms service=30001ms '
            'status=503 bytes=0 protocol=https')
    assert router_fields(line) == {
        "log": {"level": "error"},
        "http": {"request": {"method": "POST", "id": "8601b555-6a76"},
                 "response": {"status_code": 503, "bytes": 0}},
        "url": {"original": '/a?b="c"', "domain": "shop.herokuapp.com", "scheme": "https"},
        "client": {"ip": "204.204.204.204"},
        "heroku": {"router": {"connect_ms": 1, "service_ms": 30001}},  # dyno= is empty: left out
        "event": {"dataset": "heroku.router", "duration": 30_001_000_000},
    }
    assert router_fields("State changed from starting to up") == {}
    assert router_fields("at=info status=abc") == {"log": {"level": "info"}, "event": {"dataset": "heroku.router"}}
