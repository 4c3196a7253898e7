"""The soak's knobs, in one place: what is produced, how runs are driven, how hard faults hit.

The emulator behaves as the real platform does (``Platform.real``: stale list index, records up to
2 x the time limit late plus log collection, unstable tie order, unparseable records, a list limit
below 200, large skips that time out, logs filled later, bare trigger records, 500/504). The timing
knobs must keep the cursor's contract (see ``logfwd/sources/openwhisk/cursor.py`` and
docs/openwhisk-timing.md): every record becomes visible in lists before its start falls out of the
overlap window, i.e. ``2 x action_timeout + log_collection + list_lag`` plus the index's lag (two
run spacings) stays below the overlap. Then a lost line is the forwarder's fault, not the soak's.
"""

from dataclasses import asdict, dataclass
from pathlib import Path

from logfwd.sources.openwhisk.overlap import LOG_COLLECTION_MS

STORES = ("file", "activation", "couchdb", "redis")


@dataclass
class SoakConfig:
    runs: int = 1000                        # forwarder runs under faults, all stores together (drain runs on top)
    seed: int = 1
    workdir: Path | None = None             # where checkpoint, receiver files and run logs go (default: a temp dir)
    stores: tuple[str, ...] = STORES        # each gets its share of the runs, against its own emulator

    # What the emulator produces.
    actions: tuple[str, ...] = ("hello", "shop/cart", "etl/ingest")
    action_timeout: float = 8.0             # the actions' time limit: a timed-out activation lasts this long
    max_duration: float = 5.0               # longest run of an activation that does not time out
    list_lag: float = 2.0                   # seconds after it is stored before a record shows in lists
    platform: bool = True                   # the real platform's timing and paging (Platform.real)
    log_collection: float = 2.0             # ... up to this many seconds from an activation's end to its record
    logs_delay: float = 3.0                 # ... /logs is empty this long after the record is stored
    max_limit: int = 100                    # ... the deployment's list limit
    ties: str = "id"                        # ... its activation store: "id" (CouchDB) or "elasticsearch"
    rate: float = 4.0                       # activations started per second
    burst: int = 700                        # activations started in one millisecond, every burst_every s
    burst_every: float = 60.0
    lines: int = 4                          # log lines per activation
    seed_activations: int = 300             # finished activations present before the first run
    seed_span: float = 120.0

    # The forwarder runs.
    overlap: float | str = "auto"           # the forwarder's overlap parameter (s), auto: from the limits
    schedule_interval: float = 10.0         # the forwarder's schedule_interval: runs start this often at most
    settle: float = 1.0
    deadline: tuple[float, float] = (4.0, 8.0)  # __OW_DEADLINE drawn this many seconds after the start
    deadline_grace: float = 2.5             # stop pulling 2.5 s before it; work in flight ends 1.25 s before
    window_timeout: float = 2.0
    batch_sizes: tuple[int, ...] = (50, 200, 1000)
    checkpoint: str | None = None           # a checkpoint spec; default file:<workdir>/checkpoint.json

    # Faults the harness itself causes.
    kill_rate: float = 0.35                 # share of runs killed with SIGKILL
    kill_after_ack_share: float = 0.5       # of those: just after a window's ACK (else at a random time)
    kill_window: float = 1.5                # timed kills land uniformly within this many seconds of the start
    overlap_rate: float = 0.3               # share of runs started while the previous one still runs
    max_parallel: int = 3
    restart_rate: float = 0.03              # per run: restart one receiver (connections refused meanwhile)
    phase_runs: tuple[int, int] = (5, 20)   # fault profiles change every this many runs
    receivers: int = 2                      # live receivers; logstash_hosts also names one closed port

    # Bounds.
    hang_after: float = 20.0                # a run still alive this long after its deadline is a hang
    drain_runs: int = 100                   # at most this many clean runs at the end,
    drain_timeout: float = 90.0             # ... for at most this long once everything could be settled
    quiet: bool = False

    @classmethod
    def short(cls, **overrides) -> "SoakConfig":
        """A quick soak for ``make test``: fewer runs and smaller time windows, the same faults."""
        values = dict(runs=25, stores=("file",), action_timeout=2.5, max_duration=1.5, list_lag=0.5,
                      log_collection=0.5, logs_delay=1.0, overlap=30.0, settle=0.5,
                      rate=4.0, burst=250, burst_every=10.0, batch_sizes=(100, 500), seed_activations=200,
                      seed_span=30.0, phase_runs=(3, 6), restart_rate=0.08, quiet=True)
        values.update(overrides)
        return cls(**values)

    def overlap_seconds(self) -> float:
        """The overlap the forwarder uses for the soak's actions (they all have the same limits)."""
        if self.overlap == "auto":
            return 2 * self.action_timeout + LOG_COLLECTION_MS / 1000 + 2 * self.schedule_interval
        return float(self.overlap)

    def check(self) -> None:
        spacing = self.deadline[1] + 1.5  # the longest a run lives, and the pause before the next
        needed = 2 * self.action_timeout + self.log_collection + self.list_lag + 2 * spacing
        if needed >= self.overlap_seconds():
            raise ValueError(f"2 x action_timeout + log_collection + list_lag + 2 run spacings ({needed:g} s) must "
                             "stay below the overlap, or records can become visible after they left the overlap "
                             "window (lost by design, not by a bug)")
        unknown = set(self.stores) - set(STORES)
        if not self.stores or unknown:
            raise ValueError(f"stores must name some of {', '.join(STORES)}; unknown: {', '.join(sorted(unknown))}")
        if self.max_duration > self.action_timeout:
            raise ValueError("max_duration must not exceed action_timeout")
        if self.runs < 1 or self.receivers < 1 or self.max_parallel < 1:
            raise ValueError("runs, receivers and max_parallel must be at least 1")

    def as_dict(self) -> dict:
        values = asdict(self)
        values["workdir"] = str(self.workdir) if self.workdir else None
        return values
