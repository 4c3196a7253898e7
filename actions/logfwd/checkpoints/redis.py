"""The checkpoint in Redis: a hash with a version counter, swapped atomically by a Lua script.

``redis://[user:pass@]host[:port][/db][?key=NAME]`` or ``rediss://`` for TLS (verification on).
The hash ``<key>`` holds ``version`` and ``data`` (the JSON document); ``save`` writes only if the
version is still the one ``load`` saw, and bumps it. The lease is the string ``<key>:lease`` set with
``NX PX``, so Redis itself expires it and judges the time: the runs' clocks do not matter.
"""

import json
import math
import socket
import ssl
import time
from urllib.parse import parse_qs, unquote, urlsplit

from ..codecs.resp import NEED_DATA, ErrorReply, ReplyDecoder, encode_command
from ..errors import CheckpointError, CheckpointTransientError, ConfigError, ConflictError, LeaseHeldError
from ..errors import ProtocolError
from ..deadline import NO_DEADLINE, Deadline
from ..retry import RetryPolicy
from .base import ElsewhereThanResult

DEFAULT_KEY = "logfwd:checkpoint"

# KEYS[1] checkpoint hash; ARGV: version seen by load, next version, JSON. 1 = saved, 0 = conflict.
_SAVE = """
local current = redis.call('HGET', KEYS[1], 'version') or '0'
if current == ARGV[1] then
  redis.call('HSET', KEYS[1], 'version', ARGV[2], 'data', ARGV[3])
  return 1
end
if current == ARGV[2] and redis.call('HGET', KEYS[1], 'data') == ARGV[3] then
  return 1 -- our own write, retried because its answer was lost
end
return 0
"""
# KEYS[1] lease; ARGV: owner, ttl in ms. {1} = held by owner now, {0, ms left, holder} = held by another.
_ACQUIRE = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return {1} end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1}
end
return {0, redis.call('PTTL', KEYS[1]), redis.call('GET', KEYS[1])}
"""
# Delete the lease only if it is still ours: after it expired, another run may hold it.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
# Error replies that say "try again soon" rather than "you asked for something wrong".
_TRANSIENT_CODES = {"LOADING", "BUSY", "TRYAGAIN", "MASTERDOWN", "CLUSTERDOWN", "READONLY"}
_AUTH_CODES = {"WRONGPASS", "NOAUTH", "NOPERM"}


class RedisStore(ElsewhereThanResult):
    supports_lease = True

    def __init__(self, host: str, port: int = 6379, *, db: int = 0, key: str = DEFAULT_KEY,
                 username: str | None = None, password: str | None = None, tls: bool = False,
                 ssl_context: ssl.SSLContext | None = None, timeout: float = 10.0,
                 retry: RetryPolicy = RetryPolicy(), deadline: Deadline = NO_DEADLINE):
        """``ssl_context`` replaces the default (system CAs, hostname checked) for ``tls``."""
        self.host, self.port, self.db, self.key, self.tls = host, port, db, key, tls
        self._username, self._password = username, password
        self._ssl_context = ssl_context
        self._timeout = timeout
        self._retry = retry
        self._deadline = deadline  # the run's hard deadline: a slow store must not outlive it
        self._sock: socket.socket | None = None
        self._decoder = ReplyDecoder()
        self._version = 0

    @classmethod
    def from_url(cls, url: str, *, username: str | None = None, password: str | None = None,
                 **options) -> "RedisStore":
        """Parse the ``checkpoint`` URL. ``username``/``password`` arguments win over the URL's."""
        parts = urlsplit(url)
        if not parts.hostname:
            raise ConfigError("checkpoint", "a Redis checkpoint URL needs a host", "Write redis://HOST:PORT/DB.")
        try:
            port = parts.port or 6379
            db = int(parts.path.strip("/") or 0)
        except ValueError:
            raise ConfigError("checkpoint", f"the Redis URL for {parts.hostname} has an invalid port or "
                              "database number", "Write redis://HOST:PORT/DB, DB a number such as 0.") from None
        key = parse_qs(parts.query).get("key", [DEFAULT_KEY])[-1]
        if username is None and parts.username:
            username = unquote(parts.username)
        if password is None and parts.password is not None:
            password = unquote(parts.password)
        return cls(parts.hostname, port, db=db, key=key, username=username, password=password,
                   tls=parts.scheme == "rediss", **options)

    def describe(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'rediss' if self.tls else 'redis'}://{host}:{self.port}/{self.db}?key={self.key}"

    def load(self) -> dict | None:
        version, data = self._call("HMGET", self.key, "version", "data")
        if data is None and version is None:
            self._version = 0
            return None
        try:
            self._version, document = int(version), json.loads(data)
        except (TypeError, ValueError):  # also JSON and UTF-8 errors
            document = None
        if not isinstance(document, dict):
            raise CheckpointError(f"key '{self.key}' in {self._where()} holds no JSON object; "
                                  "delete it to start from the initial lookback")
        return document

    def save(self, document: dict) -> None:
        data = json.dumps(document, separators=(",", ":"), sort_keys=True)
        if not self._call("EVAL", _SAVE, 1, self.key, self._version, self._version + 1, data):
            raise ConflictError(f"the checkpoint in {self._where()} changed since this run read it "
                                "(another run?); not overwriting it")
        self._version += 1

    def acquire_lease(self, owner: str, ttl: float) -> None:
        reply = self._call("EVAL", _ACQUIRE, 1, f"{self.key}:lease", owner, max(1, math.ceil(ttl * 1000)))
        if reply[0] == 1:
            return
        left_ms, holder = reply[1], reply[2].decode("utf-8", "replace")
        if left_ms < 0:  # set by hand without an expiry: it would never free up
            raise LeaseHeldError(f"the lease key '{self.key}:lease' in {self._where()} has no expiry; "
                                 "delete it if no run is busy", until=None)
        until = time.time() + left_ms / 1000
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(until))
        raise LeaseHeldError(f"another run ({holder}) holds the lease on {self._where()} until {when}",
                             until=until)

    def release_lease(self, owner: str) -> None:
        self._call("EVAL", _RELEASE, 1, f"{self.key}:lease", owner)

    def close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None

    # --- connection ---

    def _where(self) -> str:
        return f"Redis at {self.host}:{self.port} (db {self.db})"

    def _call(self, *command):
        return self._retry.call(lambda: self._command(*command), self._deadline)

    def _command(self, *command):
        if self._sock is None:
            self._connect()
        reply = self._roundtrip(command)
        if isinstance(reply, ErrorReply):
            raise self._error(reply, command[0])
        return reply

    def _connect(self) -> None:
        try:
            timeout = max(0.1, self._deadline.budget(self._timeout))
            sock = socket.create_connection((self.host, self.port), timeout=timeout)
        except OSError as exc:
            raise CheckpointTransientError(f"cannot connect to {self._where()} ({exc.strerror or exc}); check "
                                           "the host and port in the checkpoint URL and that Redis is "
                                           "running") from None
        if self.tls:
            context = self._ssl_context or ssl.create_default_context()
            try:
                sock = context.wrap_socket(sock, server_hostname=self.host)
            except ssl.SSLCertVerificationError as exc:
                sock.close()
                raise CheckpointError(f"TLS verification failed for {self._where()} ({exc.verify_message}); "
                                      "check that the certificate matches the host name and is signed by "
                                      "a trusted CA") from None
            except OSError as exc:
                sock.close()
                raise CheckpointTransientError(f"TLS handshake with {self._where()} failed ({exc}); check that "
                                               "the server speaks TLS on this port (else use redis://)") from None
        self._sock, self._decoder = sock, ReplyDecoder()
        hello = []
        if self._password is not None:  # one-argument AUTH when there is no user: Redis before 6 knows no users
            hello.append(("AUTH", self._username, self._password) if self._username else ("AUTH", self._password))
        if self.db:
            hello.append(("SELECT", self.db))
        for command in hello:
            reply = self._roundtrip(command)
            if isinstance(reply, ErrorReply):
                self.close()
                raise self._error(reply, command[0])

    def _roundtrip(self, command):
        """Send one command and read its reply; any failure drops the connection (its state is unknown)."""
        try:
            self._sock.sendall(encode_command(*command))
            while (reply := self._decoder.next_reply()) is NEED_DATA:
                chunk = self._sock.recv(65536)
                if not chunk:
                    raise ConnectionError("the server closed the connection")
                self._decoder.feed(chunk)
            return reply
        except ProtocolError as exc:
            self.close()
            raise CheckpointError(f"{self._where()} answered something that is not Redis's protocol ({exc}); "
                                  "check that the checkpoint URL points at Redis") from None
        except OSError as exc:
            self.close()
            raise CheckpointTransientError(f"lost the connection to {self._where()} during {command[0]} "
                                           f"({exc.strerror or exc})") from None

    def _error(self, reply: ErrorReply, verb: str) -> CheckpointError:
        if reply.code in _AUTH_CODES or (verb == "AUTH" and reply.code == "ERR"):
            return CheckpointError(f"{self._where()} refused the credentials ({reply}); check the username "
                                   "and password in the checkpoint URL or parameters")
        if reply.code in _TRANSIENT_CODES:
            return CheckpointTransientError(f"{self._where()} is not ready ({reply})")
        return CheckpointError(f"{self._where()} rejected {verb}: {reply}")
