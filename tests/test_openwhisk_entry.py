"""The OpenWhisk action entry as OpenWhisk's Python runtime runs it: imported once at the container's
/init (the zip's ``__main__.py``, under the name ``main__``), then ``main(params)`` once per activation
with that activation's ``__OW_*`` variables set in ``os.environ``."""

import json
import os
import subprocess
import sys
from pathlib import Path

ACTIONS = Path(__file__).resolve().parents[1] / "actions"

# Modules a forwarding run of the default source, sink and stores needs: imported at /init.
PREPARED = ("logfwd.runner", "logfwd.pipeline", "logfwd.sources.openwhisk.source", "logfwd.sources.openwhisk.api",
            "logfwd.sinks.lumberjack.sink", "logfwd.sinks.tls", "logfwd.codecs.deflate",
            "logfwd.checkpoints.activation", "logfwd.checkpoints.file", "requests", "urllib3", "http.client", "ssl")

# Runs in a new interpreter: wraps os.environ to record what is read, imports the entry as the runtime's
# launcher does, then runs each activation of argv[2] (params, env) in turn, as the launcher does.
_LAUNCHER = """
import collections.abc, importlib.util, json, os, sys

class Watched(collections.abc.MutableMapping):
    def __init__(self, real):
        self.real, self.read = real, []
    def __getitem__(self, key):
        self.read.append(key)
        return self.real[key]
    def __setitem__(self, key, value):
        self.real[key] = value
    def __delitem__(self, key):
        del self.real[key]
    def __iter__(self):
        self.read.append("(every variable)")
        return iter(self.real)
    def __len__(self):
        return len(self.real)
    def copy(self):
        self.read.append("(every variable)")
        return self.real.copy()

os.environ = watched = Watched(os.environ)
sys.path.insert(0, sys.argv[1])
spec = importlib.util.spec_from_file_location("main__", sys.argv[1] + "/__main__.py")
entry = importlib.util.module_from_spec(spec)
spec.loader.exec_module(entry)
from logfwd.sinks import tls
init = {"read": watched.read, "modules": sorted(sys.modules), "system_cas": tls.system_context.cache_info().currsize}
runs = []
for params, env in json.loads(sys.argv[2]):
    before = set(sys.modules)
    os.environ.update(env)
    result = entry.main(params)
    runs.append({"result": result, "imported": sorted(set(sys.modules) - before)})
print(json.dumps({"init": init, "runs": runs}))
"""


def _launch(activations: list, environ: dict) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOGFWD_", "__OW_"))}
    done = subprocess.run([sys.executable, "-c", _LAUNCHER, str(ACTIONS), json.dumps(activations)],
                          env={**env, **environ}, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_init_imports_what_a_run_needs_and_reads_no_settings():
    # Variables a run would read, present at /init (OpenWhisk passes the first activation's there too):
    # the import must not touch them; each run reads its own.
    trap = {"__OW_API_HOST": "http://127.0.0.1:9", "__OW_API_KEY": "a:b", "LOGFWD_SINK": "statsd",
            "LOGFWD_ACTIONS": "x"}
    init = _launch([], trap)["init"]
    assert set(PREPARED) <= set(init["modules"])
    assert not [key for key in init["read"] if key.startswith(("LOGFWD_", "__OW_")) or key == "(every variable)"]
    assert "dateutil" not in init["modules"]  # only for odd lines: left to the first one
    assert init["system_cas"] == 0  # by the first run that verifies against them, then kept (test_tls_system_context)


def test_two_activations_in_one_process_each_forward_everything(live_emulator, receiver, tmp_path):
    def activation(n: int) -> list:
        params = {"actions": "hello,shop/cart", "logstash_hosts": "127.0.0.1:%d" % receiver.address[1],
                  "logstash_tls": "false", "checkpoint": f"file:{tmp_path / f'checkpoint-{n}.json'}"}
        env = {"__OW_API_HOST": live_emulator.url, "__OW_API_KEY": live_emulator.api_key,
               "__OW_NAMESPACE": "guest", "__OW_ACTION_NAME": "/guest/logfwd/forward",
               "__OW_ACTIVATION_ID": f"{n:032x}", "__OW_DEADLINE": "9999999999999"}
        return [params, env]

    first, second = _launch([activation(1), activation(2)], {})["runs"]
    for run in (first, second):
        assert "error" not in run["result"], run["result"]
        assert run["result"]["records"] == 6 and run["result"]["events"] == 12
    # The first activation imports nothing the init did not (a fresh checkpoint file each time: the
    # second forwards the same 12 lines again, from the same warm process).
    assert first["imported"] == [] and second["imported"] == []
    ids = [event["@metadata"]["_id"] for event in receiver.events]
    assert len(ids) == 24 and len(set(ids)) == 12
