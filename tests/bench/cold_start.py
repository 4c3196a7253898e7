"""Cold start: a fresh interpreter imports the action entry and handles one empty run.

The import is what OpenWhisk's Python runtime does at the container's /init (reported apart, as the
``initTime`` annotation), the run what its first /run does; the process's time is both, plus starting
the interpreter. Wall times, and the CPU of the import (with the interpreter's start) and of the run.

The entry comes from the unzipped ``build/logfwd-action.zip`` when it exists (run with ``-I -S``, so
only what the zip vendors is importable, as on OpenWhisk), else from ``actions/`` in this venv. The
empty run talks to a real emulator holding no activations and never needs the receiver.
"""

import json
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from statistics import median

from logfwd_dev.emulator import DEFAULT_API_KEY

from . import procs

ARTIFACT = procs.ROOT / "build" / "logfwd-action.zip"

# Runs in the fresh interpreter: argv = entry directory, params JSON. Prints its own timings.
_PROBE = """
import importlib.util, json, sys, time
start = time.perf_counter()
sys.path.insert(0, sys.argv[1])
spec = importlib.util.spec_from_file_location("action_entry", sys.argv[1] + "/__main__.py")
entry = importlib.util.module_from_spec(spec)
spec.loader.exec_module(entry)
imported, imported_cpu = time.perf_counter(), time.process_time()
result = entry.main(json.loads(sys.argv[2]))
done, done_cpu = time.perf_counter(), time.process_time()
print(json.dumps({"import_s": imported - start, "run_s": done - imported, "import_cpu_s": imported_cpu,
                  "run_cpu_s": done_cpu - imported_cpu, "result": result, "modules": len(sys.modules)}))
"""


def run(repeats: int, work: Path) -> dict:
    with tempfile.TemporaryDirectory(prefix="logfwd-action-", dir=work) as unpacked:
        if ARTIFACT.is_file():
            with zipfile.ZipFile(ARTIFACT) as archive:
                archive.extractall(unpacked)
            entry, flags, source = Path(unpacked), ["-I", "-S", "-B"], str(ARTIFACT.relative_to(procs.ROOT))
        else:
            entry, flags, source = procs.ROOT / "actions", ["-I", "-B"], "actions/ (no build/logfwd-action.zip)"
        with procs.emulator(["hello"], 0, 10, 60, work) as (url, _):
            samples = [_sample(entry, flags, url, work / f"checkpoint-{i}.json") for i in range(repeats)]
    result = samples[-1]["result"]
    return {
        "source": source,
        "artifact_bytes": ARTIFACT.stat().st_size if ARTIFACT.is_file() else None,
        "repeats": repeats,
        "import_ms": round(median(s["import_s"] for s in samples) * 1000, 1),
        "empty_run_ms": round(median(s["run_s"] for s in samples) * 1000, 1),
        "import_cpu_ms": round(median(s["import_cpu_s"] for s in samples) * 1000, 1),
        "empty_run_cpu_ms": round(median(s["run_cpu_s"] for s in samples) * 1000, 1),
        "process_ms": round(median(s["process_s"] for s in samples) * 1000, 1),
        "import_ms_each": [round(s["import_s"] * 1000, 1) for s in samples],
        "modules_loaded": samples[-1]["modules"],
        "empty_run_ok": "error" not in result and result.get("events") == 0,
    }


def _sample(entry: Path, flags: list[str], url: str, checkpoint: Path) -> dict:
    params = {"actions": "hello", "logstash_hosts": "127.0.0.1:9", "logstash_tls": "false",
              "checkpoint": f"file:{checkpoint}"}
    now_ms = int(time.time() * 1000)
    env = {"__OW_API_HOST": url, "__OW_API_KEY": DEFAULT_API_KEY, "__OW_NAMESPACE": "guest",
           "__OW_ACTION_NAME": "/guest/logfwd/forward", "__OW_ACTIVATION_ID": "0" * 32,
           "__OW_DEADLINE": str(now_ms + 60_000), "PATH": "/usr/bin:/bin"}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, *flags, "-c", _PROBE, str(entry), json.dumps(params)],
                          capture_output=True, text=True, env=env, timeout=120)
    process_s = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"the action entry failed in a fresh interpreter:\n{done.stderr[-3000:]}")
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "process_s": process_s}
