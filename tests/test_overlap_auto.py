"""overlap=auto: each monitored action's overlap from its own limits, shown in the summary and --verbose."""

import pytest

from logfwd.cli.run import render
from logfwd.errors import ConfigError
from logfwd.settings import load_settings
from logfwd.sources.openwhisk.overlap import LOG_COLLECTION_MS, UNKNOWN_TIMEOUT_MS, automatic_overlaps

INTERVAL = 60_000
LISTING = [
    {"namespace": "guest", "name": "hello", "limits": {"timeout": 60_000}},
    {"namespace": "guest/shop", "name": "cart", "limits": {"timeout": 10_000}},
    {"namespace": "guest/shop", "name": "checkout", "limits": {"timeout": 30_000}},
    {"namespace": "guest/shop", "name": "order-flow", "limits": {"timeout": 60_000},
     "annotations": [{"key": "exec", "value": "sequence"}]},
]
ACTIONS = {"shop/order-flow": {"name": "order-flow", "exec": {"kind": "sequence",
                                                             "components": ["/guest/shop/cart", "/guest/shop/checkout"]}}}


def overlaps(names, get=ACTIONS.__getitem__):
    warnings = []
    return automatic_overlaps(names, LISTING, get, INTERVAL, warnings.append), warnings


def test_an_action_gets_twice_its_time_limit_plus_log_collection_plus_two_intervals():
    found, warnings = overlaps(["hello", "shop/cart"])
    assert found == {"hello": 2 * 60_000 + LOG_COLLECTION_MS + 2 * INTERVAL,
                     "shop/cart": 2 * 10_000 + LOG_COLLECTION_MS + 2 * INTERVAL}
    assert warnings == []


def test_a_sequence_adds_up_its_components_each_with_the_controllers_extra_minute():
    found, _ = overlaps(["shop/order-flow"])
    components = (2 * 10_000 + LOG_COLLECTION_MS + 60_000) + (2 * 30_000 + LOG_COLLECTION_MS + 60_000)
    assert found == {"shop/order-flow": components + 2 * INTERVAL}


def test_an_action_the_listing_does_not_have_gets_the_largest_default_without_asking():
    def never(name):
        raise AssertionError(f"asked for {name}")

    found, warnings = overlaps(["gone"], get=never)
    assert found == {"gone": 2 * UNKNOWN_TIMEOUT_MS + LOG_COLLECTION_MS + 2 * INTERVAL}


def test_a_sequence_whose_components_cannot_be_read_gets_the_largest_default_and_a_warning():
    def failing(name):
        raise ConfigError("actions", f"no {name}")

    found, warnings = overlaps(["shop/order-flow"], get=failing)
    assert found == {"shop/order-flow": 2 * UNKNOWN_TIMEOUT_MS + LOG_COLLECTION_MS + 2 * INTERVAL}
    assert "cannot read the components of sequence 'shop/order-flow'" in warnings[0]


REQUIRED = {"apihost": "https://openwhisk.example.com", "api_key": "u:k", "actions": "hello",
            "logstash_hosts": "logstash.example.com:5044"}


@pytest.mark.parametrize("given, expected", [(None, "auto"), ("AUTO", "auto"), ("600", 600.0)])
def test_overlap_is_auto_by_default_and_a_number_sets_a_fixed_one(given, expected):
    params = dict(REQUIRED, **({"overlap": given} if given else {}))
    assert load_settings(params, {}, None).values["overlap"] == expected


def test_a_bad_overlap_names_the_parameter():
    with pytest.raises(ConfigError) as err:
        load_settings(dict(REQUIRED, overlap="soon"), {}, None)
    assert err.value.parameter == "overlap"


def test_verbose_output_shows_each_actions_overlap():
    read = {"from": "2026-11-30T06:00:00+00:00", "to": "2026-11-30T06:10:00+00:00", "requests": 1}
    summary = {"ok": True, "records": 1, "events": 2, "actions": {
        "hello": {"activations": 1, "events": 2, "overlap_seconds": 270.0, "read": read}}}
    assert "in 1 request, overlap 270 s" in render(summary, verbose=True)
    assert "overlap" not in render(summary)
