"""``python -m tests.bench.wire``: the OpenWhisk action run again and again in one process, as in a
container of OpenWhisk's Python runtime, with its socket bytes counted.

The process first does what the runtime does at the container's /init: it imports the action entry,
``actions/__main__.py`` (as the runtime's launcher imports the zip's ``__main__.py``, under the name
``main__``), and answers one JSON line, ``{"init_cpu": ...}``: the process's CPU so far (interpreter
start, these imports and what the entry prepares at import: OpenWhisk's ``initTime``, reported apart
from the runs). Then each line on stdin is one activation, ``{"params": {...}, "env": {...}}``: ``env``
goes into ``os.environ`` (the launcher sets each run's ``__OW_*`` variables there) and the entry's
``main(params)`` runs, exactly as on the platform. Each answer is one JSON line: ``main``'s result
and what it wrote to stdout, the bytes sent and received per peer port, the run's CPU time (all
threads) and the process's total so far, and the process's peak resident memory (``VmHWM``: since
exec, unlike ``ru_maxrss``, which also counts the parent's pages the child held between fork and
exec). Only ``socket.socket``'s send and receive methods are wrapped, to add up the bytes per peer
port: that is how the end-to-end benchmark gets the bytes on the wire without a proxy in the path.
"""

import contextlib
import importlib.util
import io
import json
import os
import socket
import sys
import time
from collections import defaultdict
from pathlib import Path

ENTRY = Path(__file__).resolve().parents[2] / "actions" / "__main__.py"

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


def load_entry(path: Path = ENTRY):
    """The action's module, imported as the runtime's launcher imports it at /init."""
    spec = importlib.util.spec_from_file_location("main__", path)
    entry = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(entry)
    return entry


def main() -> int:
    install()
    answers = sys.stdout
    entry = load_entry()
    answers.write(json.dumps({"init_cpu": time.process_time(), "modules": len(sys.modules)}) + "\n")
    answers.flush()
    for line in sys.stdin:
        activation = json.loads(line)
        os.environ.update(activation["env"])
        _counts.clear()
        output = io.StringIO()
        started = time.process_time()
        with contextlib.redirect_stdout(output):
            result = entry.main(activation["params"])
        done = time.process_time()
        answers.write(json.dumps({"result": result, "output": output.getvalue(), "cpu": done - started,
                                  "process_cpu": done, "peak_rss_kb": _peak_rss_kb(),
                                  "ports": {str(port): counts for port, counts in _counts.items()}}) + "\n")
        answers.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
