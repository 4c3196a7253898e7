"""The AWS Lambda entry point: ``handler(event, context)``.

Settings come from ``LOGFWD_<NAME>`` environment variables (the function's configuration), the
deadline from ``context.get_remaining_time_in_millis()``. The answer is the pushed source's: e.g.
``{"batchItemFailures": [...]}`` for Kinesis, so Lambda retries only what was not delivered. A run
that cannot answer that way (bad settings, nothing delivered) raises, so Lambda retries the batch.
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
