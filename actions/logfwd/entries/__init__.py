"""One thin entry per platform. Each only turns the platform's input into settings (and an event for a
pushed source) and the run's summary into the platform's answer; the pipeline is the same everywhere.

- ``openwhisk.main(params)``: an OpenWhisk action fired by the alarm trigger (pulled sources).
- ``web.main(params)``: an OpenWhisk raw web action, e.g. a Heroku log drain (pushed sources).
- ``aws_lambda.handler(event, context)``: an AWS Lambda function (Kinesis, CloudWatch Logs, S3).
"""
