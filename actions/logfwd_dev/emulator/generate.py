"""Random but realistic activations: statuses, cold starts, waits, durations, shared milliseconds.

All randomness comes from one injected ``random.Random`` so a run is reproducible from its seed.
Log lines themselves are rendered later from each activation's 64-bit seed (see ``loglines``).
"""

import random

from . import loglines
from .platform import Platform
from .records import Activation, ActionSpec

__all__ = ["ActivationFactory", "new_activation_id"]

# statusCode weights: mostly successes, some application and developer errors, rare platform errors.
_STATUS_WEIGHTS = (85, 8, 5, 2)
_COLD_RATE = 0.1
_TRUNCATED_RATE = 0.01
_COLLECTION_FAILED_RATE = 0.005


def new_activation_id(rng: random.Random) -> str:
    """32 lowercase hex characters, like the controller's ids."""
    return f"{rng.getrandbits(128):032x}"


class ActivationFactory:
    """Builds activations of a catalog of actions; one call may yield several records.

    A sequence yields its own record plus one per component (``cause`` = the sequence's id); a
    trigger yields its record plus the activation its rule fired.
    """

    def __init__(self, rng: random.Random, catalog: dict[str, ActionSpec], platform: Platform = Platform()):
        self.rng = rng
        self.catalog = catalog
        self.platform = platform

    def spec(self, path: str) -> ActionSpec:
        """The action called ``path``; unknown names join the catalog as Python actions."""
        spec = self.catalog.get(path)
        if spec is None:
            spec = self.catalog[path] = ActionSpec(path)
        return spec

    def duration(self, spec: ActionSpec, max_duration_ms: int) -> int:
        """Mostly short runs with a long tail, never above the action's time limit."""
        cap = max(1, min(spec.timeout, max_duration_ms))
        return min(cap, max(1, int(self.rng.expovariate(1.0 / max(1.0, cap / 8)))))

    def make(self, path: str, start_ms: int, duration_ms: int, lines: int) -> list[Activation]:
        """The activation(s) of one invocation of ``path`` starting at ``start_ms``; first is the top one."""
        spec = self.spec(path)
        if spec.kind == "sequence":
            return self._sequence(spec, start_ms, duration_ms, lines)
        if spec.kind == "trigger":
            fired = self.make(spec.rule_action, start_ms + 1, duration_ms, lines)
            trigger = Activation(new_activation_id(self.rng), spec, start_ms, start_ms, fired=fired[0].activation_id)
            return [trigger, *fired]
        return [self._action(spec, start_ms, duration_ms, lines)]

    def _action(self, spec: ActionSpec, start_ms: int, duration_ms: int, lines: int, cause=None) -> Activation:
        rng = self.rng
        status = rng.choices(range(4), _STATUS_WEIGHTS)[0]
        timed_out = status == 2 and rng.random() < 0.3
        if timed_out:
            duration_ms = spec.timeout
        marker = None
        roll = rng.random()
        if status == 2:
            marker = loglines.DEVELOPER_ERROR
        elif roll < _TRUNCATED_RATE:
            marker = loglines.TRUNCATED
        elif roll < _TRUNCATED_RATE + _COLLECTION_FAILED_RATE:
            marker = loglines.COLLECTION_FAILED
        # Drawn in this order, so that a seed gives the same activations as it always did.
        activation_id, wait_time = new_activation_id(rng), int(rng.expovariate(1 / 12)) + 1
        init_time = rng.randint(30, 900) if rng.random() < _COLD_RATE else 0
        collect_ms = 0
        if self.platform.late_records:
            # The record's start is the run's start minus the init, and init gets the whole time limit
            # too (ContainerProxy): the record can end ~2 x the limit after its start, then its logs
            # are collected before it is stored.
            if init_time:
                init_time = spec.timeout if rng.random() < 0.25 else rng.randint(30, spec.timeout)
                duration_ms += init_time
            collect_ms = int(rng.uniform(0, self.platform.log_collection) * 1000)
        return Activation(
            activation_id=activation_id,
            spec=spec,
            start=start_ms,
            end=start_ms + duration_ms,
            stored_at=start_ms + duration_ms + collect_ms,
            status=status,
            wait_time=wait_time,
            init_time=init_time,
            seed=rng.getrandbits(64),
            line_count=max(lines, 1) if marker else lines,
            marker=marker,
            cause=cause,
            timed_out=timed_out,
        )

    def _sequence(self, spec: ActionSpec, start_ms: int, duration_ms: int, lines: int) -> list[Activation]:
        seq_id = new_activation_id(self.rng)
        share = max(1, duration_ms // max(1, len(spec.components)))
        components, at = [], start_ms
        for path in spec.components:
            part = self._action(self.spec(path), at, share, lines, cause=seq_id)
            components.append(part)
            at = part.end
            if part.status != 0:  # a failing component ends the sequence
                break
        top = Activation(
            activation_id=seq_id,
            spec=spec,
            start=start_ms,
            end=at,
            status=components[-1].status,
            wait_time=components[0].wait_time,
            component_ids=tuple(c.activation_id for c in components),
            result=None,
            seed=components[-1].seed,
        )
        if self.platform.late_records:  # the controller writes it once the last component's record is in
            top.stored_at = max(c.stored_at for c in components) + self.rng.randint(1, 50)
        return [top, *components]
