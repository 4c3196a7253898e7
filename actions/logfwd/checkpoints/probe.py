"""``logfwd check`` for the checkpoint store: it can be read, it can be written with a working
compare-and-swap and lease (tried on a scratch key beside the checkpoint, never on the checkpoint), and
what it holds. The checkpoint itself is only read."""

import uuid
from typing import Iterator
from urllib.parse import parse_qs, quote, urlencode, urlsplit, urlunsplit

from ..checklist import ERROR, OK, WARNING, Item
from ..deadline import Deadline
from ..errors import CheckpointError, ConflictError, LeaseHeldError, LogfwdError
from . import open_store

AREA = "checkpoint"


def probe(settings, context, readable_format: int) -> Iterator[Item]:
    """The store's items; the document it holds is left in ``context.resources["checkpoint"]``."""
    store = _open(settings, settings.checkpoint, context)
    try:
        document = store.load()
    except CheckpointError as exc:
        yield Item(AREA, ERROR, f"{store.describe()} cannot be read: {exc}")
        return
    finally:
        store.close()
    if document is None:
        yield Item(AREA, OK, f"{store.describe()} is readable and empty: the first run starts from the "
                             "initial lookback")
    elif document.get("format", readable_format) != readable_format:
        yield Item(AREA, ERROR, f"{store.describe()} holds a checkpoint of format {document.get('format')!r}; "
                                f"this logfwd reads format {readable_format}",
                   "Run the logfwd version that wrote it, or move it away to start from the initial lookback.")
        return
    else:
        yield Item(AREA, OK, f"{store.describe()} is readable, saved at {document.get('saved_at', 'an unknown time')}")
        context.resources["checkpoint"] = document
    if settings.checkpoint.lower() == "activation":
        yield Item(AREA, OK, "each run saves its checkpoint in its own result: nothing to write ahead of a run; "
                             "no lease (a run that overlaps another re-sends, with the same ids)")
        return
    yield from _scratch_checks(settings, context, readable_format)


def _open(settings, spec: str, context):
    password = settings.checkpoint_password
    return open_store(spec, api=context.resources.get("openwhisk_api"), self_action=settings.self_action,
                      activation_id=settings.activation_id, username=settings.checkpoint_username,
                      password=password.reveal() if password else None,
                      deadline=Deadline(context.deadline.at))


def _scratch_checks(settings, context, readable_format: int) -> Iterator[Item]:
    """Two "runs" on a scratch key: a write, a stale write that must be refused, the lease."""
    spec = scratch_spec(settings.checkpoint)
    first, second = _open(settings, spec, context), _open(settings, spec, context)
    where = first.describe()
    try:
        try:
            first.load()
            second.load()
            first.save({"format": readable_format, "check": uuid.uuid4().hex})
        except LogfwdError as exc:
            yield Item(AREA, ERROR, f"cannot write the scratch checkpoint {where}: {exc}",
                       "Give the forwarder write access to the store (and the folder or database of the checkpoint).")
            return
        try:
            second.save({"format": readable_format, "check": "stale"})
        except ConflictError:
            yield Item(AREA, OK, f"writable, and a stale write is refused (compare-and-swap, tried on {where})")
        else:
            yield Item(AREA, ERROR, f"a stale write to {where} was accepted: two runs could overwrite each other",
                       "Use a store whose writes compare and swap (file, couchdb, redis).")
        yield _lease(first, second, where)
    except LogfwdError as exc:
        yield Item(AREA, ERROR, f"the scratch checkpoint {where} failed: {exc}")
    finally:
        first.close()
        second.close()
        _remove_scratch_file(spec)


def _lease(first, second, where: str) -> Item:
    if not first.supports_lease:
        return Item(AREA, OK, "no lease with this store: runs that overlap re-send (same ids), never lose",
                    "For a forwarder run by a schedule, a couchdb or redis store keeps overlapping runs apart.")
    first.acquire_lease("logfwd-check-1", ttl=10)
    try:
        second.acquire_lease("logfwd-check-2", ttl=10)
    except LeaseHeldError:
        pass
    else:
        second.release_lease("logfwd-check-2")
        return Item(AREA, WARNING, f"the lease on {where} was given to two runs at once")
    first.release_lease("logfwd-check-1")
    second.acquire_lease("logfwd-check-2", ttl=10)
    second.release_lease("logfwd-check-2")
    return Item(AREA, OK, "the lease holds off a second run, and is free again once released")


def scratch_spec(spec: str) -> str:
    """Where the checks write: beside the checkpoint, in the same folder, database or Redis db."""
    scheme = urlsplit(spec).scheme.lower() if "://" in spec else spec.split(":", 1)[0].lower()
    if scheme == "file":
        return f"{spec}.check"
    parts = urlsplit(spec)
    if scheme in ("redis", "rediss"):
        from .redis import DEFAULT_KEY
        query = parse_qs(parts.query)
        query["key"] = [query.get("key", [DEFAULT_KEY])[-1] + ":check"]
        return urlunsplit(parts._replace(query=urlencode(query, doseq=True)))
    from .couchdb import DEFAULT_DOC_ID
    segments = parts.path.strip("/").split("/")
    doc_id = segments[1] if len(segments) > 1 else quote(DEFAULT_DOC_ID, safe="")
    return urlunsplit(parts._replace(path=f"/{segments[0]}/{doc_id}-check"))


def _remove_scratch_file(spec: str) -> None:
    if spec.lower().startswith("file:"):
        from pathlib import Path
        Path(spec[len("file:"):]).unlink(missing_ok=True)
