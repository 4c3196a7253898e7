"""The AWS Lambda entry point: ``handler(event, context)``.

Settings come from ``LOGFWD_<NAME>`` environment variables (the function's configuration), the
deadline from ``context.get_remaining_time_in_millis()``. The answer is the pushed source's: e.g.
``{"batchItemFailures": [...]}`` for Kinesis, so Lambda retries only what was not delivered. A run
that cannot answer that way (bad settings, nothing delivered) raises, so Lambda retries the batch.

Lambda imports this module once per execution environment, in its init phase, before the first
invocation (reported apart, as "Init Duration"): what every invocation needs and can be made then is
made then (``prepare``).
"""

import json
import logging
import os
import sys
import time
from dataclasses import replace

from ..errors import LogfwdError
from ..settings import load_settings


class InvocationFailed(LogfwdError):
    """Raised to make Lambda count the invocation as failed and retry it."""


def handler(event: dict, context) -> dict:
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    settings = load_settings({}, os.environ)
    if context is not None:
        settings = replace(settings, deadline=time.time() + context.get_remaining_time_in_millis() / 1000)
    from ..runner import run_once
    summary = run_once(settings, event=event)
    print(json.dumps({k: v for k, v in summary.items() if k != "answer"}))  # to CloudWatch Logs
    answer = summary["answer"]
    if answer.get("failed"):
        # The source cannot say what to retry in this answer's shape: fail the whole invocation.
        raise InvocationFailed(answer["failed"])
    return {k: v for k, v in answer.items() if k != "failed"}


def prepare(environ) -> None:
    """The s3 source's client, made at init rather than in the first invocation: importing boto3 and
    making the client cost ~0.3 s of CPU, 2.8 us a line of a 100,000-line object (AWS, too, advises
    clients made outside the handler). A client that cannot be made here is left for the invocation,
    which makes it again and reports what is wrong."""
    if environ.get("LOGFWD_SOURCE", "").strip() != "s3":
        return
    from ..sources.s3.client import s3_client
    try:
        s3_client(environ.get("LOGFWD_S3_ENDPOINT_URL", "").strip() or None)
    except Exception:  # noqa: BLE001 - the invocation says it, with its own error handling
        pass


prepare(os.environ)
