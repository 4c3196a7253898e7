"""``logfwd serve``: a pushed source (the logplex drain) behind a local HTTP server, for demos and tests.

Every request becomes the source's input ``{method, path, headers, body}``; the source's units go to
the sink (built once, so its sockets and error counts live as long as the server) and the source's
``answer()`` is the HTTP answer. Put it behind a TLS proxy to take drains from Heroku.
"""

import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any, Mapping

from ..deadline import Deadline
from ..errors import ConfigError, LogfwdError
from ..plugs import PUSHED, plug
from ..retry import RetryPolicy
from .run import parse_params

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
    try:
        server = DrainServer(parse_params(args.param), host=args.host, port=args.port)
    except LogfwdError as exc:
        print(f"logfwd serve: {exc}", file=sys.stderr)
        return 2
    print(f"logfwd serve: {server.describe()} at {server.url}", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    finally:
        server.close()
    return 0


def plug_values(params: Mapping[str, Any]) -> tuple[Any, Any, dict]:
    """The chosen source and sink declarations and their coerced parameter values."""
    source = plug("source", params.get("source") or "logplex")
    sink = plug("sink", params.get("sink") or "statsd")
    if source.mode != PUSHED:
        raise ConfigError("source", f"{source.name} is not pushed", "logfwd serve serves pushed sources.")
    known = {param.name: param for declared in (source, sink) for param in declared.params}
    unknown = sorted(set(params) - set(known) - {"source", "sink"})
    if unknown:
        raise ConfigError(unknown[0], f"{source.name} and {sink.name} take no such parameter",
                          f"They take: {', '.join(known)}.")
    values = {}
    for name, param in known.items():
        raw = params.get(name)
        if raw is None or raw == "":
            if param.required:
                raise ConfigError(name, "is required", param.help)
            values[name] = param.default
        else:
            values[name] = param.coerce(name, raw)
    for declared in (source, sink):
        if declared.check:
            declared.check(values)
    return source, sink, values


class DrainServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, params: Mapping[str, Any], *, host: str = "127.0.0.1", port: int = 0):
        self.source_plug, sink_plug, values = plug_values(params)
        self.settings = SimpleNamespace(values=values)
        self.sink = sink_plug.build(self.settings, SimpleNamespace(retry=RetryPolicy(), clock=time.time))
        self.max_body = values.get("logplex_max_body") or 1 << 20
        self.answered: dict[int, int] = {}  # status -> count, for the operator and the tests
        self._count_lock = threading.Lock()
        super().__init__((host, port), _Handler)
        self.url = f"http://{host}:{self.server_address[1]}"

    def describe(self) -> str:
        return f"{self.source_plug.name} -> {self.sink.describe()}"

    def answer(self, request: dict) -> dict:
        """Build the source for this request, send its units, and return its answer."""
        deadline = Deadline(time.time() + ANSWER_WITHIN)
        context = SimpleNamespace(event=request, deadline=deadline, retry=RetryPolicy(), clock=time.time)
        try:
            source = self.source_plug.build(self.settings, context)
        except LogfwdError as exc:
            return self._count({"statusCode": 500, "headers": {}, "body": f"{exc}\n"})
        failure = None
        try:
            for unit in source.units(deadline, self.sink.encode):
                if unit.payloads:
                    self.sink.send(unit.payloads, deadline)
                if unit.done:
                    unit.done()
        except LogfwdError as exc:
            failure = str(exc)
        answer = source.answer()
        if failure and answer["statusCode"] >= 500:
            answer["body"] = f"{answer['body'].rstrip()}: {failure}\n"
        return self._count(answer)

    def _count(self, answer: dict) -> dict:
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


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: logplex reuses its connections
    server: DrainServer

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
