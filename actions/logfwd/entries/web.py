"""The OpenWhisk raw web action entry: ``main(params) -> {statusCode, headers, body}``.

With ``web-export: raw`` OpenWhisk passes the HTTP request as ``__ow_method``, ``__ow_path``,
``__ow_headers`` (lower-cased names) and ``__ow_body`` (base64 text for a binary body, plain text
otherwise); the action's other parameters are its settings. The pushed source answers the request:
a 2xx only when the sink delivered what the request carried, so the sender retries the rest.
"""

import base64
import binascii
import json
import logging
import os
import sys

from ..errors import ConfigError, LogfwdError
from ..settings import load_settings

_REQUEST_KEYS = ("__ow_method", "__ow_path", "__ow_headers", "__ow_body", "__ow_query")


def request_of(params: dict) -> dict:
    """The HTTP request a raw web action receives, as a pushed source reads it."""
    body = params.get("__ow_body") or ""
    if isinstance(body, str):
        try:
            body = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            body = body.encode("utf-8")  # a text body arrives as it is
    headers = {str(k).lower(): str(v) for k, v in (params.get("__ow_headers") or {}).items()}
    return {"method": str(params.get("__ow_method") or "").upper(), "path": params.get("__ow_path") or "/",
            "headers": headers, "body": body}


def main(params: dict) -> dict:
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    settings_params = {k: v for k, v in params.items() if k not in _REQUEST_KEYS}
    try:
        settings = load_settings(settings_params, os.environ)
        from ..runner import run_once
        summary = run_once(settings, event=request_of(params))
    except ConfigError as exc:
        logging.getLogger(__name__).error("%s", exc)
        return _plain(500, "the drain is misconfigured; see the action's logs")
    except LogfwdError as exc:
        logging.getLogger(__name__).error("%s", exc)
        return _plain(503, "not delivered; retry later")
    # The summary goes to the activation's logs; the answer goes to the sender.
    print(json.dumps({k: v for k, v in summary.items() if k != "answer"}), file=sys.stderr)
    return summary["answer"]


def _plain(status: int, text: str) -> dict:
    return {"statusCode": status, "headers": {"Content-Type": "text/plain"}, "body": text + "\n"}
