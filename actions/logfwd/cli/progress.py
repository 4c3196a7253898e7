"""A one-line progress display for terminals, redrawn in place."""

import time
from typing import TextIO


class ProgressLine:
    def __init__(self, stream: TextIO, interval: float = 0.2):
        self.stream = stream
        self.interval = interval
        self.last = 0.0
        self.width = 0

    def __call__(self, counts: dict) -> None:
        now = time.monotonic()
        if now - self.last < self.interval:
            return
        self.last = now
        text = (f"forwarding: {counts.get('activations', 0)} activations, {counts.get('events', 0)} events, "
                f"{counts.get('bytes', 0) / 1e6:.1f} MB")
        self.stream.write("\r" + text.ljust(self.width))
        self.stream.flush()
        self.width = len(text)

    def clear(self) -> None:
        if self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()
