"""The s3 pipeline through the AWS Lambda entry: settings from LOGFWD_* variables, an S3, SQS or
EventBridge event in, the platform's answer out; a failed delivery fails the invocation (S3,
EventBridge) or names the messages to retry (SQS)."""

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote_plus

import pytest

from jsonlines_receiver import JsonLinesReceiver
from logfwd.entries import aws_lambda
from logfwd.entries.aws_lambda import InvocationFailed
from servers_s3 import alb_line, log_object

pytestmark = pytest.mark.slow

BUCKET = "lambda-elb-logs"
KEY = "AWSLogs/123456789012/elasticloadbalancing/us-east-2/2026/11/30/app.lb 1+2.log.gz"
LINES = 3000


class Context:
    def get_remaining_time_in_millis(self):
        return 120_000


@pytest.fixture(scope="module")
def objects(s3_server):
    client = s3_server.client()
    client.create_bucket(Bucket=BUCKET)
    client.put_object(Bucket=BUCKET, Key=KEY, Body=log_object(alb_line, LINES, compress=True))
    return s3_server


@pytest.fixture
def configure(objects, monkeypatch, aws_credentials):
    def configure(receiver: JsonLinesReceiver) -> None:
        for name, value in {"SOURCE": "s3", "SINK": "tcp", "LOGSTASH_TLS": "false",
                            "LOGSTASH_HOSTS": f"127.0.0.1:{receiver.port}",
                            "S3_ENDPOINT_URL": objects.endpoint}.items():
            monkeypatch.setenv(f"LOGFWD_{name}", value)
    return configure


def notification() -> dict:
    return {"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "awsRegion": "us-east-2",
                         "s3": {"bucket": {"name": BUCKET}, "object": {"key": quote_plus(KEY, safe="/")}}}]}


def test_an_s3_notification_is_forwarded_and_answered(configure, capsys):
    with JsonLinesReceiver() as receiver:
        configure(receiver)
        assert aws_lambda.handler(notification(), Context()) == {}
    assert len(set(receiver.ids)) == len(receiver.lines) == LINES
    logged = json.loads(capsys.readouterr().out)
    assert logged["ok"] and logged["records"] == 1 and logged["lines_delivered"] == LINES
    assert logged["guarantee"] == "written" and logged["objects"][0]["key"] == KEY


def test_an_undelivered_object_fails_the_invocation(configure):
    receiver = JsonLinesReceiver()
    configure(receiver.start())
    receiver.stop()  # nothing listens any more
    with pytest.raises(InvocationFailed, match=r"app.lb 1\+2.log.gz: 0 lines delivered"):
        aws_lambda.handler(notification(), Context())


def test_sqs_and_eventbridge_events(configure):
    sqs = {"Records": [{"eventSource": "aws:sqs", "messageId": "m-1", "body": json.dumps(notification())},
                       {"eventSource": "aws:sqs", "messageId": "m-2", "body": "{"}]}
    eventbridge = {"detail-type": "Object Created", "source": "aws.s3",
                   "detail": {"bucket": {"name": BUCKET}, "object": {"key": KEY}}}
    with JsonLinesReceiver() as receiver:
        configure(receiver)
        assert aws_lambda.handler(sqs, Context()) == {"batchItemFailures": [{"itemIdentifier": "m-2"}]}
        assert aws_lambda.handler(eventbridge, Context()) == {}
    assert len(receiver.lines) == 2 * LINES and len(set(receiver.ids)) == LINES  # the same ids both times


def _imported_in_a_new_process(environ: dict) -> dict:
    code = ("import json, sys; import logfwd.entries.aws_lambda; from logfwd.sources.s3 import client; "
            "print(json.dumps({'clients': list(client._CLIENTS), 'boto3': 'boto3' in sys.modules}))")
    env = {key: value for key, value in os.environ.items() if not key.startswith("LOGFWD_")}
    env.update(environ, PYTHONPATH=str(Path(__file__).parents[1] / "actions"))
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_s3_client_is_made_in_the_init_phase_and_only_for_the_s3_source():
    endpoint = "http://127.0.0.1:9"  # never connected to: making a client does not connect
    made = _imported_in_a_new_process({"LOGFWD_SOURCE": "s3", "LOGFWD_S3_ENDPOINT_URL": endpoint,
                                       "AWS_DEFAULT_REGION": "us-east-1"})
    assert made == {"clients": [endpoint], "boto3": True}
    assert _imported_in_a_new_process({"LOGFWD_SOURCE": "kinesis"}) == {"clients": [], "boto3": False}
