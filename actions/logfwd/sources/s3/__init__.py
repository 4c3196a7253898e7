"""Source ``s3`` (pushed): load-balancer access logs (classic ELB, ALB, NLB) from the S3 objects a Lambda
event announces (S3 notification, SQS, EventBridge), parsed field by field. Declaration only: the
implementation is imported inside ``build``."""

from ...coerce import text
from ...plugs import PUSHED, Param, Plug


def _build(settings, context):
    from .client import s3_client
    from .source import S3Source

    return S3Source(context.event, s3_client(settings.values.get("s3_endpoint_url")))


PLUG = Plug(
    name="s3",
    kind="source",
    mode=PUSHED,
    params=(
        Param("s3_endpoint_url", text,
              help="S3 endpoint for tests and S3-compatible stores (e.g. http://127.0.0.1:5000); unset on AWS"),
    ),
    build=_build,
    summary="load-balancer access logs from the S3 objects an S3, SQS or EventBridge event announces",
)
