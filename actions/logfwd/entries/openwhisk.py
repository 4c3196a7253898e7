"""The OpenWhisk entry point: ``main(params) -> dict``.

Parameters and ``__OW_*`` variables become settings; the result is a small JSON summary (plus the
checkpoint, with the default ``activation`` store). Any error becomes ``{"error": ...}`` with the
summary beside it, so the activation shows as failed in ``wsk activation list``.
"""

import logging
import os
import sys

from ..errors import LogfwdError
from ..settings import load_settings


def main(params: dict) -> dict:
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings(params, os.environ)
        from ..runner import run_once
        summary = run_once(settings)
    except LogfwdError as exc:
        return {"error": str(exc)}
    if summary.get("errors"):
        return {"error": "; ".join(summary["errors"]), **summary}
    return summary
