"""The s3 source's harness for the source contract suite: one object per record in moto's S3 server.

A message becomes a one-line object (not an access log line, so it is forwarded raw with its
``message``); the bad record is an S3 notification record without a key.
"""

import contextlib
import itertools
import os
from typing import Iterator

from servers_s3 import CREDENTIALS, run_s3_server

from logfwd.plugs import Context, plug
from logfwd.settings import load_settings

_serial = itertools.count()


class S3Harness:
    name = "s3"

    def __init__(self):
        self._server = None  # started on first use; it stops by itself when the tests end

    @contextlib.contextmanager
    def source(self, messages: list[str], bad: bool = False) -> Iterator:
        if self._server is None:
            self._server = run_s3_server()
        server, bucket = self._server, f"contract-{next(_serial)}"
        client = server.client()
        client.create_bucket(Bucket=bucket)
        records = []
        for message in messages:
            key = f"records/{next(_serial)} {message}.log"
            client.put_object(Bucket=bucket, Key=key, Body=message.encode() + b"\n")
            records.append({"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                            "s3": {"bucket": {"name": bucket}, "object": {"key": key.replace(" ", "+")}}})
        if bad:
            records.append({"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                            "s3": {"bucket": {"name": bucket}, "object": {}}})
        settings = load_settings({"source": "s3", "sink": "tcp", "logstash_hosts": "127.0.0.1:1",
                                  "s3_endpoint_url": server.endpoint}, {}, None)
        with _environment(CREDENTIALS):  # the client takes its credentials when it is made
            source = plug("source", "s3").build(settings, Context(event={"Records": records}))
        yield source


@contextlib.contextmanager
def _environment(values: dict) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
