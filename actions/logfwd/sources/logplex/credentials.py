"""Per-app drain credentials: parsing the parameter, and checking a request's Basic auth in constant time."""

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any

from ...coerce import Secret
from ...errors import ConfigError

_EXAMPLE = '{"myapp": "logplex:PASSWORD"} or myapp:logplex:PASSWORD,otherapp:logplex:PASSWORD2'
_NOBODY = hashlib.sha256(b"\x00no such app\x00").digest()


def app_credentials(name: str, raw: Any) -> dict[str, Secret]:
    """``{app: Secret("user:password")}`` from a JSON object, or a list / comma-separated text of
    ``app:user:password``. Messages name the app, never the password."""
    if isinstance(raw, str) and raw.strip().startswith("{"):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ConfigError(name, f"not valid JSON (at position {exc.pos})", f"Write {_EXAMPLE}.") from None
    if isinstance(raw, dict):
        pairs = list(raw.items())
    elif isinstance(raw, (str, list, tuple)):
        entries = raw.split(",") if isinstance(raw, str) else raw
        pairs = []
        for entry in entries:
            if not isinstance(entry, str) or entry.count(":") < 2:
                raise ConfigError(name, f"entry {len(pairs) + 1} is not app:user:password", f"Write {_EXAMPLE}.")
            app, _, user_password = entry.strip().partition(":")
            pairs.append((app, user_password))
    else:
        raise ConfigError(name, f"expected a JSON object or a list, got {type(raw).__name__}", f"Write {_EXAMPLE}.")
    apps = {}
    for app, user_password in pairs:
        if not isinstance(app, str) or not app or "/" in app:
            raise ConfigError(name, f"app name {app!r} is not a name", f"Write {_EXAMPLE}.")
        if not isinstance(user_password, str) or ":" not in user_password or user_password.endswith(":"):
            raise ConfigError(name, f"the credentials of app {app!r} are not user:password",
                              "Give each app the user and password of its drain URL.")
        apps[app] = Secret(user_password)
    if not apps:
        raise ConfigError(name, "no app given", f"Write {_EXAMPLE}.")
    return apps


def authorized(apps: dict[str, Secret], app: str | None, authorization: str | None) -> bool:
    """Does the ``Authorization`` header carry ``app``'s user and password? The work is the same
    whether the app exists or not, and the comparison is of digests, so neither the time nor the
    answer says which apps exist or how much of a password was right."""
    given = _basic(authorization)
    expected = apps.get(app) if app is not None else None
    want = hashlib.sha256(expected.reveal().encode()).digest() if expected is not None else _NOBODY
    match = hmac.compare_digest(hashlib.sha256(given).digest(), want)
    return match and expected is not None


def _basic(authorization: str | None) -> bytes:
    scheme, _, token = (authorization or "").strip().partition(" ")
    if scheme.lower() != "basic":
        return b""
    try:
        return base64.b64decode(token.strip(), validate=True)
    except (binascii.Error, ValueError):
        return b""
