"""``python -m tests.bench.wire REPORT logfwd-args...``: the ``logfwd`` command, with its socket bytes counted.

The forwarder runs unchanged (``logfwd.cli.main``); only ``socket.socket``'s send and receive methods
are wrapped to add up the bytes per peer port. When the command ends, REPORT gets them as JSON, with
the process's peak resident memory (``VmHWM``: since exec, unlike ``ru_maxrss``, which also counts the
parent's pages the child held between fork and exec). That is how the end-to-end benchmark gets the
bytes on the wire without a proxy in the path.

It also splits the process's CPU time (all threads): ``startup_cpu`` (the interpreter, up to here),
``import_cpu`` (the modules a run of the OpenWhisk source into Lumberjack imports, loaded before the
run) and ``run_cpu`` (the command itself). A warm OpenWhisk container, which keeps the process between
runs, pays only ``run_cpu``; a cold one pays all three.
"""

import atexit
import importlib
import json
import socket
import sys
import time
from collections import defaultdict

_STARTED_CPU = time.process_time()

# What ``logfwd run`` with the OpenWhisk source, the Lumberjack sink and a file checkpoint imports, found
# by comparing sys.modules before and after such a run. One it misses is imported during the run, and
# counted in run_cpu: never in our favour.
_RUN_MODULES = ("logfwd.cli", "logfwd.cli.run", "logfwd.cli.progress", "logfwd.runner", "logfwd.pipeline",
                "logfwd.settings", "logfwd.sources.openwhisk.source", "logfwd.sinks.lumberjack.sink",
                "logfwd.checkpoints.file", "logfwd.checkpoints.sharded", "difflib")

_counts: dict[int, dict[str, int]] = defaultdict(lambda: {"sent": 0, "received": 0})


def _port(sock: socket.socket) -> int:
    try:
        return sock.getpeername()[1]
    except (OSError, IndexError):
        return 0


def _counting(method, direction: str, result_is_size: bool):
    def wrapper(self, *args, **kwargs):
        result = method(self, *args, **kwargs)
        size = result if result_is_size else len(result) if direction == "received" else len(args[0])
        _counts[_port(self)][direction] += size or 0
        return result

    return wrapper


def _peak_rss_kb() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))


def install() -> None:
    cls = socket.socket
    cls.send = _counting(cls.send, "sent", True)
    cls.sendall = _counting(cls.sendall, "sent", False)
    cls.recv = _counting(cls.recv, "received", False)
    cls.recv_into = _counting(cls.recv_into, "received", True)


def main() -> int:
    report, args = sys.argv[1], sys.argv[2:]
    cpu = {"startup_cpu": _STARTED_CPU}

    def write() -> None:
        with open(report, "w") as file:
            json.dump({"peak_rss_kb": _peak_rss_kb(), **cpu,
                       "ports": {str(port): counts for port, counts in _counts.items()}}, file)

    atexit.register(write)
    install()
    for module in _RUN_MODULES:
        importlib.import_module(module)
    loaded = time.process_time()
    cpu["import_cpu"] = loaded - _STARTED_CPU
    from logfwd.cli import main as logfwd_main
    try:
        return logfwd_main(args)
    finally:
        cpu["run_cpu"] = time.process_time() - loaded


if __name__ == "__main__":
    sys.exit(main())
