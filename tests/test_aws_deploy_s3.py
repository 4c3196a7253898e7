"""actions/aws/s3-elb.yml with the real Serverless Framework v3 (`serverless package`, offline): the
S3 trigger on the existing log bucket, and permissions that read that bucket's log prefix only."""

from test_aws_deploy import of_type, package  # noqa: F401  (package: the module fixture)

BUCKET = "acme-elb-logs"
REQUIRED = {"LOGFWD_LOGSTASH_HOSTS": "logstash.internal:5140", "ELB_LOG_BUCKET": BUCKET}


def function_of(packed: dict) -> dict:
    functions = [f for f in of_type(packed["resources"], "AWS::Lambda::Function")
                 if f.get("Handler") == "logfwd.entries.aws_lambda.handler"]
    assert len(functions) == 1
    return functions[0]


def test_the_function_forwards_s3_elb_logs_to_logstash(package):
    packed = package("s3-elb.yml", **REQUIRED)
    function = function_of(packed)
    assert function["Runtime"] == "python3.11" and function["Timeout"] == 300
    env = function["Environment"]["Variables"]
    assert env["LOGFWD_SOURCE"] == "s3" and env["LOGFWD_SINK"] == "tcp"
    assert env["LOGFWD_LOGSTASH_HOSTS"] == "logstash.internal:5140" and env["LOGFWD_LOGSTASH_TLS"] == ""


def test_the_trigger_is_object_created_under_the_prefix_of_the_existing_bucket(package):
    packed = package("s3-elb.yml", **REQUIRED, ELB_LOG_PREFIX="lb/AWSLogs/")
    notifications = of_type(packed["resources"], "Custom::S3")
    assert len(notifications) == 1 and notifications[0]["BucketName"] == BUCKET
    assert notifications[0]["BucketConfigs"] == [{"Event": "s3:ObjectCreated:*", "Rules": [{"Prefix": "lb/AWSLogs/"}]}]
    # The framework's helper that adds the notification may touch that bucket's notifications only.
    helper = packed["resources"]["IamRoleCustomResourcesLambdaExecution"]["Properties"]
    granted = [s for policy in helper["Policies"] for s in policy["PolicyDocument"]["Statement"]]
    on_s3 = [s for s in granted if any(a.startswith("s3:") for a in s["Action"])]
    assert on_s3 and all(set(s["Action"]) == {"s3:PutBucketNotification", "s3:GetBucketNotification"}
                         and s["Resource"]["Fn::Join"][1][-1] == BUCKET for s in on_s3)


def test_the_function_may_read_the_log_prefix_only(package):
    packed = package("s3-elb.yml", **REQUIRED)
    granted = [s for policy in packed["resources"]["IamRoleLambdaExecution"]["Properties"]["Policies"]
               for s in policy["PolicyDocument"]["Statement"]]
    s3 = [s for s in granted if any(str(a).startswith("s3:") for a in s["Action"])]
    reads = [s for s in s3 if s["Action"] == ["s3:GetObject"]]
    assert reads == s3 == [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": f"arn:aws:s3:::{BUCKET}/AWSLogs/*"}]
    assert not any(a in ("*", "s3:*") for s in granted for a in s["Action"])


def test_every_setting_it_passes_is_declared_for_both_sinks(package):
    from logfwd.settings import ENV_PREFIX, declared

    for sink in ("tcp", "lumberjack"):
        function = function_of(package("s3-elb.yml", **REQUIRED, LOGFWD_SINK=sink))
        assert function["Environment"]["Variables"]["LOGFWD_SINK"] == sink
        assert set(function["Environment"]["Variables"]) <= {ENV_PREFIX + n.upper() for n in declared("s3", sink)}
