"""Instructions a line of the whole s3 -> tcp forwarder, which the machine's load does not move:
``python -m tests.bench.s3_instructions`` (needs valgrind; a few minutes).

The forwarder runs in a child under valgrind's callgrind (both threads counted) twice, for a 1,000- and
a 6,000-line gzip ALB object from moto's S3 to a json_lines receiver; the difference of the two counts
over 5,000 lines leaves out the interpreter's start, the imports and the boto3 client.
"""

import sys

from tests.bench.callgrind import instructions
from tests.bench.s3_elb import BUCKET, _env, servers
from tests.servers_s3 import alb_line, log_object

_CHILD = """
import sys
from logfwd.pipeline import forward
from logfwd.sinks.tcp.sink import TcpSink
from logfwd.sources.s3.client import s3_client
from logfwd.sources.s3.source import S3Source
endpoint, bucket, key, port = sys.argv[1:5]
event = {"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                      "s3": {"bucket": {"name": bucket}, "object": {"key": key}}}]}
summary = forward(S3Source(event, s3_client(endpoint)), TcpSink([("127.0.0.1", int(port))]), None)
if not summary["ok"]:
    raise SystemExit(f"the forwarder failed: {summary.get('errors')}")
"""
SIZES = (1000, 6000)


def instructions_per_line() -> int:
    counts = {}
    with servers() as (server, client, _, port):
        for lines in SIZES:
            key = f"alb-{lines}.log.gz"
            client.put_object(Bucket=BUCKET, Key=key, Body=log_object(alb_line, lines, compress=True))
            counts[lines] = instructions([sys.executable, "-c", _CHILD, server.endpoint, BUCKET, key, str(port)],
                                         env={**_env(), "PYTHONHASHSEED": "0"})
    return (counts[SIZES[1]] - counts[SIZES[0]]) // (SIZES[1] - SIZES[0])

if __name__ == "__main__":
    print(f"{instructions_per_line():,} instructions a line (the whole forwarder, {SIZES[1]:,} minus {SIZES[0]:,} lines)")
