"""``logfwd serve``: a pushed source (the logplex drain) behind a local HTTP server, for demos and tests.

Every request becomes the source's input ``{method, path, headers, body}``; the source's units go to
the sink (built once, so its sockets and error counts live as long as the server) and the source's
``answer()`` is the HTTP answer. Put it behind a TLS proxy to take drains from Heroku.
"""

import argparse
import contextlib
import json
import logging
import os
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Mapping

from ..deadline import Deadline
from ..errors import ConfigError, DeliveryError, LogfwdError
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


class DrainServer(ThreadingHTTPServer):
    daemon_threads = True

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
        super().__init__((host, port), _Handler)
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


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: logplex reuses its connections
    timeout = 60  # seconds a connection may sit idle or half-sent before its thread lets it go
    server: DrainServer

    def setup(self) -> None:
        super().setup()
        # The head and the body of an answer are two writes: without this, Nagle's algorithm holds
        # the body until the client's delayed ACK (40 ms) on every kept-alive request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _serve(self) -> None:
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            return self._send({"statusCode": 411, "headers": {}, "body": "a Content-Length is required\n"})
        if int(length) > self.server.max_body:
            self._discard(int(length))  # read, so that the client hears the answer instead of a reset
            return self._send({"statusCode": 413, "headers": {},
                               "body": f"the body has {length} bytes, more than {self.server.max_body}\n"})
        request = {"method": self.command, "path": self.path, "headers": dict(self.headers.items()),
                   "body": self.rfile.read(int(length))}
        self._send(self.server.answer(request))

    do_POST = do_PUT = do_GET = do_DELETE = _serve

    def _discard(self, length: int) -> None:
        if length > 64 * self.server.max_body:
            self.close_connection = True  # not worth reading: the client may see a reset
            return
        while length > 0:
            chunk = self.rfile.read(min(length, 1 << 16))
            if not chunk:
                break
            length -= len(chunk)

    def _send(self, answer: dict) -> None:
        body = answer.get("body", "")
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(answer["statusCode"])
        for name, value in answer.get("headers", {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args) -> None:  # quiet: the summary counts answers
        pass
