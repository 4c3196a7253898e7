"""serverless.yml with the real tools: Serverless Framework v3 and serverless-openwhisk 0.18.4 from npm.

The tools are installed once into .tools/serverless (git-ignored) from the committed lock file in
tests/tools/serverless, and reused. Without npm or the registry the tests fail, loudly: they never skip.
The service runs from a scratch copy (serverless.yml, the local plugin, the handler file and a fresh
build) so that no test writes into the work tree.

- `serverless package` and `serverless print` run offline, without credentials.
- `serverless deploy` and `serverless remove` run against a loopback server that answers like the
  OpenWhisk API and records every request: that is where the deployed code, limits, parameters,
  annotations, trigger feed and rule can be read exactly as OpenWhisk would receive them.
"""

import base64
import io
import json
import os
import shutil
import subprocess
import sys
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

import npmtools

from test_manifest import DRAIN_PARAMETERS, SENT_PARAMETERS, SPECS, env_name

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / ".tools" / "serverless"
SERVICE_FILES = ("serverless.yml", ".serverless_plugins/shards.js", ".serverless_plugins/openwhisk-fixes.js", "actions/__main__.py")
API_KEY = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:secret"
CONFIG_VARIABLES = ({env_name(p) for p in SENT_PARAMETERS | DRAIN_PARAMETERS}
                    | {"LOGFWD_SCHEDULE", "LOGFWD_API_KEY", "LOGFWD_SHARDS", "LOGFWD_DRAIN_LOG_SINK"})


def install_tools() -> Path:
    """The tools as the committed lock file (tests/tools/serverless) says, installed on first use."""
    try:
        binary = npmtools.install("serverless") / "node_modules" / ".bin" / "serverless"
    except npmtools.ToolInstallError as exc:
        pytest.fail(str(exc), pytrace=False)
    if not binary.exists():
        pytest.fail(f"npm ci installed tests/tools/serverless but {binary} is missing")
    return binary


@pytest.fixture(scope="module")
def serverless(tmp_path_factory):
    """A runner for the real `serverless` CLI inside a scratch copy of the service."""
    binary = install_tools()
    service = tmp_path_factory.mktemp("service")
    for name in SERVICE_FILES:
        (service / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, service / name)
    (service / "node_modules").symlink_to(TOOLS / "node_modules")
    build = subprocess.run([sys.executable, str(ROOT / ".ci" / "build_action.py"), "--no-measure",
                            "--out", str(service / "build" / "logfwd-action.zip")],
                           capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr
    home = tmp_path_factory.mktemp("home")  # no ~/.wskprops, no serverless login or settings

    def run(*args: str, env: dict | None = None, ok: bool = True) -> subprocess.CompletedProcess:
        environ = {key: value for key, value in os.environ.items()
                   if not key.startswith(("OW_", "SLS_", "SERVERLESS_")) and key not in CONFIG_VARIABLES}
        environ.update(HOME=str(home), SLS_TELEMETRY_DISABLED="1", SLS_NOTIFICATIONS_MODE="off",
                       SLS_INTERACTIVE_SETUP_DISABLE="1", CI="1", **(env or {}))
        result = subprocess.run([str(binary), *args], cwd=service, env=environ,
                                capture_output=True, text=True, timeout=180)
        assert (result.returncode == 0) == ok, f"serverless {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        return result

    run.service = service
    return run


def compiled(output: str, kind: str, name: str) -> dict:
    """serverless-openwhisk's verbose log line 'Compiled <kind> (<name>): <json>'."""
    prefix = f"Compiled {kind} ({name}): "
    line = next((line for line in output.splitlines() if line.startswith(prefix)), None)
    assert line is not None, f"no '{prefix}' in:\n{output}"
    return json.loads(line[len(prefix):])


# --- offline: package and print ------------------------------------------------------------------


def test_package_runs_offline_without_credentials(serverless):
    result = serverless("package", "--verbose")
    output = result.stdout + result.stderr
    function = compiled(output, "Function", "forward")
    assert function["actionName"] == "logfwd/forward"
    action = function["action"]
    assert action["exec"] == {"main": "main", "kind": "python:3.11", "code": "<hidden>"}
    assert action["limits"]["timeout"] == 300_000 and action["limits"]["memory"] == 256
    assert action["annotations"] == [{"key": "provide-api-key", "value": True}]
    parameters = {p["key"]: p["value"] for p in action["parameters"]}
    assert set(parameters) == SENT_PARAMETERS
    assert set(parameters.values()) == {""}, "unset variables must arrive as '' (the action's defaults)"
    trigger = compiled(output, "Trigger", "logfwd-alarm")
    assert trigger["feed"]["namespace"] == "whisk.system" and trigger["feed"]["feedName"] == "alarms/alarm"
    assert trigger["feed"]["params"]["cron"] == "* * * * *"  # the default schedule: every minute
    rule = compiled(output, "Rule", "forward")
    assert rule == [{"ruleName": "logfwd-alarm-forward", "overwrite": True, "trigger": "/_/logfwd-alarm",
                     "action": "/_/logfwd/forward", "namespace": "_"}]


def test_print_resolves_parameters_and_schedule_from_the_environment(serverless):
    env = {env_name(p): f"value of {p}" for p in SENT_PARAMETERS}
    env["LOGFWD_SCHEDULE"] = "*/5 * * * *"
    config = json.loads(serverless("print", "--format", "json", env=env).stdout)
    function = config["functions"]["forward"]
    assert config["provider"]["runtime"] == function["runtime"] == "python:3.11"
    assert function["handler"] == "actions/__main__.main"
    assert function["timeout"] == 300 and function["memory"] == 256  # seconds and MB here
    assert function["annotations"] == {"provide-api-key": True}
    assert function["parameters"] == {p: f"value of {p}" for p in SENT_PARAMETERS}
    (event,) = function["events"]
    cron = event["schedule"]["rate"]
    assert cron == "cron(*/5 * * * *)" and len(cron[5:-1].split(" ")) == 5


def test_logfwd_shards_deploys_n_forwarders_each_with_its_shard_trigger_and_rule(serverless):
    one = json.loads(serverless("print", "--format", "json").stdout)["functions"]
    assert list(one) == ["forward", "drain"] and "shard" not in one["forward"]["parameters"]  # as before
    functions = json.loads(serverless("print", "--format", "json", env={"LOGFWD_SHARDS": "3"}).stdout)["functions"]
    assert list(functions) == ["forward", "forward-2", "forward-3", "drain"]
    assert functions.pop("drain") == one["drain"]
    for i, (key, function) in enumerate(functions.items(), start=1):
        suffix = "" if i == 1 else f"-{i}"
        assert function["name"] == f"logfwd/forward{suffix}"
        assert function["parameters"] == {**one["forward"]["parameters"], "shard": f"{i}/3"}
        assert function["events"] == [{"schedule": {"rate": "cron(* * * * *)", "trigger": f"logfwd-alarm{suffix}",
                                                    "name": f"logfwd-alarm{suffix}",
                                                    "rule": f"logfwd-alarm-forward{suffix}"}}]
        same = {k: v for k, v in function.items() if k not in ("name", "parameters", "events")}
        assert same == {k: v for k, v in one["forward"].items() if k not in ("name", "parameters", "events")}


def test_packaging_shards_compiles_each_action_trigger_and_rule(serverless):
    result = serverless("package", "--verbose", env={"LOGFWD_SHARDS": "2"})
    output = result.stdout + result.stderr
    for key, suffix in (("forward", ""), ("forward-2", "-2")):
        function = compiled(output, "Function", key)
        assert function["actionName"] == f"logfwd/forward{suffix}"
        parameters = {p["key"]: p["value"] for p in function["action"]["parameters"]}
        assert parameters["shard"] == ("1/2" if not suffix else "2/2")
        assert compiled(output, "Trigger", f"logfwd-alarm{suffix}")["feed"]["feedName"] == "alarms/alarm"
        assert compiled(output, "Rule", key)[0]["action"] == f"/_/logfwd/forward{suffix}"


def test_a_bad_shard_count_stops_the_deployment_with_the_reason(serverless):
    result = serverless("print", env={"LOGFWD_SHARDS": "two"}, ok=False)
    assert "LOGFWD_SHARDS must be a whole number of forwarders from 1 to 100, not 'two'" in result.stdout + result.stderr


def test_serverless_and_wskdeploy_read_the_same_variables():
    config = yaml.safe_load((ROOT / "serverless.yml").read_text())
    functions = config["custom"]["functions"]  # .serverless_plugins/shards.js deploys them (tests below)
    parameters = functions["forward"]["parameters"]
    assert set(parameters) == SENT_PARAMETERS
    for name, value in parameters.items():
        assert value == f"${{env:{env_name(name)}, ''}}", name
    drain = functions["drain"]["parameters"]
    assert set(drain) == DRAIN_PARAMETERS
    for name, value in drain.items():
        assert value == ({"source": "logplex", "sink": "statsd,${env:LOGFWD_DRAIN_LOG_SINK, ''}"}.get(name)
                         or f"${{env:{env_name(name)}, ''}}"), name


def test_the_drain_is_the_web_entry_of_the_same_zip(serverless):
    config = json.loads(serverless("print", "--format", "json").stdout)
    drain = config["functions"]["drain"]
    assert drain["handler"] == "actions/__main__.web" and drain["name"] == "logfwd-drain/drain"
    assert drain["package"]["artifact"] == config["functions"]["forward"]["package"]["artifact"]
    assert drain["annotations"] == {"web-export": True, "raw-http": True, "final": True}


# --- deploy and remove against a recording OpenWhisk API ----------------------------------------


class Recorder(BaseHTTPRequestHandler):
    """Answers every request the way OpenWhisk answers a success, and keeps it."""

    requests: list

    def answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        self.requests.append({"method": self.command, "path": path, "query": query,
                              "auth": self.headers.get("Authorization"),
                              "body": json.loads(body) if body else None})
        collection = path.rstrip("/").rsplit("/", 1)[-1] in ("actions", "packages", "triggers", "rules")
        payload = b"[]" if self.command == "GET" and collection else b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_PUT = do_POST = do_DELETE = answer

    def log_message(self, *args):
        pass


@pytest.fixture
def openwhisk_api():
    requests: list = []
    handler = type("RecordingHandler", (Recorder,), {"requests": requests})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", requests
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def find(requests: list, method: str, path: str) -> list:
    return [r for r in requests if r["method"] == method and r["path"] == "/api/v1/namespaces/" + path]


def test_deploy_sends_the_artifact_binds_the_alarm_updates_and_removes_everything(
        serverless, openwhisk_api):
    url, requests = openwhisk_api
    env = {"OW_APIHOST": url, "OW_AUTH": API_KEY, "MONITORED_ACTIONS": "resize,billing/*",
           "LOGSTASH_HOSTS": "listener.example:5015", "LOGFWD_SCHEDULE": "*/2 * * * *"}
    serverless("deploy", env=env)
    expected_auth = "Basic " + base64.b64encode(API_KEY.encode()).decode()
    assert {r["auth"] for r in requests} == {expected_auth}

    (package,) = find(requests, "PUT", "_/packages/logfwd")
    (action,) = find(requests, "PUT", "_/actions/logfwd/forward")
    body = action["body"]
    assert body["exec"]["kind"] == "python:3.11" and body["exec"]["main"] == "main"
    assert body["limits"]["timeout"] == 300_000 and body["limits"]["memory"] == 256
    assert {"key": "provide-api-key", "value": True} in body["annotations"]
    parameters = {p["key"]: p["value"] for p in body["parameters"]}
    assert set(parameters) == SENT_PARAMETERS
    assert parameters["actions"] == "resize,billing/*" and parameters["logstash_hosts"] == "listener.example:5015"

    # The code OpenWhisk receives is exactly `make build`'s artifact, __main__.py at the root.
    with zipfile.ZipFile(io.BytesIO(base64.b64decode(body["exec"]["code"]))) as deployed, \
            zipfile.ZipFile(serverless.service / "build" / "logfwd-action.zip") as built:
        assert sorted(deployed.namelist()) == sorted(built.namelist())
        assert all(deployed.read(name) == built.read(name) for name in built.namelist())
        assert "__main__.py" in deployed.namelist()

    # The drain: a raw web action from the same zip, its own entry, no OpenWhisk key asked for.
    (drain,) = find(requests, "PUT", "_/actions/logfwd-drain/drain")
    assert drain["body"]["exec"]["main"] == "web" and drain["body"]["exec"]["kind"] == "python:3.11"
    annotations = {a["key"]: a["value"] for a in drain["body"]["annotations"]}
    assert annotations["web-export"] is True and annotations["raw-http"] is True
    assert "require-whisk-auth" not in annotations and "provide-api-key" not in annotations
    drain_parameters = {p["key"]: p["value"] for p in drain["body"]["parameters"]}
    # LOGFWD_DRAIN_LOG_SINK unset: "statsd," is statsd alone (an empty name in the list is no sink).
    assert drain_parameters["source"] == "logplex" and drain_parameters["sink"] == "statsd,"
    assert set(drain_parameters) == DRAIN_PARAMETERS

    (trigger,) = find(requests, "PUT", "_/triggers/logfwd-alarm")
    assert {"key": "feed", "value": "/whisk.system/alarms/alarm"} in trigger["body"]["annotations"]
    feeds = find(requests, "POST", "whisk.system/actions/alarms/alarm")
    created = [f["body"] for f in feeds if f["body"]["lifecycleEvent"] == "CREATE"]
    assert created == [{"lifecycleEvent": "CREATE", "authKey": API_KEY, "triggerName": "/_/logfwd-alarm",
                        "cron": "*/2 * * * *", "trigger_payload": "{}"}], \
        "the alarm feed must be bound, or the trigger never fires"
    (rule,) = find(requests, "PUT", "_/rules/logfwd-alarm-forward")
    assert rule["body"] == {"action": "/_/logfwd/forward", "trigger": "/_/logfwd-alarm"}
    assert find(requests, "POST", "_/rules/logfwd-alarm-forward")[0]["body"] == {"status": "active"}

    # Changing one parameter without touching the trigger: the README's `deploy function` step.
    requests.clear()
    serverless("deploy", "function", "-f", "forward", env={**env, "MONITORED_ACTIONS": "resize,!resize"})
    (action,) = [r for r in requests if r["method"] != "GET"]
    assert action["method"] == "PUT" and action["path"].endswith("/actions/logfwd/forward")
    assert {p["key"]: p["value"] for p in action["body"]["parameters"]}["actions"] == "resize,!resize"

    requests.clear()
    serverless("remove", env=env)
    deleted = {r["path"].removeprefix("/api/v1/namespaces/_/") for r in requests if r["method"] == "DELETE"}
    assert deleted == {"rules/logfwd-alarm-forward", "actions/logfwd/forward", "triggers/logfwd-alarm",
                       "packages/logfwd", "actions/logfwd-drain/drain", "packages/logfwd-drain"}
    unbound = [f["body"] for f in find(requests, "POST", "whisk.system/actions/alarms/alarm")]
    assert unbound == [{"lifecycleEvent": "DELETE", "authKey": API_KEY, "triggerName": "/_/logfwd-alarm"}]
