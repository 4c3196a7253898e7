"""Connecting, writing within a time limit, and closing with proof of delivery: what every TCP/TLS
sink without an application-level ACK does around its protocol."""

import fcntl
import select
import socket
import ssl
import struct
import termios
import time

from ..errors import SinkTransientError

__all__ = ["time_left", "write_all", "open_connection", "close_confirmed"]

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


def close_confirmed(sock: socket.socket, until: float, where: str) -> None:
    """End the connection and return only once the receiver has read all we wrote; else
    ``SinkTransientError``.

    We end our side (TLS ``close_notify``; TCP FIN) and wait for the receiver to end its side. A
    receiver that closes with bytes unread sends a reset, not an EOF; and an EOF is proof only if the
    receiver's TCP acknowledged every byte we sent (the send queue is empty), since a receiver that
    closed before our last bytes arrived also sends an EOF first.
    """
    if select.select([sock], [], [], 0)[0] and _ended_early(sock):
        raise SinkTransientError(f"{where} closed the connection before the batch was complete")
    doing = f"waiting for {where} to close the connection"
    sock.settimeout(time_left(until, doing))
    try:
        if isinstance(sock, ssl.SSLSocket):
            try:
                sock = sock.unwrap()  # our close_notify, then the receiver's
            except (ssl.SSLEOFError, ssl.SSLZeroReturnError):
                pass  # it closed the connection instead of answering: proof once every byte is acknowledged
        else:
            sock.shutdown(socket.SHUT_WR)
            while sock.recv(65536):  # what the receiver sends before its EOF does not matter
                sock.settimeout(time_left(until, doing))
    except TimeoutError:
        raise SinkTransientError(f"timed out {doing}") from None
    unacknowledged = _send_queue(sock)
    if unacknowledged:
        raise SinkTransientError(f"{where} closed the connection with {unacknowledged} bytes not acknowledged")


def _ended_early(sock: socket.socket) -> bool:
    """Did the receiver close (or fail) the connection before we ended it?"""
    sock.setblocking(False)
    try:
        return not sock.recv(65536)
    except (ssl.SSLWantReadError, BlockingIOError):
        return False  # TLS housekeeping only (session tickets)
    except OSError:
        return True


def _send_queue(sock: socket.socket) -> int:
    """Bytes the receiver's TCP has not acknowledged yet (Linux ``SIOCOUTQ``; 0 where unsupported)."""
    try:
        return struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0"))[0]
    except OSError:
        return 0
