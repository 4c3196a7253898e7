"""Source ``kinesis``: the records of a Kinesis batch, or a CloudWatch Logs subscription, given to Lambda."""

from ... import coerce
from ...plugs import PUSHED, Param, Plug

REPORT_BATCH_ITEM_FAILURES = "kinesis_report_batch_item_failures"


def _build(settings, context):
    import time

    from .source import KinesisSource

    clock = getattr(context, "clock", None) or time.time
    return KinesisSource(context.event, partial=settings.values.get(REPORT_BATCH_ITEM_FAILURES, True),
                         now_ms=lambda: int(clock() * 1000))


PLUG = Plug(
    name="kinesis",
    kind="source",
    mode=PUSHED,
    summary="Kinesis records (plain lines, JSON lines, CloudWatch Logs payloads) or a CloudWatch Logs "
            "subscription (awslogs.data), as given to an AWS Lambda function",
    params=(
        Param(REPORT_BATCH_ITEM_FAILURES, coerce.boolean, default=True,
              help="the event source mapping has FunctionResponseTypes ReportBatchItemFailures (Lambda does "
                   "not tell the function): answer batchItemFailures from the first record not delivered. "
                   "false: fail the invocation instead, so Lambda retries the whole batch"),
    ),
    build=_build,
)
