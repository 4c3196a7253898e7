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
               deadline: Deadline = NO_DEADLINE, start_over: bool = False) -> CheckpointStore:
    """Build the store named by ``spec``. ``api`` is the OpenWhisk client the activation store reads through."""
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
        return FileStore(path)
    if scheme in ("couchdb+http", "couchdb+https"):
        from .couchdb import CouchDBStore
        return CouchDBStore.from_url(spec, username=username, password=password, deadline=deadline)
    if scheme in ("redis", "rediss"):
        from .redis import RedisStore
        return RedisStore.from_url(spec, username=username, password=password, deadline=deadline)
    shown = f"scheme {scheme!r}" if "://" in spec else repr(spec.split(":", 1)[0])
    raise ConfigError("checkpoint", f"unknown store {shown}", _USAGE)
