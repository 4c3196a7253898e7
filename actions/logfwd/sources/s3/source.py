"""The ``s3`` source: the load-balancer log objects a Lambda event announces, read as they stream in,
each line parsed into an ECS document, delivered in order, and the platform answered from what the
sink confirmed.

Ids: every document's ``@metadata._id`` is made of its object's bucket, key and ETag and its line
number, so a retried invocation sends the same lines with the same ids (Logstash's Elasticsearch output
with ``document_id => "%{[@metadata][_id]}"`` then overwrites instead of duplicating).

Retries: S3 and EventBridge invoke Lambda asynchronously and retry the whole event when the invocation
fails; SQS makes the messages visible again. So ``answer`` says ``failed`` (the entry then fails the
invocation) unless every object was delivered, except for SQS, where it names the messages to retry
in ``batchItemFailures`` and the rest are deleted. A retry reads each object from its first line again.
An object too big for one invocation stops ``deadline.grace`` seconds before the deadline (the pipeline
stops pulling units); the summary's ``objects`` say how many lines of each were delivered.
"""

import hashlib
from dataclasses import dataclass
from functools import partial
from typing import Any, Iterator

from ...codecs.elblog import CONTROL_PREFIX
from ...deadline import Deadline
from ...errors import SourceError
from ..base import Encode, Unit
from .events import ObjectContext, ObjectLines
from .lines import decoded_lines, inflated, line_runs
from .notifications import Announced, ObjectRef, announced_objects

__all__ = ["S3Source"]

CHUNK = 256 << 10       # bytes read from S3 at a time
LINES_PER_UNIT = 2048   # lines delivered (and confirmed) together


@dataclass
class _Progress:
    """How far one object got: lines read, lines the sink confirmed, and whether all of it is done."""

    ref: ObjectRef
    read: int = 0
    delivered: int = 0
    unparsed: int = 0
    control: int = 0
    complete: bool = False
    failed: str | None = None

    def describe(self) -> dict:
        state = {"bucket": self.ref.bucket, "key": self.ref.key, "lines_delivered": self.delivered,
                 "complete": self.complete}
        if self.unparsed:
            state["unparsed"] = self.unparsed
        if self.failed:
            state["error"] = self.failed
        return state


class S3Source:
    """Reads the objects of one event through ``client`` (a boto3 S3 client, or anything with its
    ``get_object``)."""

    def __init__(self, event: Any, client: Any, *, lines_per_unit: int = LINES_PER_UNIT, chunk: int = CHUNK):
        self.client = client
        self.lines_per_unit = lines_per_unit
        self.chunk = chunk
        self.errors: list[str] = []
        self.warnings: list[str] = []
        try:
            self.announced = announced_objects(event)
        except ValueError as exc:
            self.errors.append(f"event not understood: {exc}")
            self.announced = Announced("s3", [], [], {}, [])
        self.errors += self.announced.errors
        self.errors += [f"SQS message {mid}: {why}" for mid, why in self.announced.bad_messages.items()]
        self.warnings += [f"skipped {what}" for what in self.announced.skipped]
        self.progress = [_Progress(ref) for ref in self.announced.objects]
        self.stopped_early = False

    def units(self, deadline: Deadline, encode: Encode) -> Iterator[Unit]:
        """One unit per ``lines_per_unit`` lines, object after object. The pipeline stops pulling at its
        deadline (between units); the objects' progress then says how far each got."""
        try:
            for progress in self.progress:
                try:
                    yield from self._object_units(progress, encode)
                except SourceError as exc:
                    progress.failed = str(exc)
                    self.errors.append(f"s3://{progress.ref.bucket}/{progress.ref.key}: {exc}")
        except GeneratorExit:  # the pipeline stopped pulling: at its deadline, or after a delivery error
            self.stopped_early = deadline.pull_expired()
            raise

    def _object_units(self, progress: _Progress, encode: Encode) -> Iterator[Unit]:
        ref = progress.ref
        body, etag, modified = self._open(ref)
        prefix = hashlib.sha1(f"{ref.bucket}\n{body.key}\n{etag}".encode()).hexdigest()[:20]
        context = ObjectContext(prefix, f"s3://{ref.bucket}/{body.key}",
                                {"bucket": {"name": ref.bucket, "arn": f"arn:aws:s3:::{ref.bucket}"},
                                 "object": {"key": body.key}}, modified)
        # A unit's lines are kept as text and encoded together, each document made (or, for the JSON
        # sinks, written) and dropped at once: documents kept for a unit made the garbage collector
        # walk them (1.8x slower, measured).
        lines = ObjectLines(context)
        offset = 0
        try:
            for run in line_runs(inflated(body.stream.iter_chunks(self.chunk))):
                texts, offsets = decoded_lines(run, offset)
                offset = offsets.pop()
                first = progress.read + 1
                progress.read += len(texts)
                numbers = range(first, progress.read + 1)
                if "" in texts or CONTROL_PREFIX.encode() in run:  # rare: keep the lines of the log only
                    kept = [index for index, text in enumerate(texts) if text and not text.startswith(CONTROL_PREFIX)]
                    progress.control += sum(1 for text in texts if text.startswith(CONTROL_PREFIX))
                    texts, numbers, offsets = ([texts[i] for i in kept], [numbers[i] for i in kept],
                                               [offsets[i] for i in kept])
                start = 0
                while len(texts) - start >= self.lines_per_unit - len(lines):  # a unit full: out it goes
                    end = start + self.lines_per_unit - len(lines)
                    lines.extend(texts[start:end], numbers[start:end], offsets[start:end])
                    yield self._unit(lines, encode, progress, numbers[end - 1])
                    start, lines = end, ObjectLines(context)
                lines.extend(texts[start:], numbers[start:], offsets[start:])
            yield self._unit(lines, encode, progress, progress.read, complete=True)
        except SourceError:
            raise
        except Exception as exc:  # botocore's and urllib3's streaming errors share no base class
            raise SourceError(f"reading stopped after {progress.read} lines ({type(exc).__name__}): "
                              f"{_short(exc)}") from exc
        finally:
            body.stream.close()

    def _unit(self, lines: ObjectLines, encode: Encode, progress: _Progress, last: int, complete: bool = False) -> Unit:
        """The unit of ``lines``; ``last``: the number of the object's last line its delivery covers."""
        payloads = encode(lines)
        progress.unparsed += len(lines.unparsed)
        return Unit(payloads, partial(self._delivered, progress, last, complete=complete))

    def _open(self, ref: ObjectRef) -> tuple["_Body", str, str | None]:
        """GetObject, trying ``alternate_key`` when S3 does not know the key as announced."""
        keys = [ref.key] + ([ref.alternate_key] if ref.alternate_key else [])
        for attempt, key in enumerate(keys):
            request = {"Bucket": ref.bucket, "Key": key}
            if ref.version_id:
                request["VersionId"] = ref.version_id
            try:
                answer = self.client.get_object(**request)
            except Exception as exc:  # botocore's ClientError, EndpointConnectionError...: all reported
                code = _error_code(exc)
                if code == "NoSuchKey" and attempt + 1 < len(keys):
                    continue
                raise SourceError(f"GetObject failed ({code or type(exc).__name__}): {_short(exc)}") from exc
            modified = answer.get("LastModified")
            stamp = modified.strftime("%Y-%m-%dT%H:%M:%S.000Z") if modified is not None else None
            return _Body(answer["Body"], key), str(answer.get("ETag", "")).strip('"'), stamp
        raise AssertionError("unreachable")

    @staticmethod
    def _delivered(progress: _Progress, lines: int, complete: bool = False) -> None:
        progress.delivered = lines
        progress.complete = complete

    def summary(self) -> dict:
        done = sum(1 for progress in self.progress if progress.complete)
        return {"records": done, "more": done < len(self.progress) or bool(self.announced.bad_messages),
                "objects": [progress.describe() for progress in self.progress],
                "lines_delivered": sum(progress.delivered for progress in self.progress),
                "unparsed": sum(progress.unparsed for progress in self.progress),
                "control_lines": sum(progress.control for progress in self.progress)}

    def answer(self) -> dict:
        """For SQS: ``batchItemFailures`` naming every message with an object not delivered in full (and
        every unusable message). Otherwise ``{}`` once every object is delivered, else ``{"failed": why}``:
        the entry then fails the invocation, and S3 or EventBridge retry the whole event."""
        incomplete = [progress for progress in self.progress if not progress.complete]
        if self.announced.shape == "sqs":
            failed = list(self.announced.bad_messages)
            for progress in incomplete:
                if progress.ref.message_id not in failed:
                    failed.append(progress.ref.message_id)
            return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}
        if incomplete or self.announced.errors:
            where = "; ".join(f"s3://{p.ref.bucket}/{p.ref.key}: {p.delivered} lines delivered"
                              + (f" ({p.failed})" if p.failed else "") for p in incomplete)
            return {"failed": f"not everything was delivered ({where or '; '.join(self.announced.errors)}): the "
                              "invocation fails so that it is retried from each object's first line (same ids)"}
        return {}

    def close(self) -> None:
        """Nothing to release: each object's stream is closed once read."""


@dataclass
class _Body:
    stream: Any  # botocore's StreamingBody
    key: str


def _error_code(exc: Exception) -> str | None:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return (response.get("Error") or {}).get("Code")
    return None


def _short(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) <= 300 else text[:300] + "..."
