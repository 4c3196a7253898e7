"""The OpenWhisk REST client against ``responses``: URLs, auth, paging, retries and error messages."""

import base64
import json
import re
from pathlib import Path

import pytest
import requests
import responses
from responses import matchers

from logfwd.deadline import Deadline
from logfwd.errors import (
    AuthError,
    ConfigError,
    NotFoundError,
    SourceError,
    SourceTransientError,
    TransientError,
)
from logfwd.retry import NO_WAIT, RetryPolicy
from logfwd.sources.openwhisk.api import OpenWhiskAPI

SAMPLES = Path(__file__).parent / "events"
HOST = "openwhisk.example.com"
BASE = f"https://{HOST}/api/v1"
SECRET = "S3cr3tK3yThatMustNeverLeak"
KEY = f"23bc46b1-71f6-4ed5-8c54-816aa4f8c502:{SECRET}"
ACTIVATIONS = f"{BASE}/namespaces/_/activations"
ACTIVATION_ID = "2f0c1b4a9d8e4e6f8c1b4a9d8e4e6f01"


def make_api(**kwargs) -> OpenWhiskAPI:
    kwargs.setdefault("retry", NO_WAIT)
    return OpenWhiskAPI(kwargs.pop("apihost", HOST), kwargs.pop("api_key", KEY), **kwargs)


def sample(name: str):
    return json.loads((SAMPLES / f"{name}.json").read_text(encoding="utf-8"))


def assert_no_secret(text: str) -> None:
    assert SECRET not in text and KEY not in text


# -- configuration ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "apihost, base",
    [
        ("openwhisk.example.com", "https://openwhisk.example.com/api/v1"),
        ("openwhisk.example.com/", "https://openwhisk.example.com/api/v1"),
        ("https://openwhisk.example.com//", "https://openwhisk.example.com/api/v1"),
        ("HTTPS://openwhisk.example.com", "https://openwhisk.example.com/api/v1"),
        ("http://localhost:3233", "http://localhost:3233/api/v1"),
        (" 10.0.0.5:443 ", "https://10.0.0.5:443/api/v1"),
    ],
)
@responses.activate
def test_url_with_or_without_scheme(apihost, base):
    responses.get(f"{base}/namespaces/_/activations/{ACTIVATION_ID}", json={"activationId": ACTIVATION_ID})
    api = make_api(apihost=apihost)
    assert api.get_activation(ACTIVATION_ID) == {"activationId": ACTIVATION_ID}
    assert api.describe() == f"{base} namespace _"


@pytest.mark.parametrize("apihost", ["", "   ", "ftp://host", "https://", "https://host?x=1", "host/#frag",
                                     "https://my host", "host\t:443"])
def test_bad_apihost(apihost):
    with pytest.raises(ConfigError) as error:
        make_api(apihost=apihost)
    assert error.value.parameter == "apihost"


@pytest.mark.parametrize("api_key", ["no-colon-" + SECRET, ":" + SECRET, "uuid:", "", None])
def test_bad_api_key_is_named_but_not_echoed(api_key):
    with pytest.raises(ConfigError) as error:
        make_api(api_key=api_key)
    assert error.value.parameter == "api_key"
    assert SECRET not in str(error.value)


@responses.activate
def test_basic_auth_splits_the_key_at_the_first_colon():
    key = "uuid-1:part:with:colons"
    expected = "Basic " + base64.b64encode(key.encode()).decode()
    responses.get(
        f"{ACTIVATIONS}/{ACTIVATION_ID}",
        json={},
        match=[matchers.header_matcher({"Authorization": expected})],
    )
    make_api(api_key=key).get_activation(ACTIVATION_ID)


def test_repr_and_describe_hide_the_key():
    api = make_api(namespace="guest")
    assert repr(api) == f"OpenWhiskAPI({BASE} namespace guest)"
    assert_no_secret(repr(api) + api.describe() + str(vars(api).get("host")))


# -- endpoints ----------------------------------------------------------------------------------


@responses.activate
def test_list_activations_query_parameters():
    record = sample("activation_nodejs")
    responses.get(
        ACTIVATIONS,
        json=[record],
        match=[
            matchers.query_param_matcher(
                {"name": "images/resize", "since": "1700000000000", "upto": "1700000060000",
                 "limit": "200", "skip": "400", "docs": "true"}
            )
        ],
    )
    api = make_api()
    page = api.list_activations("images/resize", since=1700000000000, upto=1700000060000, skip=400)
    assert page == [record]
    assert api.requests_made == 1


@responses.activate
def test_list_activations_minimal_query_and_summaries():
    responses.get(
        ACTIVATIONS,
        json=[],
        match=[matchers.query_param_matcher({"limit": "0", "skip": "0", "docs": "false"})],
    )
    assert make_api().list_activations(limit=0, docs=False) == []


@pytest.mark.parametrize("limit", [201, -1, 1.5, True, "200"])
def test_limit_is_validated_before_any_request(limit):
    api = make_api()
    with pytest.raises(ConfigError, match="limit"):
        api.list_activations(limit=limit)
    assert api.requests_made == 0


@pytest.mark.parametrize("argument", ["since", "upto", "skip"])
def test_negative_filters_are_refused(argument):
    with pytest.raises(ConfigError, match=argument):
        make_api().list_activations(**{argument: -1})


@responses.activate
def test_count_activations():
    responses.get(
        ACTIVATIONS,
        json={"activations": 417},
        match=[matchers.query_param_matcher({"name": "hello", "since": "5", "upto": "9", "count": "true"})],
    )
    assert make_api().count_activations("hello", since=5, upto=9) == 417


@responses.activate
@pytest.mark.parametrize("body", [{"activations": "many"}, {"count": 3}, [1, 2]])
def test_count_activations_with_a_bad_body(body):
    responses.get(ACTIVATIONS, json=body)
    with pytest.raises(SourceError) as error:
        make_api().count_activations()
    assert not isinstance(error.value, TransientError)
    assert "/namespaces/_/activations" in str(error.value)


@responses.activate
def test_get_activation_and_its_logs_with_a_quoted_namespace():
    base = f"{BASE}/namespaces/user%40example.com_dev/activations/{ACTIVATION_ID}"
    logs = sample("activation_external_logs.logs")
    responses.get(base, json=sample("activation_nodejs"))
    responses.get(f"{base}/logs", json=logs)
    api = make_api(namespace="user@example.com_dev")
    assert api.get_activation(ACTIVATION_ID)["activationId"] == ACTIVATION_ID
    assert api.activation_logs(ACTIVATION_ID) == logs["logs"]


@responses.activate
def test_activation_logs_with_a_bad_body():
    responses.get(f"{ACTIVATIONS}/{ACTIVATION_ID}/logs", json={"logs": "not a list"})
    with pytest.raises(SourceError, match="logs"):
        make_api().activation_logs(ACTIVATION_ID)


def test_activation_id_is_required():
    with pytest.raises(ConfigError, match="activation_id"):
        make_api().get_activation("")


@responses.activate
@pytest.mark.parametrize("sizes", [[200, 200, 13], [200, 0], [7], [0]])
def test_list_actions_pages_until_a_short_page(sizes):
    url = f"{BASE}/namespaces/_/actions"
    skip = 0
    for size in sizes:
        page = [{"name": f"a{skip + i}", "namespace": "guest"} for i in range(size)]
        expected = matchers.query_param_matcher({"limit": "200", "skip": str(skip)})
        responses.get(url, json=page, match=[expected])
        skip += size
    api = make_api()
    actions = api.list_actions()
    assert [a["name"] for a in actions] == [f"a{i}" for i in range(sum(sizes))]
    assert api.requests_made == len(sizes)


@responses.activate
def test_list_actions_stops_when_the_server_ignores_skip():
    page = [{"name": f"a{i}"} for i in range(200)]
    responses.get(f"{BASE}/namespaces/_/actions", json=page)
    with pytest.raises(SourceError, match="skip"):
        make_api().list_actions()


@responses.activate
def test_one_session_is_reused():
    class CountingSession(requests.Session):
        sent = 0

        def send(self, request, **kwargs):
            CountingSession.sent += 1
            return super().send(request, **kwargs)

    responses.get(ACTIVATIONS, json=[])
    api = make_api(session=CountingSession())
    api.list_activations()
    api.list_activations()
    assert CountingSession.sent == 2


@responses.activate
def test_timeout_and_verify_are_passed_and_bounded_by_the_deadline():
    responses.get(ACTIVATIONS, json=[])
    now = [1000.0]
    api = make_api(timeout=30.0, verify="/etc/ca.pem", deadline=Deadline(at=1012.5, clock=lambda: now[0]))
    api.list_activations()
    kwargs = responses.calls[0].request.req_kwargs
    assert kwargs["timeout"] == 12.5
    assert kwargs["verify"] == "/etc/ca.pem"


# -- transient failures and retries ---------------------------------------------------------------


@responses.activate
@pytest.mark.parametrize(
    "failure",
    [
        {"status": 429, "json": {"error": "Too many requests in the last minute", "code": "tx1"}},
        {"status": 503, "body": "<html><body>Service Unavailable</body></html>"},
        {"status": 502, "json": {"error": "bad gateway"}},
        {"body": requests.ConnectionError("Connection refused")},
        {"body": requests.exceptions.ReadTimeout("read timed out")},
        {"status": 200, "body": "<html><h1>Maintenance</h1></html>"},
        {"status": 200, "body": '[{"activationId": "2f0c'},  # truncated JSON
    ],
)
def test_transient_failure_then_success(failure):
    responses.get(ACTIVATIONS, **failure)
    responses.get(ACTIVATIONS, json=[{"activationId": ACTIVATION_ID}])
    api = make_api()
    assert api.list_activations() == [{"activationId": ACTIVATION_ID}]
    assert api.requests_made == 2


@responses.activate
def test_gives_up_after_the_attempts_with_a_clear_message():
    busy = {"error": "The server is currently unavailable.", "code": "x"}
    responses.get(ACTIVATIONS, status=503, json=busy)
    api = make_api(namespace="_", retry=RetryPolicy(attempts=3, initial=0, maximum=0, jitter=0))
    with pytest.raises(SourceTransientError) as error:
        api.list_activations()
    text = str(error.value)
    assert api.requests_made == 3
    assert f"GET {BASE}/namespaces/_/activations" in text  # host, namespace and endpoint
    assert "503" in text and "The server is currently unavailable." in text
    assert "gave up after 3 attempts" in text


@responses.activate
def test_garbage_body_is_finally_reported_with_its_start():
    html = "<html><head><title>502 Bad Gateway</title></head><body>" + "x" * 500 + "</body></html>"
    responses.get(ACTIVATIONS, status=200, body=html)
    api = make_api(retry=RetryPolicy(attempts=2, initial=0, maximum=0, jitter=0))
    with pytest.raises(SourceError) as error:
        api.list_activations()
    text = str(error.value)
    assert "not JSON" in text and "/namespaces/_/activations" in text
    assert "<html><head><title>502 Bad Gateway</title>" in text
    assert "x" * 120 not in text  # only the start of the body
    assert api.requests_made == 2


@responses.activate
def test_the_deadline_stops_retrying():
    now = [0.0]

    def failing(request):
        now[0] += 4.0  # every attempt takes 4 s of the run's 10
        return (503, {}, '{"error": "busy"}')

    responses.add_callback(responses.GET, ACTIVATIONS, callback=failing)
    api = make_api(retry=RetryPolicy(attempts=50, initial=0, maximum=0, jitter=0),
                   deadline=Deadline(at=10.0, clock=lambda: now[0]))
    with pytest.raises(SourceTransientError):
        api.list_activations()
    assert api.requests_made == 3  # at t=0, 4 and 8; at t=12 the deadline has passed


@responses.activate
def test_no_request_once_the_deadline_has_passed():
    api = make_api(deadline=Deadline(at=5.0, clock=lambda: 6.0))
    with pytest.raises(SourceTransientError, match="deadline"):
        api.list_activations()
    assert api.requests_made == 0
    assert len(responses.calls) == 0


@responses.activate
def test_tls_failure_is_not_retried():
    responses.get(ACTIVATIONS, body=requests.exceptions.SSLError("certificate verify failed"))
    api = make_api(retry=RetryPolicy(attempts=5, initial=0, maximum=0, jitter=0))
    with pytest.raises(SourceError) as error:
        api.list_activations()
    assert not isinstance(error.value, TransientError)
    assert "TLS" in str(error.value) and "certificate" in str(error.value)
    assert api.requests_made == 1


# -- permanent failures --------------------------------------------------------------------------


@responses.activate
@pytest.mark.parametrize("status", [401, 403])
def test_auth_errors_name_host_namespace_and_what_to_check(status):
    responses.get(f"{BASE}/namespaces/guest/activations", status=status,
                  json={"error": "The supplied authentication is invalid", "code": "abc"})
    api = make_api(namespace="guest", retry=RetryPolicy(attempts=5, initial=0, maximum=0, jitter=0))
    with pytest.raises(AuthError) as error:
        api.list_activations("hello")
    text = str(error.value)
    assert HOST in text and "'guest'" in text and str(status) in text
    assert "API key" in text and "provide-api-key: true" in text
    assert "The supplied authentication is invalid" in text
    assert api.requests_made == 1  # not retried


@responses.activate
@pytest.mark.parametrize(
    "call, subject",
    [
        (lambda api: api.get_activation(ACTIVATION_ID), f"activation '{ACTIVATION_ID}'"),
        (lambda api: api.activation_logs(ACTIVATION_ID), f"activation '{ACTIVATION_ID}'"),
        (lambda api: api.list_activations("pkg/gone"), "action 'pkg/gone'"),
        (lambda api: api.list_actions(), "namespace 'guest'"),
    ],
)
def test_not_found_names_what_is_missing(call, subject):
    responses.get(
        re.compile(f"{re.escape(BASE)}/namespaces/guest/.*"),
        status=404,
        json={"error": "The requested resource does not exist.", "code": "t"},
    )
    api = make_api(namespace="guest")
    with pytest.raises(NotFoundError) as error:
        call(api)
    text = str(error.value)
    assert subject in text and HOST in text and "'guest'" in text
    assert "The requested resource does not exist." in text
    assert api.requests_made == 1


@responses.activate
def test_bad_request_shows_the_server_error():
    message = "The value '500' is not in the range of 0 to 200 for activations."
    responses.get(ACTIVATIONS, status=400, json={"error": message, "code": "t"})
    api = make_api()
    with pytest.raises(SourceError) as error:
        api.list_activations()
    assert not isinstance(error.value, (TransientError, AuthError, NotFoundError))
    assert message in str(error.value)
    assert api.requests_made == 1


# -- the key never leaks ---------------------------------------------------------------------------


@responses.activate
@pytest.mark.parametrize(
    "failure",
    [
        {"status": 401, "json": {"error": f"bad key {KEY}"}},
        {"status": 500, "json": {"error": f"echo {SECRET}"}},
        {"status": 200, "body": f"<html>{SECRET}</html>"},
        {"status": 404, "body": f"not found for {KEY}"},
        {"body": requests.ConnectionError(f"refused while sending {SECRET}")},
    ],
)
def test_the_key_never_appears_in_errors(failure, caplog):
    responses.get(ACTIVATIONS, **failure)
    api = make_api(retry=RetryPolicy(attempts=2, initial=0, maximum=0, jitter=0))
    with caplog.at_level("DEBUG"), pytest.raises(SourceError) as error:
        api.list_activations()
    assert_no_secret(str(error.value))
    assert_no_secret(repr(error.value))
    assert_no_secret(caplog.text)
    if error.value.__cause__ is not None:
        assert_no_secret(str(error.value.__cause__))
