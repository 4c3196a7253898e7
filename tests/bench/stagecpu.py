"""What the per-stage benches (``kinesis_stages``, ``s3_stages``) share: a stage's best CPU time, a sink
that only joins the bytes (the pipeline without I/O), and the table they print."""

import time

from logfwd.plugs import WRITTEN


class JoiningSink:
    """A sink with the real encoder and a send that only joins the bytes, as a real send does."""

    guarantee = WRITTEN

    def __init__(self, encode):
        self.encode = encode
        self.batches_sent = 0

    def send(self, payloads, deadline):
        b"".join(payloads)
        self.batches_sent += 1

    def describe(self):
        return "joining sink"

    def close(self):
        pass


def best_cpu(work, repeats: int) -> float:
    """The least CPU time (this process's) ``work()`` took over ``repeats`` rounds, after a warm-up."""
    work()  # warm: caches, imports
    rounds = []
    for _ in range(repeats):
        started = time.process_time()
        work()
        rounds.append(time.process_time() - started)
    return min(rounds)


def render(title: str, rows: list[tuple[str, float, str]], width: int) -> str:
    """``title`` and one line per stage: its label padded to ``width``, its µs a line, a note."""
    return "\n".join([title, *(f"  {label:<{width}}{value:6.2f}{note}" for label, value, note in rows)])
