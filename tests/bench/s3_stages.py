"""``python -m tests.bench.s3_elb --stages``: where the forwarder's CPU goes, stage by stage, for the gzip
ALB object of ``s3_elb`` (CPU time of this process, the best of ``repeats`` rounds per stage, per line):

- read: GetObject and its body's chunks from moto's S3 (boto3, urllib3), nothing else;
- inflate: those chunks inflated (``inflated``);
- lines: the inflated blocks cut into lines of text, with their offsets (``line_runs``, ``decoded_lines``);
- source: the s3 source's units with an encoder that does nothing: the three above, each line's text,
  number and offset, the control-line check and the units;
- parse + encode: the units' lines written as JSON (``json_payloads`` of each ``ObjectLines``, the tcp
  sink's encoder);
- pipeline: ``forward`` with the real source and encoder and a sink whose send only joins the bytes
  (``kinesis_stages``'s): source + parse + encode + the batcher and its thread, without the network;
- send: the tcp sink sending the encoded lines to the receiver in the pipeline's sends (its
  connections, the writes, the clean close);
- whole: ``forward`` as the end-to-end child runs it, in this process (client made, boto3 imported).

A stage's CPU includes the stages listed inside it; the rest of ``whole`` minus ``pipeline`` and
``send`` is the overlap of the two threads and the garbage collector.
"""

from logfwd.codecs.jsonbytes import json_payloads
from logfwd.deadline import NO_DEADLINE
from logfwd.pipeline import forward
from logfwd.sinks.tcp.sink import TcpSink
from logfwd.sources.s3.lines import decoded_lines, inflated, line_runs
from logfwd.sources.s3.source import CHUNK, S3Source
from tests.bench.stagecpu import JoiningSink, best_cpu, render as render_rows

SEND = 2048  # what forward gives a send (max_events)


def _each(work, items) -> None:
    """``work`` on each item, its results dropped at once (100,000 documents kept cost page faults)."""
    for item in items:
        work(item)


def stages(client, bucket: str, key: str, port: int, lines: int, repeats: int = 3) -> dict:
    """CPU microseconds per line of each stage (see the module docstring)."""
    event = {"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                          "s3": {"bucket": {"name": bucket}, "object": {"key": key}}}]}

    def chunks():
        return list(client.get_object(Bucket=bucket, Key=key)["Body"].iter_chunks(CHUNK))

    def run(make_sink):
        summary = forward(S3Source(event, client), make_sink(), None)
        if not summary["ok"] or summary["lines_delivered"] != lines:
            raise RuntimeError(f"the pass failed: {summary}")

    # The passes first, while this process holds nothing big (100,000 documents kept for the stages
    # below would cost them page faults and garbage collection).
    cpu = {"whole": best_cpu(lambda: run(lambda: TcpSink([("127.0.0.1", port)])), repeats),
           "pipeline": best_cpu(lambda: run(lambda: JoiningSink(json_payloads)), repeats),
           "read": best_cpu(chunks, repeats)}
    raw_chunks = chunks()
    cpu["inflate"] = best_cpu(lambda: list(inflated(raw_chunks)), repeats)
    blocks = list(inflated(raw_chunks))
    cpu["lines"] = best_cpu(lambda: [decoded_lines(run, 0) for run in line_runs(blocks)], repeats)
    raw_chunks = blocks = None  # not held while the stages below run
    cpu["source"] = best_cpu(lambda: list(S3Source(event, client).units(NO_DEADLINE, lambda lines: ())), repeats)
    units = [unit[0] for unit in S3Source(event, client).units(NO_DEADLINE, lambda lines: lines)]
    cpu["parse_encode"] = best_cpu(lambda: _each(json_payloads, units), repeats)
    payloads = [payload for unit in units for payload in json_payloads(unit)]
    units = None
    if len(payloads) != lines:
        raise RuntimeError(f"{len(payloads)} documents for {lines} lines")
    sink = TcpSink([("127.0.0.1", port)])

    def send():
        for start in range(0, len(payloads), SEND):
            sink.send(payloads[start:start + SEND])
    cpu["send"] = best_cpu(send, repeats)
    return {name: round(seconds / lines * 1e6, 2) for name, seconds in cpu.items()}


def render(split: dict) -> str:
    return render_rows("forwarder CPU per line, by stage (us, best round):", [
        ("read (GetObject, chunks)", split["read"], ""),
        ("inflate", split["inflate"], ""),
        ("cut into lines", split["lines"], ""),
        ("source (the 3 above, units)", split["source"], ""),
        ("parse + encode", split["parse_encode"], ""),
        ("pipeline without I/O", split["pipeline"], "  (source + parse + encode + batcher)"),
        ("send (tcp sink)", split["send"], ""),
        ("whole forward", split["whole"], ""),
    ], 30)
