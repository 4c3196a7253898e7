"""``python -m tests.bench.parts [--activations N] [--passes P] [TARGET ...]``: the CPU of named functions
inside the passes of ``tests.bench.stages``, each without the other targets it calls.

A TARGET is ``module:Name.attribute`` (or ``module:function``); without any, the held pages, the units
of a run of records, the batcher and the Lumberjack framing. Each call is timed with ``time.thread_time``
(the calling thread's CPU), and a generator function each time it is resumed. Where a sampling profiler
attributes a sample to the innermost line, this tells what a call costs where it runs: those parts read
data the pass left out of the cache (summing a held page's head lengths: 0.12 us a line there, 0.04
while the page is in the cache), which the same code on one page in a loop does not show.

The figures cover every pass, the warm-up too, and include ~0.3 us a call of the timing itself.
"""

import argparse
import importlib
import inspect
import sys
import threading
import time
from collections import defaultdict
from functools import wraps

from . import stages

TARGETS = (
    "logfwd.sources.openwhisk.paging:HeldPage.__init__", "logfwd.sources.openwhisk.paging:HeldPage.pack",
    "logfwd.sources.openwhisk.paging:HeldPage._unpacked", "logfwd.sources.openwhisk.paging:RecordsUnit.of",
    "logfwd.sources.openwhisk.paging:RecordsUnit.done", "logfwd.batcher:Batcher.add",
    "logfwd.batcher:Batcher._wait", "logfwd.sinks.lumberjack.sink:encode_window",
)


class Timer:
    """CPU of the functions it wraps, a thread's callees that it also wraps not counted in their callers."""

    def __init__(self):
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.local = threading.local()
        self.lock = threading.Lock()  # targets run on several threads (the sender's, the pages')

    def _timed(self, name: str, step):
        children = self.local.__dict__.setdefault("children", [])
        children.append(0.0)
        started = time.thread_time()
        try:
            return step()
        finally:
            spent = time.thread_time() - started
            with self.lock:
                self.seconds[name] += spent - children.pop()
            if children:
                children[-1] += spent

    def wrap(self, target: str) -> None:
        module_name, _, path = target.partition(":")
        owner = importlib.import_module(module_name)
        *outer, attribute = path.split(".")
        for part in outer:
            owner = getattr(owner, part)
        function = getattr(owner, attribute)
        timed = self._timed

        if inspect.isgeneratorfunction(function):
            @wraps(function)
            def wrapper(*args, **kwargs):
                generator = function(*args, **kwargs)  # resumed with next() only: no send() or throw()
                with self.lock:
                    self.calls[target] += 1
                while True:
                    try:
                        item = timed(target, lambda: next(generator))
                    except StopIteration:
                        return
                    yield item
        else:
            @wraps(function)
            def wrapper(*args, **kwargs):
                with self.lock:
                    self.calls[target] += 1
                return timed(target, lambda: function(*args, **kwargs))
        setattr(owner, attribute, wrapper)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--activations", type=int, default=100_000)
    parser.add_argument("--passes", type=int, default=1, help="timed passes after the warm-up one")
    parser.add_argument("targets", nargs="*", default=list(TARGETS))
    args = parser.parse_args(argv)
    timer = Timer()
    for target in args.targets:
        timer.wrap(target)
    results = stages.passes(args.activations, args.passes)
    lines = sum(result["lines"] for result in results)
    print("passes: " + ", ".join(f"{result['cpu_us_per_line']} us a line" for result in results))
    for target in args.targets:
        print(f"{1e6 * timer.seconds[target] / lines:7.3f} us a line  {timer.calls[target]:8,} calls  {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
