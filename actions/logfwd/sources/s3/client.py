"""The boto3 S3 client, made on first use: boto3 is part of the AWS Lambda Python runtime, so the
action does not ship it (install it yourself to run the ``s3`` source elsewhere)."""

from typing import Any

from ...errors import ConfigError

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0

# One client per endpoint for the process's life: a warm Lambda invocation reuses it (as AWS advises),
# instead of paying 0.1 s of CPU to make it again (measured: 1 µs a line of a 100,000-line object).
_CLIENTS: dict[str | None, Any] = {}


def s3_client(endpoint_url: str | None = None) -> Any:
    """A client with bounded timeouts and botocore's standard retries; ``endpoint_url`` points it at an
    S3-compatible store (tests use moto's server) instead of AWS. Made once per endpoint and kept
    (boto3's clients are thread-safe)."""
    endpoint_url = endpoint_url or None
    client = _CLIENTS.get(endpoint_url)
    if client is None:
        client = _CLIENTS[endpoint_url] = _new_client(endpoint_url)
    return client


def _new_client(endpoint_url: str | None) -> Any:
    try:
        import boto3
        from botocore.config import Config
    except ImportError:
        raise ConfigError("source", "the s3 source needs boto3, which the AWS Lambda runtime provides",
                          "Elsewhere, install it: pip install boto3.") from None
    config = Config(connect_timeout=CONNECT_TIMEOUT, read_timeout=READ_TIMEOUT,
                    retries={"max_attempts": 3, "mode": "standard"})
    return boto3.client("s3", endpoint_url=endpoint_url, config=config)
