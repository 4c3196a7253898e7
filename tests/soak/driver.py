"""The soak itself: many forwarder runs under changing faults, random SIGKILLs and overlapping runs,
then clean runs that drain what is left, then the comparison of produced and received lines.
"""

import json
import random
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from logfwd.checkpoints import open_store
from logfwd.errors import LogfwdError

from . import faults
from .config import SoakConfig
from .ledger import compare
from .stores import run_stores
from .runs import AFTER_ACK, AFTER_SAVE, BEFORE_ACK, KILL_PHASES, OVERLAPPING, KillPlan, Run, launch
from .world import FORWARDER, World

POLL = 0.005         # seconds between looks at the running processes
DRAIN_DEADLINE = 30.0

# Forwarder errors, by the words that name their kind (the first match wins).
ERROR_KINDS = (
    ("timed out waiting for the ACK", "sink: ACK not in time (window deadline)"),
    ("closed the connection before acknowledging", "sink: connection closed before the ACK"),
    ("connection refused", "sink: connection refused"),
    ("changed since this run read it", "checkpoint: conflict with an overlapping run"),
    ("checkpoint not saved", "checkpoint: not saved"),
    ("deadline passed", "deadline: no time left for a window"),
    ("no time left", "deadline: no time left for a request"),
    ("answered HTTP", "api: HTTP error after retries"),
    ("Timeout", "api: timeout"),
    ("ConnectionError", "api: connection reset"),
    ("Connection reset by peer", "sink: connection reset"),
)


class Soak:
    def __init__(self, config: SoakConfig):
        config.check()
        self.config = config
        self.rng = random.Random(config.seed)
        if config.checkpoint and config.checkpoint != "activation":
            _require_empty(config.checkpoint)
        if config.workdir and Path(config.workdir).is_dir() and any(Path(config.workdir).iterdir()):
            raise ValueError(f"the work directory {config.workdir} is not empty: a soak appends to its files, "
                             "so give it a new or empty one")
        self.own_workdir = config.workdir is None
        self.workdir = Path(config.workdir or tempfile.mkdtemp(prefix="logfwd-soak-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.checkpoint = config.checkpoint or f"file:{self.workdir / 'checkpoint.json'}"
        self.world = World(config, self.rng, self.workdir, on_store=self._window_stored)
        self.windows_stored = 0
        self._lock = threading.Lock()
        self.alive: list[Run] = []
        self.done: list[Run] = []
        self.drain_runs = 0
        self.hung = 0
        self.overlapping = 0
        self.errors: Counter[str] = Counter()
        self.other_errors: list[str] = []
        self._progress_at = 0.0
        self.profile = "none"

    # --- the whole soak ----------------------------------------------------------------------

    def run(self) -> dict:
        began = time.time()
        self.world.start()
        try:
            with open(self.workdir / "forwarder-stderr.log", "ab") as stderr, \
                    open(self.workdir / "runs.jsonl", "w") as run_log:
                self._stderr, self._run_log = stderr, run_log
                self._fault_runs()
                drained = self._drain()
            fault_counts = self.world.fault_counts()
        finally:
            self.world.stop()
        produced = self.world.emulator.produced()
        figures = compare(produced, self.world.received_files(), namespace="guest")
        result = self._result(figures, fault_counts, drained, time.time() - began)
        with open(self.workdir / "produced.jsonl", "w") as out:  # the evidence, if anything went missing
            out.writelines(json.dumps(activation) + "\n" for activation in produced)
        if result["passed"] and self.own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
            result["workdir"] = None
        return result

    def _fault_runs(self) -> None:
        config, rng = self.config, self.rng
        next_phase, next_start, started = 0, time.time(), 0
        overlap_next = False
        longest = config.deadline[1]
        while started < config.runs or self.alive:
            now = time.time()
            may_start = started < config.runs and now >= next_start and len(self.alive) < config.max_parallel
            if may_start and (overlap_next or not self.alive):
                if started == next_phase:
                    self.world.apply(faults.draw(rng, config.receivers, config.window_timeout, longest))
                    self.profile = self._profile_name()
                    next_phase += rng.randint(*config.phase_runs)
                if rng.random() < config.restart_rate:
                    rng.choice(self.world.slots).restart(after=rng.uniform(0, 1.0), downtime=rng.uniform(0.1, 1.5))
                self._start(started, rng.uniform(*config.deadline), self._kill_plan())
                started += 1
                overlap_next = rng.random() < config.overlap_rate
                next_start = now + (rng.uniform(0.1, 1.5) if overlap_next else rng.uniform(0.0, 0.1))
            self._poll(now)
            self._progress(started)
            time.sleep(POLL)

    def _drain(self) -> bool:
        """Production stops, faults stop; clean runs until everything produced is settled and sent.

        Bounded by ``drain_runs`` and ``drain_timeout``; a run skipped because a killed run's lease
        is still held is simply followed by another a second later."""
        config = self.config
        self.world.stop_production()
        self.world.apply(faults.clean(config.receivers))
        self.profile = "drain (no faults)"
        settled_after = self.world.production_stopped_at + config.overlap_seconds() + config.settle + 1.0
        give_up = settled_after + config.drain_timeout
        while self.drain_runs < config.drain_runs and time.time() < give_up:
            run = self._start(config.runs + self.drain_runs, DRAIN_DEADLINE, None)
            self.drain_runs += 1
            while self.alive:
                self._poll(time.time())
                time.sleep(POLL)
            summary = run.summary or {}
            caught_up = summary.get("ok") and not summary.get("more")
            if caught_up and run.started >= settled_after:
                return True
            time.sleep(max(0.0, min(settled_after - time.time(), 2.0)) if caught_up else 1.0)
        return False

    # --- runs --------------------------------------------------------------------------------

    def _kill_plan(self) -> KillPlan | None:
        config, rng = self.config, self.rng
        if rng.random() >= config.kill_rate:
            return None
        if rng.random() < config.kill_after_ack_share:
            return KillPlan("after_ack", rng.uniform(0.0002, 0.003))
        return KillPlan("timed", rng.uniform(0.05, config.kill_window))

    def _start(self, index: int, seconds: float, kill: KillPlan | None) -> Run:
        config = self.config
        params = {
            "apihost": self.world.emulator.url, "api_key": self.world.emulator.api_key, "namespace": "_",
            "actions": ",".join(config.actions), "logstash_hosts": self.world.logstash_hosts(),
            "logstash_tls": "false", "checkpoint": self.checkpoint, "overlap": str(config.overlap),
            "schedule_interval": str(config.schedule_interval),
            "settle": str(config.settle), "initial_lookback": str(config.seed_span + 600),
            "deadline_grace": str(config.deadline_grace), "window_timeout": str(config.window_timeout),
            "batch_size": str(self.rng.choice(config.batch_sizes)),
            "compression_level": str(self.rng.choice((0, 3))),
        }
        env = {}
        if self.checkpoint == "activation":  # it finds its checkpoint in its own earlier activations
            env = {"__OW_ACTION_NAME": f"/guest/{FORWARDER}", "__OW_ACTIVATION_ID": f"{self.rng.getrandbits(128):032x}"}
            # A first run killed before it returned leaves a history without any checkpoint, which stops
            # the next run unless told to start over; initial_lookback reaches back to the soak's start,
            # so starting over skips nothing here.
            params["start_over"] = "true"
        run = launch(index, params, time.time() + seconds, self.workdir, profile=self.profile, kill=kill,
                     windows=self.windows_stored, checkpoint=self._checkpoint_signature(),
                     stderr=self._stderr, env=env)
        if self.alive:
            self.overlapping += 1
            run.solo = False
            for other in self.alive:
                other.solo = False
        self.alive.append(run)
        return run

    def _poll(self, now: float) -> None:
        for run in list(self.alive):
            if run.process.poll() is not None:
                self._finish(run, now)
            elif run.kill and run.kill.strategy == "timed" and now >= run.started + run.kill.delay:
                run.sigkill("timed", lambda: self._kill_phase(run))
            elif now > run.deadline + self.config.hang_after and not run.killed:
                self.hung += 1
                run.sigkill("hang", lambda: "hung past its deadline")

    def _window_stored(self) -> None:
        """Called on a receiver's thread: a window was just written, its ACK goes out next."""
        with self._lock:
            self.windows_stored += 1
        for run in list(self.alive):
            if run.kill and run.kill.strategy == "after_ack" and not run.armed:
                run.armed = True
                phase = lambda run=run: self._kill_phase(run)  # noqa: E731
                timer = threading.Timer(run.kill.delay, run.sigkill, ("after_ack", phase))
                timer.daemon = True
                timer.start()

    def _kill_phase(self, run: Run) -> str:
        if not run.solo:
            return OVERLAPPING
        if self._checkpoint_signature() != run.checkpoint_at_start:
            return AFTER_SAVE
        return AFTER_ACK if self.windows_stored > run.windows_at_start else BEFORE_ACK

    def _finish(self, run: Run, now: float) -> None:
        run.process.wait()
        run.finish(now)
        if run.activation_id:
            result = run.summary
            if result and result.get("errors"):
                result = {"error": "; ".join(result["errors"]), **result}
            self.world.record_run(run.activation_id, run.started, now, result)
        self.alive.remove(run)
        self.done.append(run)
        for error in (run.summary or {}).get("errors") or []:
            kind = next((name for words, name in ERROR_KINDS if words in error), "other")
            self.errors[kind] += 1
            if kind == "other" and len(self.other_errors) < 10:
                self.other_errors.append(error[:300])
        self._run_log.write(json.dumps(run.record()) + "\n")

    def _checkpoint_signature(self) -> object:
        """Changes whenever a file checkpoint is replaced; ``None`` for other stores (not attributed)."""
        if not self.checkpoint.startswith("file:"):
            return None
        try:
            stat = Path(self.checkpoint[len("file:"):]).stat()
        except FileNotFoundError:
            return "missing"
        return (stat.st_ino, stat.st_mtime_ns)

    def _checkpoint_leftovers(self) -> int | None:
        """Temporary files of a file checkpoint left behind: each is a kill that landed inside a save."""
        if not self.checkpoint.startswith("file:"):
            return None
        path = Path(self.checkpoint[len("file:"):])
        return sum(1 for _ in path.parent.glob(f".{path.name}.*"))

    def _profile_name(self) -> str:
        api = self.world.emulator.faults
        receivers = "/".join(slot.profile.kind for slot in self.world.slots)
        return (f"api fail={api.fail_rate:.2f} reset={api.reset_rate:.2f} slow={api.slow_rate:.2f}; "
                f"receivers {receivers}")

    def _progress(self, started: int) -> None:
        if self.config.quiet or time.monotonic() - self._progress_at < (0.5 if sys.stderr.isatty() else 30):
            return
        self._progress_at = time.monotonic()
        kills = sum(1 for run in self.done if run.killed)
        line = (f"run {started}/{self.config.runs}  alive {len(self.alive)}  kills {kills}  "
                f"overlapping {self.overlapping}  windows stored {self.windows_stored}")
        print(f"\r{line}   " if sys.stderr.isatty() else line, end="" if sys.stderr.isatty() else "\n",
              file=sys.stderr, flush=True)

    # --- the figures -------------------------------------------------------------------------

    def _result(self, figures: dict, fault_counts: dict, drained: bool, seconds: float) -> dict:
        if not self.config.quiet and sys.stderr.isatty():
            print(file=sys.stderr)
        fault_runs = [run for run in self.done if run.index < self.config.runs]
        killed = [run for run in fault_runs if run.killed in ("timed", "after_ack")]
        summaries = [run.summary for run in fault_runs if run.summary]
        result = {
            "passed": False,
            "seed": self.config.seed,
            "duration_seconds": round(seconds, 1),
            "runs": len(fault_runs),
            "drain_runs": self.drain_runs,
            "drained": drained,
            "kills": len(killed),
            "kills_by_strategy": dict(Counter(run.killed for run in killed)),
            "kills_by_phase": {phase: dict(Counter(run.killed for run in killed if run.kill_phase == phase))
                               for phase in KILL_PHASES},
            "runs_overlapping": self.overlapping,
            "runs_skipped_by_lease": sum(1 for s in summaries if "skipped" in s),
            "runs_completed": len(summaries),
            "runs_stopped_at_deadline": sum(1 for s in summaries if s.get("stopped_at_deadline")),
            "runs_past_deadline": sum(1 for run in fault_runs if run.summary and run.ended > run.deadline),
            "runs_hung": self.hung,
            "checkpoint_temp_files_left": self._checkpoint_leftovers(),
            "faults": {**fault_counts, "harness": {"sigkill": len(killed), "overlapping_runs": self.overlapping}},
            "forwarder_errors": dict(self.errors),
            "forwarder_errors_other": self.other_errors,
            **figures,
            "parameters": {**self.config.as_dict(), "checkpoint": self.checkpoint},
            "workdir": str(self.workdir),
        }
        result["resent_per_kill"] = round(figures["resent_lines"] / len(killed), 1) if killed else 0.0
        result["passed"] = (drained and figures["lost"] == 0 and figures["unexpected"] == 0
                            and figures["id_conflicts"] == 0 and self.hung == 0)
        return result


def _require_empty(checkpoint: str) -> None:
    """A checkpoint left by an earlier soak describes another emulator's activations: its cursor and
    its delivered ids (the same ids, with the same seed) would make this soak skip lines."""
    try:
        store = open_store(checkpoint)
        try:
            document = store.load()
        finally:
            store.close()
    except LogfwdError as exc:
        raise ValueError(f"cannot use the checkpoint store: {exc}") from None
    if document is not None:
        raise ValueError(f"{store.describe()} already holds a checkpoint; the soak needs an empty store "
                         "(delete the key or file, or name another)")


def run_soak(config: SoakConfig) -> dict:
    """Run a soak over each of ``config.stores`` and return the figures, per store and added up
    (``passed`` says whether nothing was lost and no id came with two contents)."""
    return run_stores(config, lambda one: Soak(one).run())
