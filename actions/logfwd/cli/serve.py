"""``logfwd serve``: a pushed source (the logplex drain) behind a local HTTP server, for demos and tests.

Every request becomes the source's input ``{method, path, headers, body}``; the source's units go to
the sink (built once, so its sockets and error counts live as long as the server) and the source's
``answer()`` is the HTTP answer. Put it behind a TLS proxy to take drains from Heroku.

The HTTP/1.1 is our own small loop (``codecs/http1.py`` parses and writes), a thread per kept-alive
connection: the standard library's ``http.server`` parsed each request's headers with the email
package and wrote each answer in two sends, which cost more than counting a request's 100 frames.
"""

import argparse
import contextlib
import json
import logging
import os
import socket
import socketserver
import sys
import threading
import time
from email.utils import formatdate
from typing import Any, Mapping

from ..codecs.http1 import MAX_HEAD, encode_answer, parse_head
from ..deadline import Deadline
from ..errors import BadRequestError, ConfigError, DeliveryError, LogfwdError
from ..plugs import PUSHED, Context, plug
from ..settings import load_settings
from ..tee import Tee, build_sink
from .run import parse_params

log = logging.getLogger(__name__)

ANSWER_WITHIN = 4.0  # seconds: logplex gives up on a request after 5 and sends it again


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "serve", help="serve a pushed source (a logplex drain) over HTTP",
        description="Serve a log drain on 127.0.0.1: e.g. logfwd serve --port 8080 -p source=logplex "
                    "-p sink=statsd -p 'logplex_credentials={\"myapp\": \"logplex:PASSWORD\"}' "
                    "-p statsd_cluster=127.0.0.1:8125")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on (0: any free port)")
    parser.add_argument("--param", "-p", action="append", default=[], metavar="KEY=VALUE",
                        help="a parameter of the source or the sink (repeatable)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        server = DrainServer(parse_params(args.param), host=args.host, port=args.port)
    except LogfwdError as exc:
        print(f"logfwd serve: {exc}", file=sys.stderr)
        return 2
    for warning in server.settings.warnings:
        print(f"logfwd serve: warning: {warning}", file=sys.stderr)
    print(f"logfwd serve: {server.describe()} at {server.url}", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    finally:
        server.close()
    return 0


class DrainServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    idle_timeout = 60.0  # seconds a connection may sit idle or half-sent before its thread lets it go

    def __init__(self, params: Mapping[str, Any], *, host: str = "127.0.0.1", port: int = 0,
                 environ: Mapping[str, str] | None = None):
        """``params`` as given to the action (``source`` defaults to logplex, ``sink`` to statsd)."""
        self.settings = load_settings({"source": "logplex", "sink": "statsd", **params},
                                      os.environ if environ is None else environ)
        self.source_plug = plug("source", self.settings.source)
        if self.source_plug.mode != PUSHED:
            raise ConfigError("source", f"'{self.settings.source}' is not pushed",
                              "logfwd serve serves a pushed source, e.g. source=logplex.")
        self.sink = build_sink(self.settings, Context())  # one sink, or a tee (sink=statsd,lumberjack)
        # Requests come on several threads; a sink's connection carries one send at a time (a tee
        # locks each of its sinks itself, so that statsd never waits for Logstash's ACK).
        self._send_lock = contextlib.nullcontext() if isinstance(self.sink, Tee) else threading.Lock()
        self.max_body = self.settings.values.get("logplex_max_body") or 1 << 20
        self.answered: dict[int, int] = {}  # status -> count, for the operator and the tests
        self._count_lock = threading.Lock()
        super().__init__((host, port), _Connection)
        self.url = f"http://{host}:{self.server_address[1]}"

    def describe(self) -> str:
        return f"{self.source_plug.name} -> {self.sink.describe()}"

    def answer(self, request: dict) -> dict:
        """Build the source for this request, forward its units to the sink, and return its answer."""
        deadline = Deadline(time.time() + ANSWER_WITHIN, grace=0.0)
        try:
            source = self.source_plug.build(self.settings, Context(deadline=deadline, event=request))
        except LogfwdError as exc:  # e.g. the frame store's URL
            log.error("%s", exc)
            answer = {"statusCode": 500, "headers": {}, "body": "the drain is misconfigured; see its log\n"}
        else:
            try:
                failure = _deliver(source, self.sink, deadline, self._send_lock)
                answer = source.answer()
            finally:
                source.close()
            for problem in source.errors + source.warnings:  # the operator's view; the sender gets the answer
                log.warning("%s", problem)
            if failure and answer["statusCode"] >= 500:
                answer["body"] = f"{answer['body'].rstrip()}: {failure}\n"
        with self._count_lock:
            self.answered[answer["statusCode"]] = self.answered.get(answer["statusCode"], 0) + 1
        return answer

    def close(self) -> None:
        self.server_close()
        self.sink.close()

    def __enter__(self):
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.close()


def _deliver(source, sink, deadline: Deadline, lock) -> str | None:
    """Send each unit, then confirm it, in this (request) thread; the reason if one failed. The
    pipeline's ``forward`` does the same with a background sender, which costs a thread per request."""
    try:
        for unit in source.units(deadline, sink.encode):
            try:
                if unit.payloads:
                    with lock:
                        sink.send(unit.payloads, deadline)
            except DeliveryError as exc:
                took = exc.took_whole(len(unit.payloads))
                if took and unit.partly:  # a tee: some sinks took the unit, the others did not
                    unit.partly(took)
                raise
            if unit.done:
                unit.done()
    except LogfwdError as exc:
        return str(exc)
    return None


class _Connection(socketserver.BaseRequestHandler):
    """One client connection: requests read and answered in turn, until the client or an error ends it."""

    server: DrainServer

    def handle(self) -> None:
        sock = self.request
        # An answer is one write, but the client's next request must not wait for a delayed ACK either.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(self.server.idle_timeout)
        self._buffer = bytearray()
        try:
            while self._serve_one():
                pass
        except (TimeoutError, ConnectionError):
            pass  # the client went away or stalled: nothing to answer

    def _serve_one(self) -> bool:
        """Read, answer; ``False`` once the connection is to end."""
        end = self._read_head()
        if end is None:
            return False
        try:
            head = parse_head(bytes(self._buffer[:end]))
        except BadRequestError as exc:
            return self._send(exc.status, f"{exc}\n", keep_alive=False)  # the rest of the stream is unreadable
        del self._buffer[:end + 4]
        max_body = self.server.max_body
        if head.length is None:
            if head.method in ("GET", "HEAD", "DELETE", "OPTIONS"):  # no body expected
                return self._answer(head, b"")
            return self._send(411, "a Content-Length is required\n", keep_alive=False)
        if head.length > max_body:
            keep = self._discard(head.length)  # read, so that the client hears the answer instead of a reset
            return self._send(413, f"the body has {head.length} bytes, more than {max_body}\n",
                              keep_alive=keep and head.keep_alive)
        if head.expects_continue and len(self._buffer) < head.length:
            self.request.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = self._read(head.length)
        return body is not None and self._answer(head, body)

    def _answer(self, head, body: bytes) -> bool:
        request = {"method": head.method, "path": head.target, "headers": head.headers, "body": body}
        answer = self.server.answer(request)
        body = answer.get("body", "")
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        return self._send(answer["statusCode"], data, answer.get("headers", {}), keep_alive=head.keep_alive,
                          head_only=head.method == "HEAD")

    def _read_head(self) -> int | None:
        """Where the head in the buffer ends (its blank line), reading until it is there; ``None``
        when the client closed, or sent a head too long (then answered 431)."""
        searched = 0
        while (end := self._buffer.find(b"\r\n\r\n", searched)) < 0 and len(self._buffer) <= MAX_HEAD:
            searched = max(0, len(self._buffer) - 3)
            if not self._receive():
                return None
        if end < 0 or end > MAX_HEAD:
            self._send(431, f"the request head is over {MAX_HEAD} bytes\n", keep_alive=False)
            return None
        return end

    def _read(self, length: int) -> bytes | None:
        while len(self._buffer) < length:
            if not self._receive():
                return None  # the client closed before its body was complete
        body = bytes(self._buffer[:length])
        del self._buffer[:length]
        return body

    def _discard(self, length: int) -> bool:
        """Read and drop a body too large to take; ``False`` if the connection cannot go on."""
        if length > 64 * self.server.max_body:
            return False  # not worth reading: the client may see a reset
        while len(self._buffer) < length:
            length -= len(self._buffer)
            self._buffer.clear()
            if not self._receive():
                return False
        del self._buffer[:length]
        return True

    def _receive(self) -> bool:
        chunk = self.request.recv(1 << 18)  # a whole drain request (~100 KiB at most) in one call
        self._buffer += chunk
        return bool(chunk)

    def _send(self, status: int, body: str | bytes, headers: Mapping[str, str] | None = None, *,
              keep_alive: bool, head_only: bool = False) -> bool:
        data = body.encode() if isinstance(body, str) else body
        answer = encode_answer(status, dict(headers or {}), data, keep_alive=keep_alive, date=_http_date())
        self.request.sendall(answer[:len(answer) - len(data)] if head_only else answer)  # HEAD: its length, no body
        return keep_alive


_date = (0, "")


def _http_date() -> str:
    """``Date``'s value (RFC 9110), written once a second."""
    global _date
    now = int(time.time())
    if _date[0] != now:
        _date = (now, formatdate(now, usegmt=True))
    return _date[1]
