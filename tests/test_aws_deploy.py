"""The AWS Lambda deployment files (actions/aws/*.yml) with the real Serverless Framework v3.

`serverless package` runs offline and without credentials; the CloudFormation template it writes is
where the function, its environment, its trigger and its permissions can be read exactly as AWS would
receive them. The artifact is the Lambda zip that `make build` writes.
"""

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from test_serverless import install_tools

ROOT = Path(__file__).resolve().parent.parent
AWS = ROOT / "actions" / "aws"
STREAM = "arn:aws:kinesis:eu-west-1:123456789012:stream/convox-app"
REQUIRED = {"LOGFWD_SYSLOG_HOST": "logs1.papertrailapp.com:12345", "KINESIS_STREAM_ARN": STREAM,
            "LOG_GROUP": "/aws/lambda/shop"}


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    binary = install_tools()
    root = tmp_path_factory.mktemp("aws")
    service = root / "actions" / "aws"
    service.mkdir(parents=True)
    for config in AWS.glob("*.yml"):
        shutil.copy2(config, service / config.name)
    (service / "node_modules").symlink_to(binary.parent.parent)
    build = subprocess.run([sys.executable, str(ROOT / ".ci" / "build_action.py"), "--no-measure",
                            "--out", str(root / "build" / "logfwd-action.zip")],
                           capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr
    home = tmp_path_factory.mktemp("home")

    def run(config: str, **env: str) -> dict:
        environ = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SLS_", "LOGFWD_", "KINESIS_"))}
        environ.update(HOME=str(home), SLS_TELEMETRY_DISABLED="1", SLS_NOTIFICATIONS_MODE="off",
                       SLS_INTERACTIVE_SETUP_DISABLE="1", CI="1", AWS_REGION="eu-west-1", **env)
        out = service / ".serverless"
        shutil.rmtree(out, ignore_errors=True)
        result = subprocess.run([str(binary), "package", "--config", config], cwd=service, env=environ,
                                capture_output=True, text=True, timeout=180)
        assert result.returncode == 0, f"serverless package --config {config}:\n{result.stdout}\n{result.stderr}"
        template = json.loads((out / "cloudformation-template-update-stack.json").read_text())
        state = json.loads((out / "serverless-state.json").read_text())
        return {"resources": template["Resources"], "state": state, "root": root}

    return run


def of_type(resources: dict, kind: str) -> list[dict]:
    return [r["Properties"] for r in resources.values() if r["Type"] == kind]


def statements(resources: dict) -> list[dict]:
    role = of_type(resources, "AWS::IAM::Role")[0]
    return [s for policy in role["Policies"] for s in policy["PolicyDocument"]["Statement"]]


def test_kinesis_function_reports_batch_item_failures_and_reads_only_its_stream(package):
    packed = package("kinesis.yml", **REQUIRED)
    function = of_type(packed["resources"], "AWS::Lambda::Function")[0]
    assert function["Handler"] == "logfwd.entries.aws_lambda.handler" and function["Runtime"] == "python3.11"
    env = function["Environment"]["Variables"]
    assert env["LOGFWD_SOURCE"] == "kinesis" and env["LOGFWD_SINK"] == "syslog"
    assert env["LOGFWD_SYSLOG_HOST"] == REQUIRED["LOGFWD_SYSLOG_HOST"]
    assert env["LOGFWD_KINESIS_REPORT_BATCH_ITEM_FAILURES"] == "true"
    mapping = of_type(packed["resources"], "AWS::Lambda::EventSourceMapping")[0]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"] and mapping["EventSourceArn"] == STREAM
    assert mapping["BatchSize"] == 1000 and mapping["StartingPosition"] == "TRIM_HORIZON"
    kinesis = [s for s in statements(packed["resources"]) if any(a.startswith("kinesis:") for a in s["Action"])]
    assert kinesis and all(s["Resource"] == [STREAM] for s in kinesis)
    assert not any(a in ("*", "kinesis:*", "s3:*") for s in statements(packed["resources"]) for a in s["Action"])


def test_every_setting_a_deployment_passes_is_a_declared_parameter(package):
    from logfwd.settings import ENV_PREFIX, declared

    for config, source, sink in (("kinesis.yml", "kinesis", "syslog"), ("cloudwatch-logs.yml", "kinesis", "syslog")):
        function = of_type(package(config, **REQUIRED)["resources"], "AWS::Lambda::Function")[0]
        names = {ENV_PREFIX + name.upper() for name in declared(source, sink)}
        assert set(function["Environment"]["Variables"]) <= names, config


def test_cloudwatch_logs_subscription_invokes_the_function(package):
    packed = package("cloudwatch-logs.yml", **REQUIRED)
    subscription = of_type(packed["resources"], "AWS::Logs::SubscriptionFilter")[0]
    assert subscription["LogGroupName"] == "/aws/lambda/shop" and subscription["FilterPattern"] == ""
    permission = of_type(packed["resources"], "AWS::Lambda::Permission")[0]
    assert permission["Action"] == "lambda:InvokeFunction"
    assert permission["Principal"]["Fn::Join"][1][0] == "logs."  # logs.<region>.amazonaws.com only
    assert "/aws/lambda/shop" in permission["SourceArn"]["Fn::Join"][1]  # ... and only for that group


def test_the_artifact_is_the_lambda_zip(package):
    packed = package("kinesis.yml", **REQUIRED)
    artifact = packed["state"]["service"]["initialServerlessConfig"]["package"]["artifact"]
    assert artifact == "../../build/logfwd-lambda.zip"
    with zipfile.ZipFile(packed["root"] / "build" / "logfwd-lambda.zip") as built:
        assert "logfwd/entries/aws_lambda.py" in built.namelist() and "__main__.py" not in built.namelist()
