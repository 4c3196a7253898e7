"""``python -m tests.bench.wire``: ``logfwd`` commands run one after another in one process, with their
socket bytes counted, as OpenWhisk runs an action again and again in a warm container.

Each line on stdin is a JSON list of ``logfwd`` arguments; each answer on stdout is one JSON line: the
command's exit code and output, the bytes it sent and received per peer port, its CPU time (all
threads) and the process's total so far, and the process's peak resident memory (``VmHWM``: since exec,
unlike ``ru_maxrss``, which also counts the parent's pages the child held between fork and exec). The
first command of the process is a cold start: the process's total CPU then includes the interpreter's
start and the imports; every later one is warm. The forwarder runs unchanged (``logfwd.cli.main``);
only ``socket.socket``'s send and receive methods are wrapped to add up the bytes per peer port. That
is how the end-to-end benchmark gets the bytes on the wire without a proxy in the path.
"""

import contextlib
import io
import json
import socket
import sys
import time
from collections import defaultdict

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
    install()
    answers = sys.stdout
    for line in sys.stdin:
        args = json.loads(line)
        _counts.clear()
        output = io.StringIO()
        started = time.process_time()
        with contextlib.redirect_stdout(output):
            from logfwd.cli import main as logfwd_main  # imported by the first command: part of a cold start

            code = logfwd_main(args)
        done = time.process_time()
        answers.write(json.dumps({"code": code, "output": output.getvalue(), "cpu": done - started,
                                  "process_cpu": done, "peak_rss_kb": _peak_rss_kb(),
                                  "ports": {str(port): counts for port, counts in _counts.items()}}) + "\n")
        answers.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
