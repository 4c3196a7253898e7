"""``python -m tests.bench.kinesis_syslog --stages``: where the forwarder's CPU goes, stage by stage, for
the batch of ``kinesis_syslog`` (CPU time of this process, the best of ``repeats`` rounds per stage):

- decode: the kinesis source's units, with an encoder that does nothing (base64, the lines, the ids);
  of it, ``base64`` (``binascii.a2b_base64`` of each record's data alone) and ``convox regex`` (the
  Convox prefix's match of each line alone);
- encode: the syslog encoder over what the source hands it (runs of one-line records), already decoded;
- pipeline: ``forward`` with the real source and encoder and a sink whose send only joins the bytes:
  the two above plus the units, the batcher and its thread, without I/O;
- send: the syslog sink sending the encoded messages to rsyslogd over TLS, in the pipeline's windows
  (connections, TLS, the clean close);
- whole: ``run_once``, as the benchmark runs it.
"""

import time
from binascii import a2b_base64
from pathlib import Path

from logfwd.deadline import NO_DEADLINE
from logfwd.pipeline import forward
from logfwd.plugs import WRITTEN
from logfwd.retry import NO_WAIT
from logfwd.runner import run_once
from logfwd.settings import load_settings
from logfwd.sources.kinesis.lines import _CONVOX
from logfwd.sources.kinesis.source import KinesisSource

WINDOW = 4096  # what run_once gives a send: batch_size 2048 x 2


class _JoiningSink:
    """The syslog sink's encoder, and a send that only joins the bytes as the real one does."""

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


def _best_cpu(work, repeats: int) -> float:
    work()  # warm: caches, imports
    rounds = []
    for _ in range(repeats):
        started = time.process_time()
        work()
        rounds.append(time.process_time() - started)
    return min(rounds)


def stages(batch: dict, server, ca_file: Path, repeats: int = 5) -> dict:
    """CPU microseconds per line of each stage (see the module docstring)."""
    settings = load_settings({"source": "kinesis", "sink": "syslog", "syslog_host": f"127.0.0.1:{server.port}",
                              "syslog_ca": str(ca_file)}, {}, None)
    from logfwd.plugs import plug

    sink = plug("sink", "syslog").build(settings, type("Context", (), {"retry": NO_WAIT})())
    records = batch["Records"]
    lines = len(records)

    def units(encode):
        for _ in KinesisSource(batch, now_ms=lambda: 0).units(NO_DEADLINE, encode):
            pass

    decoded: list = []  # what the source hands the encoder: runs of one-line records, single records
    units(lambda events: decoded.append(events) or ())
    payloads = [payload for events in decoded for payload in sink.encode(events)]

    def send():
        for start in range(0, len(payloads), WINDOW):
            sink.send(payloads[start:start + WINDOW], NO_DEADLINE)

    data = [record["kinesis"]["data"] for record in records]
    texts = [a2b_base64(item).decode() for item in data]
    cpu = {
        "decode": _best_cpu(lambda: units(lambda events: ()), repeats),
        "base64": _best_cpu(lambda: [a2b_base64(item, strict_mode=True) for item in data], repeats),
        "convox regex": _best_cpu(lambda: [_CONVOX.match(text).groups() for text in texts], repeats),
        "encode": _best_cpu(lambda: [sink.encode(events) for events in decoded], repeats),
        "pipeline": _best_cpu(lambda: forward(KinesisSource(batch, now_ms=lambda: 0), _JoiningSink(sink.encode),
                                              max_events=WINDOW), repeats),
        "send": _best_cpu(send, repeats),
        "whole": _best_cpu(lambda: run_once(settings, event=batch, retry=NO_WAIT), repeats),
    }
    return {name: round(seconds / lines * 1e6, 2) for name, seconds in cpu.items()}


def render(split: dict) -> str:
    return "\n".join([
        "client CPU per line, by stage (us, best round):",
        f"  decode (source)              {split['decode']:6.2f}",
        f"    of it base64               {split['base64']:6.2f}",
        f"    of it the Convox regex     {split['convox regex']:6.2f}",
        f"  encode (RFC 5424)            {split['encode']:6.2f}",
        f"  pipeline without I/O         {split['pipeline']:6.2f}  (decode + encode + units, batcher)",
        f"  send (TLS to rsyslogd)       {split['send']:6.2f}",
        f"  whole run_once               {split['whole']:6.2f}",
    ])
