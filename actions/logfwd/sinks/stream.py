"""Writing to a stream socket within a time limit: what every TCP/TLS sink does around its protocol."""

import socket
import time

from ..errors import SinkTransientError

__all__ = ["time_left", "write_all", "open_connection"]

CHUNK = 1 << 20  # bytes per send, so the time limit holds for TLS too (it may write a whole buffer)


def time_left(until: float, doing: str) -> float:
    """Seconds until ``until`` (``time.monotonic``); ``SinkTransientError`` "timed out <doing>" if none."""
    left = until - time.monotonic()
    if left <= 0:
        raise SinkTransientError(f"timed out {doing}")
    return left


def write_all(sock: socket.socket, data: bytes, until: float, doing: str) -> None:
    """Write all of ``data`` before ``until``; ``TimeoutError``/``OSError`` pass through to the caller."""
    view, offset = memoryview(data), 0
    while offset < len(view):
        sock.settimeout(time_left(until, doing))
        offset += sock.send(view[offset: offset + CHUNK])


def open_connection(host: str, port: int, timeout: float, ssl_context=None) -> socket.socket:
    """A connected socket (TLS, verified, if ``ssl_context``), or ``SinkTransientError`` saying why not
    (``SinkError`` for certificate trouble, which waiting will not fix)."""
    from .tls import handshake

    where = f"{host}:{port}"
    if timeout <= 0:
        raise SinkTransientError(f"no time left to connect to {where} before the run's deadline")
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except socket.gaierror as exc:
        raise SinkTransientError(f"cannot resolve {host!r} ({exc.strerror}): check logstash_hosts") from exc
    except ConnectionRefusedError:
        raise SinkTransientError(f"connection refused by {where}: is the receiver listening there?") from None
    except TimeoutError:
        raise SinkTransientError(f"connecting to {where} timed out after {timeout:.3g}s") from None
    except OSError as exc:
        raise SinkTransientError(f"cannot connect to {where}: {exc}") from exc
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return handshake(sock, ssl_context, host, port) if ssl_context is not None else sock
