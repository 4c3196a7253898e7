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

from .config import SoakConfig
from .driver import run_soak

__all__ = ["SoakConfig", "run_soak"]
