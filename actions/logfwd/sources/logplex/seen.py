"""Which logplex frames were already counted: logplex re-sends a frame it thinks failed with the same
``Logplex-Frame-Id``, and counting it again would double the counters.

A request ``claim``s its frame id: ``NEW`` (count it), ``PENDING`` (another request is counting it
right now: answer "retry later"), or ``DONE`` (counted: answer 2xx without counting). Once the
counters are sent it ``confirm``s; if they were not, it ``release``s, so logplex's retry counts.

With several sinks (``sink=statsd,lumberjack``) a request may reach some of them and not the others:
it then remembers which took the frame (``remember_sent``: the state ``sent:statsd``), and a re-send
claims ``sent:statsd`` and goes only to the others, so the counters are not sent twice and the lines
are not lost. Such a re-send takes no "pending" claim: two of them at once would both send the lines
(the same ``@metadata._id`` each time), never the counters.

``RecentFrames`` remembers in this process (a warm container, the local server): a re-send that
reaches another container, or comes after the process restarted, is counted again. ``RedisFrames``
remembers in Redis, shared by every container: a re-send is counted once as long as Redis keeps the
id (``remember`` seconds; logplex retries within seconds).
"""

import socket
import ssl
import threading
import time
from collections import OrderedDict
from urllib.parse import unquote, urlsplit

from ...codecs.resp import NEED_DATA, ErrorReply, ReplyDecoder, encode_command
from ...errors import ConfigError, ProtocolError, SourceError, SourceTransientError

NEW, PENDING, DONE = "new", "pending", "done"
SENT = "sent:"  # + the sinks that took the frame, comma-separated, when the others did not
PENDING_SECONDS = 30.0  # a claim outlives a stuck or killed request by this much at most


class RecentFrames:
    def __init__(self, limit: int = 10000, remember: float = 3600.0, clock=time.monotonic):
        self._ids: OrderedDict[tuple[str, str], tuple[str, float]] = OrderedDict()
        self._limit, self._remember, self._clock = limit, remember, clock
        self._lock = threading.Lock()

    def claim(self, app: str, frame_id: str) -> str:
        now = self._clock()
        with self._lock:
            state, until = self._ids.get((app, frame_id), (NEW, now))
            if state != NEW and until > now:
                return state
            self._put((app, frame_id), PENDING, now + PENDING_SECONDS)
            return NEW

    def confirm(self, app: str, frame_id: str) -> None:
        with self._lock:
            self._put((app, frame_id), DONE, self._clock() + self._remember)

    def remember_sent(self, app: str, frame_id: str, sinks: list[str]) -> None:
        with self._lock:
            self._put((app, frame_id), SENT + ",".join(sinks), self._clock() + self._remember)

    def release(self, app: str, frame_id: str) -> None:
        with self._lock:
            if self._ids.get((app, frame_id), (None,))[0] == PENDING:
                del self._ids[(app, frame_id)]

    def _put(self, key, state, until) -> None:
        self._ids[key] = (state, until)
        self._ids.move_to_end(key)
        while len(self._ids) > self._limit:  # the oldest first: logplex re-sends within seconds
            self._ids.popitem(last=False)

    def describe(self) -> str:
        return f"frame ids in this process (the last {self._limit})"


WARM = RecentFrames()  # shared by the requests a warm container or the local server answers

# KEYS[1] the frame's key; ARGV: pending ms. The state if known, else claim it.
_CLAIM = """
local state = redis.call('GET', KEYS[1])
if state then return state end
redis.call('SET', KEYS[1], 'pending', 'PX', ARGV[1])
return 'new'
"""
_RELEASE = "if redis.call('GET', KEYS[1]) == 'pending' then return redis.call('DEL', KEYS[1]) end return 0"


class RedisFrames:
    """``redis://[user:password@]host[:port][/db]`` or ``rediss://`` (TLS, verified); keys are
    ``logfwd:logplex:<app>:<frame id>``."""

    def __init__(self, url: str, remember: float = 3600.0, timeout: float = 2.0):
        parts = urlsplit(url)
        if parts.scheme not in ("redis", "rediss") or not parts.hostname:
            raise ConfigError("logplex_store", "expected redis://HOST:PORT/DB or rediss://...",
                              "Give the URL of the Redis that remembers frame ids, or leave it unset.")
        try:
            self._address = (parts.hostname, parts.port or 6379)
            self._db = int(parts.path.strip("/") or 0)
        except ValueError:
            raise ConfigError("logplex_store", f"the Redis URL for {parts.hostname} has a bad port or database",
                              "Write redis://HOST:PORT/DB, DB a number.") from None
        self._tls = parts.scheme == "rediss"
        self._auth = [unquote(p) for p in (parts.username, parts.password) if p]
        self._remember_ms = max(1, int(remember * 1000))
        self._timeout = timeout
        self._sock: socket.socket | None = None
        self._decoder = ReplyDecoder()
        self._lock = threading.Lock()

    def describe(self) -> str:
        return f"frame ids in {self._where()}"

    def _where(self) -> str:
        return f"{'rediss' if self._tls else 'redis'}://{self._address[0]}:{self._address[1]}/{self._db}"

    def claim(self, app: str, frame_id: str) -> str:
        reply = self._call("EVAL", _CLAIM, 1, self._key(app, frame_id), int(PENDING_SECONDS * 1000))
        return reply.decode() if isinstance(reply, bytes) else reply

    def confirm(self, app: str, frame_id: str) -> None:
        self._call("SET", self._key(app, frame_id), DONE, "PX", self._remember_ms)

    def remember_sent(self, app: str, frame_id: str, sinks: list[str]) -> None:
        self._call("SET", self._key(app, frame_id), SENT + ",".join(sinks), "PX", self._remember_ms)

    def release(self, app: str, frame_id: str) -> None:
        self._call("EVAL", _RELEASE, 1, self._key(app, frame_id))

    @staticmethod
    def _key(app: str, frame_id: str) -> str:
        return f"logfwd:logplex:{app}:{frame_id}"

    def _call(self, *command):
        with self._lock:
            try:
                if self._sock is None:
                    self._open()
                reply = self._roundtrip(command)
            except (OSError, ProtocolError) as exc:
                self.close()
                raise SourceTransientError(f"the frame id store {self._where()} failed during {command[0]} "
                                           f"({getattr(exc, 'strerror', None) or exc})") from None
        if isinstance(reply, ErrorReply):
            raise SourceError(f"the frame id store {self._where()} refused {command[0]}: {reply}")
        return reply

    def _open(self) -> None:
        sock = socket.create_connection(self._address, timeout=self._timeout)
        if self._tls:
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self._address[0])
        self._sock, self._decoder = sock, ReplyDecoder()
        for command in ([("AUTH", *self._auth)] if self._auth else []) + ([("SELECT", self._db)] if self._db else []):
            reply = self._roundtrip(command)
            if isinstance(reply, ErrorReply):
                self.close()
                raise SourceError(f"the frame id store {self._where()} refused {command[0]}: {reply.code}; "
                                  "check the user and password in logplex_store")

    def _roundtrip(self, command):
        self._sock.sendall(encode_command(*command))
        while (reply := self._decoder.next_reply()) is NEED_DATA:
            chunk = self._sock.recv(65536)
            if not chunk:
                raise ConnectionError("Redis closed the connection")
            self._decoder.feed(chunk)
        return reply

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()


_STORES: dict[tuple[str, float], RedisFrames] = {}
_STORES_LOCK = threading.Lock()


def redis_frames(url: str, remember: float) -> RedisFrames:
    """One ``RedisFrames`` (one connection) per URL for the life of the process, shared by its requests."""
    with _STORES_LOCK:
        store = _STORES.get((url, remember))
        if store is None:
            store = _STORES[(url, remember)] = RedisFrames(url, remember)
        return store

