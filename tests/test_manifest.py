"""manifest.yaml against the OpenWhisk and wskdeploy rules (../shared/reference/openwhisk.md) and
against what the action accepts (logfwd.settings).

wskdeploy is a Go binary that is not in the package registries, so its one behaviour that matters
here, the substitution of ``$VAR`` / ``${VAR}`` in string values, is emulated below as its source
does it: an unset variable becomes "", every substituted value is a string.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from logfwd.errors import ConfigError
from logfwd.settings import declared, load_settings
from logfwd_dev.manifest_shards import shard_manifest

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = yaml.safe_load((ROOT / "manifest.yaml").read_text())
PACKAGE = MANIFEST["packages"]["logfwd"]
ACTION = PACKAGE["actions"]["forward"]
PYTHON_KINDS = {"python:3.10", "python:3.11", "python:default"}  # what Apache OpenWhisk enables
ALARM_FEED = "/whisk.system/alarms/alarm"
# On OpenWhisk the runtime sets these; the manifest must not need them.
PLATFORM = {"__OW_API_HOST": "https://openwhisk.example.com", "__OW_API_KEY": "uuid:key",
            "__OW_NAMESPACE": "guest", "__OW_ACTION_NAME": "/guest/logfwd/forward"}
SPECS = declared("openwhisk", "lumberjack")
# The key comes from the provide-api-key annotation; the forwarder is the default pipeline (no source/sink);
# a shard is set per forwarder action by `make manifest SHARDS=N` (and .serverless_plugins/shards.js).
SENT_PARAMETERS = set(SPECS) - {"api_key", "source", "sink", "shard"}
DRAIN = MANIFEST["packages"]["logfwd-drain"]
# The drain names its pipeline; it keeps no checkpoint and has no deadline to tune.
# With LOGFWD_DRAIN_LOG_SINK the drain's lines also go to a log sink: it takes the log sinks' parameters too.
DRAIN_SINK = "statsd,${LOGFWD_DRAIN_LOG_SINK}"
DRAIN_PARAMETERS = set(declared("logplex", "statsd,lumberjack,syslog,tcp")) - {"checkpoint", "checkpoint_username", "checkpoint_password",
                                                         "deadline_grace"}


def env_name(parameter: str) -> str:
    """The deploy-time variable of a parameter, the same for manifest.yaml and serverless.yml."""
    if parameter == "actions":
        return "MONITORED_ACTIONS"
    if parameter.startswith("logstash_"):
        return parameter.upper()
    return "LOGFWD_" + parameter.upper()


def wskdeploy_interpolate(value, environ: dict):
    """wskdeploy's substitution (wskenv.InterpolateStringWithEnvVar): only strings that start with
    '$' or hold '${...}' are touched; each name is replaced by its variable, unset meaning ''."""
    if not isinstance(value, str):
        return value
    is_variable = value.startswith("$") and len(value) > 1
    is_embedded = "${" in value and value.count("{") == value.count("}")
    if not (is_variable or is_embedded):
        return value
    result = value
    for name in [part for part in re.split(r"[${}]", value) if part]:
        if "$${" + name + "}" in result:
            result = result.replace("$${" + name + "}", "${" + name + "}")
        elif "$" + name in result:
            result = result.replace("$" + name, environ.get(name, ""))
        elif "${" + name + "}" in result:
            result = result.replace("${" + name + "}", environ.get(name, ""))
    return result


def resolve_inputs(inputs: dict, environ: dict) -> dict:
    """Inputs as wskdeploy sends them: a multi-line input of type string is interpolated."""
    resolved = {}
    for name, spec in inputs.items():
        assert isinstance(spec, dict) and spec.get("type") == "string", \
            f"input {name}: declare type: string (a typed input is not interpolated by wskdeploy)"
        resolved[name] = wskdeploy_interpolate(spec["value"], environ)
    return resolved


# --- the rules ------------------------------------------------------------------------------------


def test_the_action_is_the_built_zip_with_an_exact_python_kind():
    assert ACTION["runtime"] in PYTHON_KINDS and ACTION["runtime"] == "python:3.11"
    assert ACTION["function"].endswith(".zip")
    # The very file `make build` writes.
    build_line = next(line for line in (ROOT / "Makefile").read_text().splitlines() if "build_action.py" in line)
    assert f"--out {ACTION['function']}" in build_line
    assert ACTION.get("main", "main") == "main"


def test_limits_use_wskdeploy_units_and_leave_the_run_time_to_work():
    limits = ACTION["limits"]
    assert set(limits) <= {"timeout", "memorySize", "logSize"}
    timeout_ms, memory_mb, log_mb = limits["timeout"], limits["memorySize"], limits["logSize"]
    assert isinstance(timeout_ms, int) and 100 <= timeout_ms <= 300_000, "timeout is in ms, at most 5 min"
    assert isinstance(memory_mb, int) and 128 <= memory_mb <= 512, "memorySize is in MB"
    assert isinstance(log_mb, int) and 0 <= log_mb <= 10, "logSize is in MB"
    # The action stops pulling deadline_grace before its deadline: most of the time must remain.
    grace_s = SPECS["deadline_grace"].default
    assert timeout_ms / 1000 - grace_s >= 4 * grace_s


def test_the_action_gets_an_api_key_from_the_platform():
    assert ACTION["annotations"]["provide-api-key"] is True  # a boolean, not the string "true"


def test_parameters_are_package_inputs_and_exactly_the_ones_the_action_accepts():
    assert "inputs" not in ACTION, "action inputs would be replaced by `wsk action update -p`"
    assert set(PACKAGE["inputs"]) == SENT_PARAMETERS
    assert "api_key" not in PACKAGE["inputs"], "never store the API key as a parameter"


def test_every_parameter_comes_from_its_documented_variable():
    for name, spec in PACKAGE["inputs"].items():
        assert spec["value"] == "$" + env_name(name), name
        assert spec.get("description"), f"input {name} needs a description"


def test_the_alarm_trigger_feeds_a_cron_to_the_rule_that_runs_the_action():
    triggers, rules = PACKAGE["triggers"], PACKAGE["rules"]
    assert len(triggers) == 1 and len(rules) == 1
    (trigger_name, trigger), (_, rule) = next(iter(triggers.items())), next(iter(rules.items()))
    assert trigger["feed"] == ALARM_FEED
    assert set(trigger["inputs"]) == {"cron"}, "feed inputs are feed parameters: the cron only"
    assert rule == {"trigger": trigger_name, "action": "forward"}
    cron = wskdeploy_interpolate(trigger["inputs"]["cron"], {"LOGFWD_SCHEDULE": "*/5 * * * *"})
    assert cron == "*/5 * * * *"
    # No default exists in wskdeploy: unset, the feed would get "" (the README exports a default).
    assert wskdeploy_interpolate(trigger["inputs"]["cron"], {}) == ""


# --- what the action makes of the substituted values ---------------------------------------------


def test_substitution_emulation_follows_wskdeploy():
    env = {"A": "x", "PEM": "-----BEGIN X-----\nabc$def\n-----END X-----\n"}
    assert wskdeploy_interpolate("$A", env) == "x"
    assert wskdeploy_interpolate("$UNSET", env) == ""
    assert wskdeploy_interpolate("pre-${A}-post", env) == "pre-x-post"
    assert wskdeploy_interpolate("$PEM", env) == env["PEM"]  # substituted once, never re-scanned
    assert wskdeploy_interpolate("* * * * *", env) == "* * * * *"
    assert wskdeploy_interpolate(True, env) is True


def test_with_every_variable_unset_only_the_truly_required_parameters_are_reported():
    params = resolve_inputs(PACKAGE["inputs"], environ={})
    assert all(value == "" for value in params.values())

    with pytest.raises(ConfigError) as missing:
        load_settings(params, environ=PLATFORM, wskprops=None)
    assert missing.value.parameter == "actions" and "required" in str(missing.value)

    params = resolve_inputs(PACKAGE["inputs"], {"MONITORED_ACTIONS": "resize"})
    with pytest.raises(ConfigError) as missing:
        load_settings(params, environ=PLATFORM, wskprops=None)
    assert missing.value.parameter == "logstash_hosts"

    params = resolve_inputs(PACKAGE["inputs"], {"MONITORED_ACTIONS": "resize", "LOGSTASH_HOSTS": "ls:5044"})
    settings = load_settings(params, environ=PLATFORM, wskprops=None)
    assert settings.warnings == ()
    assert settings.apihost == PLATFORM["__OW_API_HOST"] and settings.api_key.reveal() == "uuid:key"
    assert settings.checkpoint == "activation"  # the OpenWhisk default, not the CLI's file
    for name in SENT_PARAMETERS - {"actions", "logstash_hosts", "apihost", "namespace", "checkpoint"}:
        assert getattr(settings, name) == SPECS[name].default, f"'' did not mean the default for {name}"


def test_outside_openwhisk_a_missing_api_host_says_how_to_fix_it():
    params = resolve_inputs(PACKAGE["inputs"], {"MONITORED_ACTIONS": "a", "LOGSTASH_HOSTS": "ls:5044"})
    with pytest.raises(ConfigError) as missing:
        load_settings(params, environ={}, wskprops=None)
    assert missing.value.parameter == "apihost"


def test_string_values_from_the_environment_become_typed_settings():
    pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    environ = {
        "MONITORED_ACTIONS": "resize, billing/*, !billing/health", "LOGSTASH_HOSTS": "a.example:5015,b.example",
        "LOGSTASH_TLS": "true", "LOGSTASH_CA": pem, "LOGFWD_FIELDS": '{"token": "t0k", "type": "openwhisk"}',
        "LOGFWD_BATCH_SIZE": "500", "LOGFWD_COMPRESSION_LEVEL": "0", "LOGFWD_OVERLAP": "420",
        "LOGFWD_API_VERIFY": "false", "LOGFWD_NAMESPACE": "team",
    }
    settings = load_settings(resolve_inputs(PACKAGE["inputs"], environ), environ=PLATFORM, wskprops=None)
    assert settings.actions == ("resize", "billing/*", "!billing/health")
    assert settings.logstash_hosts == (("a.example", 5015), ("b.example", 5044))
    assert settings.logstash_ca == pem
    assert settings.fields == {"token": "t0k", "type": "openwhisk"}
    assert (settings.batch_size, settings.compression_level, settings.overlap) == (500, 0, 420.0)
    assert settings.api_verify is False and settings.namespace == "team"


# --- make manifest SHARDS=N ------------------------------------------------------------------------


def test_one_shard_renders_the_committed_manifest_unchanged():
    assert shard_manifest(MANIFEST, 1) == MANIFEST


def test_make_manifest_renders_a_forwarder_trigger_and_rule_per_shard(tmp_path):
    (tmp_path / "manifest.yaml").write_text((ROOT / "manifest.yaml").read_text())
    done = subprocess.run([sys.executable, "-m", "logfwd_dev.manifest_shards", "--shards", "3",
                           str(tmp_path / "manifest.yaml")], capture_output=True, text=True, check=True)
    assert "with 3 forwarder(s)" in done.stdout
    rendered = yaml.safe_load((tmp_path / "manifest-shards.yaml").read_text())
    assert rendered["packages"]["logfwd-drain"] == DRAIN  # other pipelines are deployed once, as they are
    package = rendered["packages"]["logfwd"]
    assert package["inputs"] == PACKAGE["inputs"]
    assert list(package["actions"]) == ["forward", "forward-2", "forward-3"]
    assert list(package["triggers"]) == ["logfwd-alarm", "logfwd-alarm-2", "logfwd-alarm-3"]
    for i, (name, action) in enumerate(package["actions"].items(), start=1):
        assert {k: v for k, v in action.items() if k != "inputs"} == ACTION
        shard = resolve_inputs(action["inputs"], {})
        assert shard == {"shard": f"{i}/3"}
        suffix = "" if i == 1 else f"-{i}"
        assert package["rules"][f"logfwd-alarm-forward{suffix}"] == {"trigger": f"logfwd-alarm{suffix}", "action": name}
        assert package["triggers"][f"logfwd-alarm{suffix}"] == PACKAGE["triggers"]["logfwd-alarm"]
        # What the action makes of its parameters: package inputs, then its own.
        params = resolve_inputs(PACKAGE["inputs"], {"MONITORED_ACTIONS": "*", "LOGSTASH_HOSTS": "ls"}) | shard
        settings = load_settings(params, environ={**PLATFORM, "__OW_ACTION_NAME": f"/guest/logfwd/{name}"},
                                 wskprops=None)
        assert settings.shard == (i, 3)


def test_make_manifest_refuses_a_count_it_cannot_deploy(tmp_path):
    (tmp_path / "manifest.yaml").write_text((ROOT / "manifest.yaml").read_text())
    done = subprocess.run([sys.executable, "-m", "logfwd_dev.manifest_shards", "--shards", "0",
                           str(tmp_path / "manifest.yaml")], capture_output=True, text=True)
    assert done.returncode == 2 and "SHARDS must be a whole number of forwarders from 1 to 100" in done.stderr
    assert not (tmp_path / "manifest-shards.yaml").exists()


# --- the Heroku log drain: a raw web action in its own package --------------------------------------


def test_the_drain_is_a_raw_web_action_of_the_same_zip_with_its_own_entry():
    drain = DRAIN["actions"]["drain"]
    assert drain["function"] == ACTION["function"] and drain["runtime"] == "python:3.11"
    assert drain["main"] == "web" and drain["web"] == "raw"
    assert "provide-api-key" not in drain.get("annotations", {})  # it reads no API: no key for it
    assert "require-whisk-auth" not in drain.get("annotations", {})  # the apps' credentials protect it
    import importlib.util
    spec = importlib.util.spec_from_file_location("entry", ROOT / "actions" / "__main__.py")
    entry = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(entry)
    assert callable(getattr(entry, drain["main"])) and callable(getattr(entry, ACTION.get("main", "main")))


def test_the_drain_inputs_are_its_pipeline_parameters_and_load_as_settings():
    assert set(DRAIN["inputs"]) == DRAIN_PARAMETERS
    environ = {"LOGFWD_LOGPLEX_CREDENTIALS": '{"shop": "logplex:pw"}', "LOGFWD_STATSD_CLUSTER": "10.0.0.1:8125"}
    params = resolve_inputs(DRAIN["inputs"], environ)
    settings = load_settings(params, {**PLATFORM, "__OW_ACTION_NAME": "/guest/logfwd-drain/drain"})
    assert (settings.source, settings.sink) == ("logplex", "statsd")
    assert settings.statsd_cluster == (("10.0.0.1", 8125),) and settings.warnings == ()


def test_the_drain_tees_its_lines_to_the_log_sink_that_a_variable_names():
    assert DRAIN["inputs"]["sink"]["value"] == DRAIN_SINK
    environ = {"LOGFWD_LOGPLEX_CREDENTIALS": '{"shop": "logplex:pw"}', "LOGFWD_STATSD_CLUSTER": "10.0.0.1:8125",
               "LOGFWD_DRAIN_LOG_SINK": "lumberjack", "LOGSTASH_HOSTS": "logstash.example:5044"}
    settings = load_settings(resolve_inputs(DRAIN["inputs"], environ), PLATFORM)
    assert settings.sinks == ("statsd", "lumberjack") and settings.warnings == ()
    assert settings.logstash_hosts == (("logstash.example", 5044),)
    environ.update(LOGFWD_DRAIN_LOG_SINK="syslog", LOGFWD_SYSLOG_HOST="logs.example:6514")
    settings = load_settings(resolve_inputs(DRAIN["inputs"], environ), PLATFORM)
    assert settings.sinks == ("statsd", "syslog") and settings.syslog_host == ("logs.example", 6514)
    # The Logstash of the forwarder package, set in the same shell, is not the drain's: said, not used.
    assert settings.warnings == ("parameter 'logstash_hosts' belongs to sink 'lumberjack', not to source "
                                 "'logplex' and sink 'statsd' and sink 'syslog': ignored",)


def test_the_drain_without_its_credentials_is_a_clear_configuration_error():
    params = resolve_inputs(DRAIN["inputs"], {})
    with pytest.raises(ConfigError) as err:
        load_settings(params, PLATFORM)
    assert "logplex_credentials" in str(err.value) and "statsd_cluster" in str(err.value)
