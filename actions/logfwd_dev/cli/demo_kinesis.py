"""``logfwd demo kinesis``: the AWS Lambda pipeline (Kinesis -> syslog over TLS) on one machine, no AWS.

It writes two Lambda events to the state folder (a Kinesis batch holding every record shape: Convox
lines, JSON lines, a CloudWatch Logs payload, a record that is not base64; and a CloudWatch Logs
subscription of a Lambda function's own logs), starts the development syslog receiver on TLS with a
throwaway CA, runs ``logfwd invoke --event`` on each, and shows what the receiver got.
"""

import argparse
import base64
import gzip
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

from logfwd.sinks.tls import server_context

from ..syslog.server import SyslogReceiver

STREAM_ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/shop-Kinesis-1A2B3C4D5E6F"
SHARD = "shardId-000000000000"


def demo(args: argparse.Namespace) -> int:
    state = Path(args.state)
    state.mkdir(parents=True, exist_ok=True)
    received = state / "demo-syslog.jsonl"
    received.unlink(missing_ok=True)
    ca_file, cert, key = _throwaway_pki(state / "demo-tls")
    now = time.time()
    events = {state / "demo-kinesis-event.json": kinesis_event(now),
              state / "demo-awslogs-event.json": awslogs_event(now)}
    for path, event in events.items():
        path.write_text(json.dumps(event, indent=2) + "\n")

    with SyslogReceiver(received, ssl_context=server_context(cert, key)) as receiver:
        host, port = receiver.address
        print(f"Syslog receiver (RFC 5424 over TLS, certificate from a throwaway CA) on {host}:{port}, "
              f"writing each message's parts to {received}")
        params = {"source": "kinesis", "sink": "syslog", "syslog_host": f"{host}:{port}", "syslog_ca": str(ca_file)}
        for path in events:
            argv = ["invoke", "--event", str(path)]
            for name, value in params.items():
                argv += ["--param", f"{name}={value}"]
            print(f"\n$ logfwd {shlex.join(argv)}", flush=True)  # to run the same step by hand
            # Exit code 1 is expected here: the batch holds a record that is not base64 (reported, forwarded raw).
            code = subprocess.call([sys.executable, "-m", "logfwd", *argv], stderr=subprocess.STDOUT)
            if code not in (0, 1):
                return code
    messages = [json.loads(line) for line in received.read_text(encoding="utf-8").splitlines()]
    print(f"\nThe receiver got {len(messages)} messages ({received}); as a syslog viewer shows them:")
    for message in messages:
        print("  " + _viewer_line(message))
    if messages:
        print(f"Each carries its ids in its structured data, so a re-sent line can be recognised:\n  "
              f"{messages[0].get('structured_data')}")
    return 0


def _viewer_line(message: dict) -> str:
    if "error" in message:
        return f"(not RFC 5424: {message['error']})"
    procid = "" if message["procid"] == "-" else f"[{message['procid'][:12]}]"
    action = "" if message["msgid"] == "-" else f" ({message['msgid']})"
    return (f"<{message['pri']}> {message['timestamp']} {message['hostname']} {message['app_name']}{procid}{action}: "
            f"{message['msg'][:100]}")


def _record(data: bytes | str, sequence: int, arrival: float) -> dict:
    return {"kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": "web", "sequenceNumber": str(sequence),
                        "data": base64.b64encode(data).decode() if isinstance(data, bytes) else data,
                        "approximateArrivalTimestamp": round(arrival, 3)},
            "eventSource": "aws:kinesis", "eventVersion": "1.0", "eventID": f"{SHARD}:{sequence}",
            "eventName": "aws:kinesis:record", "awsRegion": "us-east-1", "eventSourceARN": STREAM_ARN}


def kinesis_event(now: float) -> dict:
    """What Lambda passes for a Kinesis batch: one record per shape the source tells apart."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now))
    convox = (f"{stamp} web:RXZMCQEPDKO/1d11a78279e0 Started GET \"/orders\" for 203.0.113.7\n"
              f"{stamp} web:RXZMCQEPDKO/1d11a78279e0 Completed 200 OK in 12ms\n"
              f"{stamp} worker:RXZMCQEPDKO/5b3c0e1f9a22 processed job 42\n")
    json_line = json.dumps({"level": "error", "msg": "payment declined", "order": 1234}) + "\n"
    cloudwatch = {"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "shop-LogGroup-1A2B3C4D5E6F",
                  "logStream": "web/RXZMCQEPDKO/1d11a78279e0", "subscriptionFilters": ["convox"],
                  "logEvents": [{"id": "37000000000000000000000000000000000000000000000000000001",
                                 "timestamp": int(now * 1000),
                                 "message": "web:RXZMCQEPDKO/1d11a78279e0 via CloudWatch Logs"}]}
    records = [convox.encode(), json_line.encode(), gzip.compress(json.dumps(cloudwatch).encode()),
               "this record is not base64!", b"a line without the Convox prefix"]
    first = 49590668435772834867384701968912358023909117360707174400
    return {"Records": [_record(data, first + n, now + n / 1000) for n, data in enumerate(records)]}


def awslogs_event(now: float) -> dict:
    """A CloudWatch Logs subscription invoking the function directly: a Lambda function's own logs."""
    ms = int(now * 1000)
    request = "8f5e1b7a-3c2d-4e6f-9a0b-1c2d3e4f5a6b"
    lines = [f"START RequestId: {request} Version: $LATEST",
             f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(now))}.000Z\t{request}\tINFO\tresized 3 images",
             f"END RequestId: {request}",
             f"REPORT RequestId: {request}\tDuration: 102.25 ms\tBilled Duration: 103 ms\tMemory Size: 128 MB\t"
             "Max Memory Used: 71 MB\tInit Duration: 180.72 ms"]
    payload = {"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "/aws/lambda/thumbnailer",
               "logStream": "2026/11/30/[$LATEST]0123456789abcdef0123456789abcdef", "subscriptionFilters": ["all"],
               "logEvents": [{"id": str(36000000000000000000000000000000000000000000000000000000 + n),
                              "timestamp": ms + n, "message": line + "\n"} for n, line in enumerate(lines)]}
    return {"awslogs": {"data": base64.b64encode(gzip.compress(json.dumps(payload).encode())).decode()}}


def _throwaway_pki(folder: Path) -> tuple[Path, str, str]:
    """A CA and a certificate for 127.0.0.1 made for this run only (trustme, from the test extra)."""
    try:
        import trustme
    except ImportError:
        raise SystemExit("logfwd demo kinesis makes a throwaway CA with trustme: pip install trustme "
                         "(it is in logfwd's test extra: pip install -e '.[test]')") from None
    folder.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1", "localhost")
    ca_file, cert, key = folder / "ca.pem", folder / "server.pem", folder / "server-key.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    server.cert_chain_pems[0].write_to_path(str(cert))
    for blob in server.cert_chain_pems[1:]:
        blob.write_to_path(str(cert), append=True)
    server.private_key_pem.write_to_path(str(key))
    return ca_file, str(cert), str(key)
