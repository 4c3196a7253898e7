"""Settings from plain dicts: coercion of wskdeploy strings, empty values, precedence, secrets."""

import pytest

from logfwd.errors import ConfigError
from logfwd.settings import FILE_CHECKPOINT, declared, load_settings, parse_wskprops

PARAMETERS = tuple(declared())

REQUIRED = {"apihost": "ow.example.com", "api_key": "uuid:sekrit", "actions": "hello",
            "logstash_hosts": "logstash.example.com:5044"}


def load(params=None, environ=None, wskprops=None):
    return load_settings({**REQUIRED, **(params or {})}, environ or {}, wskprops)


def test_defaults():
    s = load()
    assert s.namespace == "_" and s.logstash_tls is True and s.batch_size == 2048
    assert s.checkpoint == FILE_CHECKPOINT and s.overlap == "auto" and s.compression_level == 3
    assert s.logstash_hosts == (("logstash.example.com", 5044),)


def test_wskdeploy_strings_are_coerced():
    s = load({"logstash_tls": "false", "batch_size": "500", "overlap": "600", "compression_level": "0",
              "fields": '{"token": "abc", "type": "openwhisk"}', "actions": " hello, shop/* ,, !shop/cart ",
              "logstash_hosts": "a:5045, [::1]:5046, b"})
    assert s.logstash_tls is False and s.batch_size == 500 and s.overlap == 600.0 and s.compression_level == 0
    assert s.fields == {"token": "abc", "type": "openwhisk"}
    assert s.actions == ("hello", "shop/*", "!shop/cart")
    assert s.logstash_hosts == (("a", 5045), ("::1", 5046), ("b", 5044))


def test_lists_and_objects_are_accepted_as_such():
    s = load({"actions": ["a", "b"], "logstash_hosts": ["h:1"], "fields": {"k": 1}, "logstash_tls": True})
    assert s.actions == ("a", "b") and s.logstash_hosts == (("h", 1),) and s.fields == {"k": 1}


@pytest.mark.parametrize("name", ["apihost", "api_key", "actions", "logstash_hosts"])
def test_empty_required_value_names_the_parameter(name):
    with pytest.raises(ConfigError) as err:
        load({name: ""})
    assert err.value.parameter == name and f"'{name}'" in str(err.value) and "LOGFWD_" in str(err.value)


def test_missing_api_key_mentions_the_annotation():
    with pytest.raises(ConfigError, match="provide-api-key: true"):
        load_settings({k: v for k, v in REQUIRED.items() if k != "api_key"}, {}, None)


@pytest.mark.parametrize("params, name", [
    ({"batch_size": "many"}, "batch_size"), ({"batch_size": "0"}, "batch_size"),
    ({"compression_level": "10"}, "compression_level"), ({"logstash_tls": "maybe"}, "logstash_tls"),
    ({"fields": "{not json"}, "fields"), ({"fields": "[1]"}, "fields"), ({"logstash_hosts": "h:port"}, "logstash_hosts"),
    ({"logstash_hosts": "h:70000"}, "logstash_hosts"), ({"actions": 5}, "actions"),
    ({"logstash_key": "k.pem"}, "logstash_key"), ({"logstash_cert": "c.pem"}, "logstash_cert"),
    ({"logstash_tls": "false", "logstash_ca": "ca.pem"}, "logstash_tls"),
    ({"fields": '{"message": "overwritten"}'}, "fields"), ({"deadline_grace": "0"}, "deadline_grace"),
])
def test_bad_values_name_the_parameter(params, name):
    with pytest.raises(ConfigError) as err:
        load(params)
    assert err.value.parameter == name


def test_precedence_params_then_logfwd_env_then_platform_env_then_wskprops():
    wskprops = {"APIHOST": "props", "AUTH": "p:p", "NAMESPACE": "props-ns"}
    base = {k: v for k, v in REQUIRED.items() if k not in ("apihost", "api_key")}
    assert load_settings(base, {}, wskprops).apihost == "props"
    assert load_settings(base, {"__OW_API_HOST": "platform"}, wskprops).apihost == "platform"
    assert load_settings(base, {"__OW_API_HOST": "platform", "LOGFWD_APIHOST": "env"}, wskprops).apihost == "env"
    assert load_settings({**base, "apihost": "param"}, {"LOGFWD_APIHOST": "env"}, wskprops).apihost == "param"
    # an empty parameter (unset wskdeploy variable) falls through to the next source
    assert load_settings({**base, "apihost": ""}, {"LOGFWD_APIHOST": "env"}, wskprops).apihost == "env"
    assert load_settings(base, {}, wskprops).namespace == "props-ns"


def test_platform_variables():
    s = load(environ={"__OW_DEADLINE": "1700000060000", "__OW_ACTION_NAME": "/guest/logfwd/forward",
                      "__OW_ACTIVATION_ID": "abc"})
    assert s.deadline == 1700000060.0 and s.self_action == "/guest/logfwd/forward"
    assert s.checkpoint == "activation"  # the zero-infrastructure default on OpenWhisk


def test_secrets_never_show():
    s = load({"logstash_cert": "-----BEGIN CERTIFICATE-----\nx", "logstash_key": "-----BEGIN KEY-----\nTOPSECRET",
              "fields": {"token": "LOGZTOKEN"}, "checkpoint_password": "DBPASS"})
    for text in (repr(s), str(s), f"{s}", f"{s.api_key}", str(s.api_key)):
        for secret in ("sekrit", "TOPSECRET", "LOGZTOKEN", "DBPASS"):
            assert secret not in text
    assert s.api_key.reveal() == "uuid:sekrit"


def test_unknown_parameters_warn_with_a_suggestion():
    s = load({"logstash_host": "x", "__ow_internal": 1, "payload": "alarm"})
    assert s.warnings == ("unknown parameter 'logstash_host' ignored; did you mean 'logstash_hosts'?",)


def test_wskprops_parsing():
    assert parse_wskprops("# c\nAPIHOST=https://h\n\nAUTH = a:b=c\n") == {"APIHOST": "https://h", "AUTH": "a:b=c"}


def test_parameter_names_are_the_documented_ones():
    assert "logstash_hosts" in PARAMETERS and len(PARAMETERS) == len(set(PARAMETERS))


def test_overlap_must_exceed_settle():
    with pytest.raises(ConfigError) as err:
        load({"overlap": "2", "settle": "2"})
    assert err.value.parameter == "overlap"


def test_checkpoint_credentials_never_show():
    s = load({"checkpoint": "redis://user:hunter2@redis.example:6379/0"})
    assert "hunter2" not in repr(s) and "redis.example" in repr(s)
