"""``python -m tests.bench.wire REPORT logfwd-args...``: the ``logfwd`` command, with its socket bytes counted.

The forwarder runs unchanged (``logfwd.cli.main``); only ``socket.socket``'s send and receive methods
are wrapped to add up the bytes per peer port. When the command ends, REPORT gets them as JSON, with
the process's peak resident memory (``VmHWM``: since exec, unlike ``ru_maxrss``, which also counts the
parent's pages the child held between fork and exec). That is how the end-to-end benchmark gets the
bytes on the wire without a proxy in the path.
"""

import atexit
import json
import socket
import sys
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
    report, args = sys.argv[1], sys.argv[2:]

    def write() -> None:
        with open(report, "w") as file:
            json.dump({"peak_rss_kb": _peak_rss_kb(),
                       "ports": {str(port): counts for port, counts in _counts.items()}}, file)

    atexit.register(write)
    install()
    from logfwd.cli import main as logfwd_main
    return logfwd_main(args)


if __name__ == "__main__":
    sys.exit(main())
