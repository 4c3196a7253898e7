"""Checkpoint stores, chosen by the ``checkpoint`` parameter.

``activation`` (the OpenWhisk default: the checkpoint travels in the forwarder's own activation
result), ``file:PATH`` (the CLI default), ``couchdb+https://...`` and ``redis://...`` (durable, with a
lease against overlapping runs). Store modules are imported only when chosen, to keep cold starts short.
"""

from urllib.parse import urlsplit

from ..deadline import NO_DEADLINE, Deadline
from ..errors import ConfigError
from .base import CheckpointStore

__all__ = ["CheckpointStore", "open_store"]

_USAGE = ("Use 'activation', 'file:PATH', 'couchdb+https://HOST/DATABASE' (or couchdb+http) "
          "or 'redis://HOST:PORT/DB' (or rediss://).")


def open_store(spec: str, *, api=None, self_action: str | None = None, activation_id: str | None = None,
               username: str | None = None, password: str | None = None,
               deadline: Deadline = NO_DEADLINE, shard: tuple[int, int] | None = None,
               start_over: bool = False) -> CheckpointStore:
    """Build the store named by ``spec``. ``api`` is the OpenWhisk client the activation store reads through.

    Pulled sources get a ``ShardedStore``: with ``shard`` (i, N), shard i's own checkpoint with the other
    shards' read beside it; without, the usual checkpoint (which reads other shards' only when it was
    last saved by a shard, i.e. after going back from N shards to none). ``start_over`` lets the activation
    store start afresh when earlier runs carry no checkpoint (for every shard read, see ``ActivationStore``).
    """
    from .sharded import ShardedStore

    index, count = shard or (1, 1)
    by_action = spec.lower() == "activation"

    def open_shard(j: int) -> CheckpointStore:
        return _open(spec, j, api=api, self_action=_shard_action(self_action, index, j) if by_action else self_action,
                     activation_id=activation_id if j == index else None,
                     username=username, password=password, deadline=deadline, start_over=start_over)

    return ShardedStore(open_shard(index), index, count, open_shard, sharded=shard is not None)


def _open(spec: str, index: int, *, api, self_action, activation_id, username, password,
          deadline, start_over) -> CheckpointStore:
    """The store of shard ``index`` (1 is the unsharded location; see ``shard_location``)."""
    # Scheme names are case-insensitive, as in URLs; paths are not.
    scheme = urlsplit(spec).scheme.lower() if "://" in spec else spec.split(":", 1)[0].lower()
    if spec.lower() == "activation":
        if api is None or not self_action:
            raise ConfigError("checkpoint", "'activation' works only inside an OpenWhisk action "
                              "(it reads the forwarder's own activations)", "Use file:PATH when running locally.")
        from .activation import ActivationStore
        return ActivationStore(api, self_action, exclude=activation_id, start_over=start_over)
    if scheme == "file":
        path = spec[len("file:"):]
        if not path:
            raise ConfigError("checkpoint", "'file:' needs a path", "Write e.g. file:state/checkpoint.json.")
        from .file import FileStore
        return FileStore(shard_location(path, index, "file"))
    if scheme in ("couchdb+http", "couchdb+https"):
        from .couchdb import CouchDBStore
        store = CouchDBStore.from_url(spec, username=username, password=password, deadline=deadline)
        store.doc_id = shard_location(store.doc_id, index, "couchdb")
        return store
    if scheme in ("redis", "rediss"):
        from .redis import RedisStore
        store = RedisStore.from_url(spec, username=username, password=password, deadline=deadline)
        store.key = shard_location(store.key, index, "redis")
        return store
    shown = f"scheme {scheme!r}" if "://" in spec else repr(spec.split(":", 1)[0])
    raise ConfigError("checkpoint", f"unknown store {shown}", _USAGE)


def shard_location(base: str, index: int, kind: str) -> str:
    """Where shard ``index`` keeps its checkpoint: shard 1 at ``base``; the others beside it
    (``state/checkpoint.json`` -> ``state/checkpoint.shard-2.json``, document ``logfwd-checkpoint-shard-2``,
    Redis key ``logfwd:checkpoint:shard-2``)."""
    if index == 1:
        return base
    if kind == "file":
        head, slash, name = base.rpartition("/")
        stem, dot, suffix = name.rpartition(".")
        name = f"{stem}.shard-{index}.{suffix}" if dot and stem else f"{name}.shard-{index}"
        return f"{head}{slash}{name}"
    return f"{base}:shard-{index}" if kind == "redis" else f"{base}-shard-{index}"


def _shard_action(self_action: str | None, index: int, j: int) -> str | None:
    """The forwarder action of shard ``j``, from shard ``index``'s own name: shard 1 is ``NAME``, shard
    j > 1 is ``NAME-j`` (how ``make manifest SHARDS=N`` names them); the activation store reads each
    shard's checkpoint from its action's own results."""
    if self_action is None:
        return None
    base = self_action
    if index > 1:
        suffix = f"-{index}"
        if not self_action.endswith(suffix):
            raise ConfigError("shard", f"shard {index} keeps its checkpoint in its activation results, so its action "
                              f"must be named NAME{suffix} (it is {self_action!r})",
                              "Name shard 1 NAME and shard i NAME-i, as make manifest SHARDS=N does, or use a "
                              "couchdb or redis checkpoint.")
        base = self_action[: -len(suffix)]
    if j == index:
        return self_action
    return base if j == 1 else f"{base}-{j}"
