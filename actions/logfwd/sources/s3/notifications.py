"""Which S3 objects a Lambda event announces: S3 notifications, the same inside SQS messages (raw or in
an SNS envelope), and EventBridge "Object Created" events (direct or through SQS). Pure: a dict in.

S3 notification keys are form-URL-encoded (``a b+c.log`` arrives as ``a+b%2Bc.log``): they are decoded
here. Whether EventBridge encodes its keys is not documented, so its key is kept as sent and the
reader falls back to the decoded form when S3 does not know the key (see ``ObjectRef.alternate_key``).
"""

import json
from typing import NamedTuple
from urllib.parse import unquote_plus

__all__ = ["ObjectRef", "Announced", "announced_objects"]


class ObjectRef(NamedTuple):
    bucket: str
    key: str
    version_id: str | None = None
    size: int | None = None
    message_id: str | None = None     # the SQS message that carried it (for batchItemFailures)
    alternate_key: str | None = None  # another spelling to try if S3 does not know ``key``


class Announced(NamedTuple):
    """What an event holds: objects to read, in order, and what was skipped or wrong, by record."""

    shape: str                        # "s3", "sqs" or "eventbridge"
    objects: list[ObjectRef]
    skipped: list[str]                # test events, deletions...: nothing to read, nothing to retry
    bad_messages: dict[str, str]      # SQS messageId -> why its body is unusable (retried, then its DLQ)
    errors: list[str]                 # unusable records outside SQS


def announced_objects(event) -> Announced:
    """The objects ``event`` announces; raises ``ValueError`` if it is none of the known shapes."""
    if not isinstance(event, dict):
        raise ValueError(f"the event is a {type(event).__name__}, not a JSON object")
    records = event.get("Records")
    result = Announced("s3", [], [], {}, [])
    if isinstance(records, list) and records and all(isinstance(r, dict) and r.get("eventSource") == "aws:sqs"
                                                     for r in records):
        result = result._replace(shape="sqs")
        for record in records:
            _from_sqs(record, result)
        return result
    if event.get("detail-type") is not None:
        result = result._replace(shape="eventbridge")
        _from_eventbridge(event, None, result)
        return result
    if isinstance(records, list):
        for index, record in enumerate(records):
            _from_s3_record(record, None, f"record {index}", result)
        return result
    if event.get("Event") == "s3:TestEvent":
        result.skipped.append("S3 test event")
        return result
    raise ValueError("the event is not an S3 notification, an SQS batch or an EventBridge event "
                     f"(its keys: {', '.join(sorted(event)[:8])})")


def _from_sqs(record: dict, result: Announced) -> None:
    message_id = str(record.get("messageId") or "")
    try:
        body = json.loads(record.get("body") or "")
    except (TypeError, ValueError):
        result.bad_messages[message_id] = "its body is not JSON"
        return
    if isinstance(body, dict) and body.get("Type") == "Notification" and isinstance(body.get("Message"), str):
        try:  # an SNS topic between S3 and the queue, without raw message delivery
            body = json.loads(body["Message"])
        except ValueError:
            result.bad_messages[message_id] = "its SNS message is not JSON"
            return
    if not isinstance(body, dict):
        result.bad_messages[message_id] = "its body is not a JSON object"
    elif body.get("Event") == "s3:TestEvent":
        result.skipped.append(f"S3 test event in message {message_id}")
    elif body.get("detail-type") is not None:
        _from_eventbridge(body, message_id, result)
    elif isinstance(body.get("Records"), list):
        for index, inner in enumerate(body["Records"]):
            _from_s3_record(inner, message_id, f"message {message_id} record {index}", result)
    else:
        result.bad_messages[message_id] = "its body is neither an S3 notification nor an EventBridge event"


def _from_s3_record(record, message_id: str | None, where: str, result: Announced) -> None:
    if not isinstance(record, dict) or record.get("eventSource") != "aws:s3":
        _bad(result, message_id, f"{where} is not an S3 event record")
        return
    name = str(record.get("eventName") or "")
    if not name.startswith("ObjectCreated:"):
        result.skipped.append(f"{where}: {name or 'no eventName'} (only ObjectCreated events are read)")
        return
    s3 = record.get("s3") or {}
    bucket = (s3.get("bucket") or {}).get("name")
    obj = s3.get("object") or {}
    if not bucket or not isinstance(obj.get("key"), str):
        _bad(result, message_id, f"{where} has no s3.bucket.name or s3.object.key")
        return
    result.objects.append(ObjectRef(bucket, unquote_plus(obj["key"]), obj.get("versionId"), obj.get("size"),
                                    message_id))


def _from_eventbridge(event: dict, message_id: str | None, result: Announced) -> None:
    kind = event.get("detail-type")
    if kind != "Object Created" or event.get("source") != "aws.s3":
        result.skipped.append(f"EventBridge {kind!r} from {event.get('source')!r} (only S3 Object Created is read)")
        return
    detail = event.get("detail") or {}
    bucket = (detail.get("bucket") or {}).get("name")
    obj = detail.get("object") or {}
    key = obj.get("key")
    if not bucket or not isinstance(key, str):
        _bad(result, message_id, f"EventBridge event {event.get('id')} has no detail.bucket.name or detail.object.key")
        return
    decoded = unquote_plus(key)
    result.objects.append(ObjectRef(bucket, key, obj.get("version-id"), obj.get("size"), message_id,
                                    decoded if decoded != key else None))


def _bad(result: Announced, message_id: str | None, problem: str) -> None:
    if message_id is not None:
        result.bad_messages[message_id] = problem
    else:
        result.errors.append(problem)
