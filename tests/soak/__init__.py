"""The fault-injection soak: proof that no log line is lost and every re-sent line keeps its id.

Many real ``logfwd run`` processes, with short ``__OW_DEADLINE`` deadlines, run against one
OpenWhisk emulator that keeps producing activations (late-visible records, a lagging list view,
bursts in one millisecond, injected 429/5xx, resets and slow answers) and live Lumberjack receivers
that misbehave (drops before the ACK, partial ACKs, ACKs held past the window deadline with
keepalives, slow ACKs, restarts, plus a closed port among ``logstash_hosts``). Runs are SIGKILLed at
random points and sometimes overlap. Production then stops, clean runs drain the rest, and what was
produced is compared with what arrived (``ledger``).

    python -m tests.soak --runs 1000 --out soak-result.json      # make soak RUNS=1000
"""

import sys
from pathlib import Path

# The soak starts the tests' real servers (tests/servers.py and the modules beside it import each
# other as top-level modules, as pytest does): `python -m tests.soak` needs that folder on the path.
_TESTS = str(Path(__file__).resolve().parents[1])
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

from .config import SoakConfig  # noqa: E402
from .driver import run_soak  # noqa: E402

__all__ = ["SoakConfig", "run_soak"]
