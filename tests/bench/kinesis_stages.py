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

from binascii import a2b_base64
from pathlib import Path

from logfwd.deadline import NO_DEADLINE
from logfwd.pipeline import forward
from logfwd.retry import NO_WAIT
from logfwd.runner import run_once
from logfwd.settings import load_settings
from logfwd.sources.kinesis.lines import _CONVOX
from logfwd.sources.kinesis.source import KinesisSource

from .stagecpu import JoiningSink, best_cpu, render as render_rows

WINDOW = 4096  # what run_once gives a send: batch_size 2048 x 2


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
        "decode": best_cpu(lambda: units(lambda events: ()), repeats),
        "base64": best_cpu(lambda: [a2b_base64(item, strict_mode=True) for item in data], repeats),
        "convox regex": best_cpu(lambda: [_CONVOX.match(text).groups() for text in texts], repeats),
        "encode": best_cpu(lambda: [sink.encode(events) for events in decoded], repeats),
        "pipeline": best_cpu(lambda: forward(KinesisSource(batch, now_ms=lambda: 0), JoiningSink(sink.encode),
                                              max_events=WINDOW), repeats),
        "send": best_cpu(send, repeats),
        "whole": best_cpu(lambda: run_once(settings, event=batch, retry=NO_WAIT), repeats),
    }
    return {name: round(seconds / lines * 1e6, 2) for name, seconds in cpu.items()}


def render(split: dict) -> str:
    return render_rows("client CPU per line, by stage (us, best round):", [
        ("decode (source)", split["decode"], ""),
        ("  of it base64", split["base64"], ""),
        ("  of it the Convox regex", split["convox regex"], ""),
        ("encode (RFC 5424)", split["encode"], ""),
        ("pipeline without I/O", split["pipeline"], "  (decode + encode + units, batcher)"),
        ("send (TLS to rsyslogd)", split["send"], ""),
        ("whole run_once", split["whole"], ""),
    ], 29)
