"""A threaded RFC 5424 receiver over TCP or TLS that appends each message's parts to a JSON-lines file.

    with SyslogReceiver("received.jsonl", ssl_context=context) as receiver:
        host, port = receiver.address

Like rsyslog it acknowledges nothing: it reads until the client closes, answers a TLS close_notify
with its own, and writes each message as it is framed. A message that is not RFC 5424 is written
with ``error`` and its ``raw`` text; a stream it cannot frame is closed (rsyslog does the same).
"""

import json
import logging
import socket
import ssl
import threading
from pathlib import Path

from .parse import Framer, FramingError, parse_message

log = logging.getLogger(__name__)

__all__ = ["SyslogReceiver"]


class SyslogReceiver:
    def __init__(self, out: str | Path, host: str = "127.0.0.1", port: int = 0, *,
                 ssl_context: ssl.SSLContext | None = None):
        self.out = Path(out)
        self.host, self.port = host, port
        self.ssl_context = ssl_context
        self.received = 0
        self._lock = threading.Lock()
        self._file = None
        self._listener: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()

    @property
    def address(self) -> tuple[str, int]:
        if self._listener is None:
            raise RuntimeError("the receiver is not started")
        return self._listener.getsockname()[:2]

    def start(self) -> "SyslogReceiver":
        self._file = open(self.out, "a", encoding="utf-8")
        self._listener = socket.create_server((self.host, self.port))
        self._listener.settimeout(0.2)
        thread = threading.Thread(target=self._accept, name="syslog-accept", daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stopping.set()
        for thread in list(self._threads):
            thread.join(timeout=5)
        if self._listener is not None:
            self._listener.close()
        if self._file is not None:
            self._file.close()

    def __enter__(self) -> "SyslogReceiver":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                sock, peer = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(sock, peer), name=f"syslog-{peer[1]}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, sock: socket.socket, peer: tuple) -> None:
        framer = Framer()
        try:
            sock.settimeout(1.0)
            if self.ssl_context is not None:
                sock = self.ssl_context.wrap_socket(sock, server_side=True)
            while not self._stopping.is_set():
                try:
                    data = sock.recv(1 << 16)
                except TimeoutError:
                    continue
                if not data:
                    break
                self._write(framer.feed(data))
            if isinstance(sock, ssl.SSLSocket):
                sock = sock.unwrap()  # answer the client's close_notify
            if framer.pending():
                log.warning("%s:%s closed with %d bytes of a message cut short", *peer[:2], framer.pending())
        except FramingError as exc:
            log.warning("closing %s:%s: %s", peer[0], peer[1], exc)
        except (OSError, ssl.SSLError) as exc:
            log.warning("connection from %s:%s failed: %s", peer[0], peer[1], exc)
        finally:
            sock.close()

    def _write(self, messages: list[bytes]) -> None:
        if not messages:
            return
        lines = []
        for message in messages:
            try:
                fields = parse_message(message)
            except ValueError as exc:
                fields = {"error": str(exc), "raw": message.decode("utf-8", "replace")}
            lines.append(json.dumps(fields, ensure_ascii=False) + "\n")
        with self._lock:
            self._file.write("".join(lines))
            self._file.flush()
            self.received += len(lines)
