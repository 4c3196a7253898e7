"""A logplex HTTPS drain request in, one unit of events (with their Heroku error metrics) out, and the
HTTP answer logplex needs.

Logplex's rules (reference/pipelines.md §4): any 2xx means delivered; a 4xx other than 429 drops the
frame for good; anything else is retried with the same ``Logplex-Frame-Id``. So a request that can
never succeed (bad credentials, a malformed body) gets a 4xx saying why, and one whose counters were
not sent gets a 503, so logplex tries again.
"""

import hashlib
import re
import time
from datetime import datetime, timezone
from functools import partial
from typing import Callable, Iterator

from ...codecs.heroku import error_code, platform_error, router_times, usual_frame_error
from ...codecs.logplex import frame_spans, frames_containing, parse_frame
from ...deadline import Deadline
from ...errors import BadRecordError, SourceError
from ..base import Encode, Unit
from .credentials import authorized
from .ecs import router_fields
from .events import DrainEvents
from .seen import DONE, NEW, PENDING, SENT

CONTENT_TYPE = "application/logplex-1"
_APP_PATH = re.compile(r"(?:^|/)([A-Za-z0-9][A-Za-z0-9._-]{0,99})/logs/?$")
_FRAME_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")  # logplex sends 32 hex digits
_MARKERS = (b"Error ", b"at=error")  # what a line reporting a Heroku error must contain
_TIMED_MARKERS = _MARKERS + (b" router ",)
_REALM = 'Basic realm="logfwd logplex drain", charset="UTF-8"'


class LogplexSource:
    def __init__(self, request: dict, *, credentials: dict, drain_tokens: dict | None = None, frames=None,
                 max_body: int = 1 << 20, platform_only: bool = True, router_timers: bool = False,
                 every_line: bool = False,
                 clock: Callable[[], float] = time.time):
        self.errors: list[str] = []
        self.warnings: list[str] = []
        self._request = request
        self._headers = {str(k).lower(): str(v) for k, v in (request.get("headers") or {}).items()}
        self._credentials, self._tokens = credentials, drain_tokens or {}
        self._frames = frames  # RecentFrames / RedisFrames, or None: no de-duplication
        self._max_body, self._platform_only, self._router_timers = max_body, platform_only, router_timers
        self._every_line = every_line  # an event for every line (a log sink), not only for those with metrics
        self._clock = clock
        self._status, self._message, self._extra_headers = 500, "the request was not handled", {}
        self.app: str | None = None
        self.frame_id = self._headers.get("logplex-frame-id") or None
        self.counts = {"frames": 0, "bad_frames": 0, "heroku_errors": 0, "metrics": 0}
        self._claimed = False
        self._delivered = False
        self._sent_to: set[str] = set()  # sinks of a tee that took this frame in an earlier request
        self._took: list[str] = []       # ... and those that took it in this one, when not all did
        self._sending: list[str] = []    # the sinks a re-send goes to, when some had it already

    # --- the unit ---

    def units(self, deadline: Deadline, encode: Encode) -> Iterator[Unit]:
        body = self._accepted()
        if body is None:
            return
        if self.frame_id and not _FRAME_ID.fullmatch(self.frame_id):
            self.warnings.append(f"Logplex-Frame-Id {self.frame_id[:40]!r}... is not an id; re-sends of this "
                                 "request cannot be recognised")
            self.frame_id = None
        if self._frames is not None and self.frame_id:
            if not self._claim():
                return
        names = getattr(encode, "names", None)  # a tee's sinks
        if self._sent_to and names:  # an earlier request reached some of them: send only to the others
            names = [name for name in names if name not in self._sent_to]
            encode = encode.only(names)
            self._sending = names
        events = self._events(body)
        if events is None:
            return self._release()
        if names:
            self._reply(503, f"not delivered to {', '.join(names)}; logplex will retry")
        else:
            self._reply(503, "the counters were not sent; logplex will retry")
        yield Unit(encode(events), self._done, self._partly)

    def _partly(self, took: list[str]) -> None:
        self._took = took

    def _done(self) -> None:
        self._delivered = True
        if self._claimed:
            self._claimed = False
            try:
                self._frames.confirm(self.app, self.frame_id)
            except SourceError as exc:  # the counters are sent all the same: say so, and answer 2xx
                self.warnings.append(f"{exc}; a re-send of frame {self.frame_id} would be counted again")
        counts = self.counts
        skipped = f", {counts['bad_frames']} bad frame(s) skipped" if counts["bad_frames"] else ""
        before = (f"; sent to {', '.join(self._sending)} only: {', '.join(sorted(self._sent_to))} had it already"
                  if self._sent_to else "")
        self._reply(200, f"{counts['frames']} frame(s), {counts['heroku_errors']} Heroku error(s) counted"
                         f"{skipped}{before}")

    def _accepted(self) -> bytes | None:
        """The body, once the request passed every check; else ``None`` with the answer set."""
        request, headers = self._request, self._headers
        if str(request.get("method", "")).upper() != "POST":
            return self._refuse(405, "a logplex drain takes POST requests", {"Allow": "POST"})
        match = _APP_PATH.search(str(request.get("path") or "").split("?", 1)[0])  # logplex keeps a query
        token = headers.get("logplex-drain-token")
        if match:
            self.app = match[1]
        elif token:
            self.app = self._tokens.get(token)
        else:
            return self._refuse(404, "post to /<app>/logs (the app whose credentials the drain URL carries)")
        if not authorized(self._credentials, self.app, headers.get("authorization")):
            self.app = None  # nothing about it goes into the summary either
            return self._refuse(401, "the drain URL's user or password is wrong for this app",
                                {"WWW-Authenticate": _REALM})
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != CONTENT_TYPE:
            return self._refuse(415, f"expected Content-Type {CONTENT_TYPE}, got {content_type or 'none'}")
        body = request.get("body") or b""
        if isinstance(body, str):
            body = body.encode()
        if len(body) > self._max_body:
            return self._refuse(413, f"the body has {len(body)} bytes, more than logplex_max_body "
                                     f"({self._max_body})")
        return body

    def _claim(self) -> bool:
        try:
            state = self._frames.claim(self.app, self.frame_id)
        except SourceError as exc:  # counting twice beats dropping: go on without de-duplication
            self.warnings.append(f"{exc}; this frame is counted without checking for a re-send")
            self._frames = None
            return True
        if state.startswith(SENT):  # only some sinks of a tee took it: it goes to the others
            self._sent_to = set(state[len(SENT):].split(","))
            self.counts["resent"] = 1
            self._claimed = True
            return True
        if state == DONE:
            self._reply(200, f"frame {self.frame_id} was already counted")
            self.counts["resent"] = 1
            return False
        if state == PENDING:
            self._reply(503, f"frame {self.frame_id} is being counted by another request; retry later",
                        {"Retry-After": "5"})
            return False
        self._claimed = state == NEW
        return True

    def _release(self) -> None:
        """Not delivered: forget the claim, so logplex's re-send counts; but if some sinks of a tee took
        the frame, remember them, so the re-send goes only to the others."""
        if self._claimed:
            self._claimed = False
            sent = sorted(self._sent_to.union(self._took))
            try:
                if sent:
                    self._frames.remember_sent(self.app, self.frame_id, sent)
                else:
                    self._frames.release(self.app, self.frame_id)
            except SourceError as exc:
                self.warnings.append(f"{exc}; a re-send of frame {self.frame_id} may wait up to 30 s"
                                     + (f" and be sent to {', '.join(sent)} again" if sent else ""))

    # --- frames to events ---

    def _events(self, body: bytes) -> DrainEvents | None:
        try:
            spans = frame_spans(body)
        except BadRecordError as exc:
            self.counts["bad_frames"] += 1
            return self._refuse(400, f"malformed logplex body: {exc}")
        expected = self._headers.get("logplex-msg-count")
        if expected is not None and expected.strip() != str(len(spans)):
            self.counts["bad_frames"] += 1
            return self._refuse(400, f"Logplex-Msg-Count says {expected.strip()} but the body has {len(spans)} "
                                     "frame(s)")
        identity = self.frame_id or hashlib.md5(body).hexdigest()
        app, kept, metrics, errors = self.app, [], [], 0
        if self._every_line:
            wanted = range(len(spans))
        else:  # most lines carry no metric: one search of the body skips them before any parsing
            wanted = frames_containing(body, spans, _TIMED_MARKERS if self._router_timers else _MARKERS)
        counter = f"{app}.heroku.errors."
        for offset in wanted:
            start, end = spans[offset]
            usual = None if self._router_timers else usual_frame_error(body, start, end)
            if usual is not None:  # Heroku's own form: app and code in one match, no parsing (heroku.py)
                frame = None
                code = usual[1] if usual[0] == b"heroku" or not self._platform_only else None
                own = [(counter + code, "c", 1)] if code else ()
            else:
                try:
                    frame = parse_frame(body[start:end])
                except BadRecordError as exc:
                    self.counts["bad_frames"] += 1
                    self.errors.append(f"app {app}: record {offset + 1} (a frame) of request {identity} "
                                       f"skipped: {exc}")
                    continue
                code, own = None, ()
                if frame.app == "heroku" or not self._platform_only:
                    code, own = self._metrics(frame.message, frame.proc)
            errors += code is not None
            metrics += own
            kept.append((offset, start, end, frame, code, own))  # the event is built only if a sink reads it
        self.counts.update(frames=len(spans), heroku_errors=errors, metrics=len(metrics))
        return DrainEvents(kept, partial(self._event, identity, body), metrics)

    def _metrics(self, message: str, proc: str) -> tuple[str | None, list]:
        """The line's Heroku error code (or ``None``) and its metrics."""
        code = error_code(message)
        metrics = [(f"{self.app}.heroku.errors.{code}", "c", 1)] if code is not None else []
        if self._router_timers and proc == "router":
            times = router_times(message)
            if times is not None:
                metrics += [(f"{self.app}.heroku.router.connect", "ms", times[0]),
                            (f"{self.app}.heroku.router.service", "ms", times[1])]
        return code, metrics

    def _event(self, identity: str, body: bytes, kept: tuple) -> dict:
        """The ECS event of a frame ``_events`` kept."""
        offset, start, end, frame, code, metrics = kept
        frame = frame or parse_frame(body[start:end])
        app = self.app
        event = {
            "@timestamp": self._utc(frame.timestamp),
            "message": frame.message,
            "@metadata": {"_id": f"{app}:{identity}:{offset}"},
            "service": {"name": app},
            "host": {"name": frame.host},
            "process": {"name": frame.proc},
            "log": {"offset": offset, "syslog": {"priority": frame.priority, "appname": frame.app}},
        }
        if self._every_line and frame.app == "heroku" and frame.proc == "router":
            for key, value in router_fields(frame.message).items():  # for a log sink
                event.setdefault(key, {}).update(value)
        if code is not None:
            error = platform_error(frame.message)
            event["error"] = {"code": error.code, "message": error.description}
        if metrics:
            event["metrics"] = list(metrics)
        return event

    def _utc(self, timestamp: str) -> str:
        if timestamp.endswith("+00:00"):
            return timestamp[:-6] + "Z"
        if timestamp.endswith("Z"):
            return timestamp
        try:
            when = datetime.fromisoformat(timestamp).astimezone(timezone.utc)
        except ValueError:  # "-" or no time at all: when it arrived
            when = datetime.fromtimestamp(self._clock(), timezone.utc)
        return when.isoformat().replace("+00:00", "Z")

    # --- the answer ---

    def _refuse(self, status: int, message: str, headers: dict | None = None) -> None:
        self.errors.append(f"{status}: {message}")
        self._reply(status, message, headers)
        return None

    def _reply(self, status: int, message: str, headers: dict | None = None) -> None:
        self._status, self._message, self._extra_headers = status, message, headers or {}

    def answer(self) -> dict:
        """``{statusCode, headers, body}``: 200 once the unit's ``done`` ran, else why not."""
        if not self._delivered and self._took:  # some sinks of a tee have it (now, or from an earlier request)
            have = ", ".join(sorted(self._sent_to.union(self._took)))
            self._reply(503, f"delivered to {have} but not to every sink; logplex will retry, and only the others "
                             "get it again" if self._frames is not None and self._claimed else
                             f"delivered to {have} but not to every sink; logplex will retry")
        self._release()  # a claim whose counters were not sent: logplex's retry must count
        headers = {"Content-Type": "text/plain; charset=utf-8", **self._extra_headers}
        return {"statusCode": self._status, "headers": headers, "body": self._message + "\n"}

    def summary(self) -> dict:
        """``records``: the frames whose counters were sent; ``more``: should logplex send it again?"""
        return {"records": self.counts["frames"] if self._delivered else 0, "more": self._status >= 500,
                "app": self.app, "frame_id": self.frame_id, "status": self._status, **self.counts}

    def close(self) -> None:
        """Nothing to release: the memory of frames outlives the request (and its Redis connection too)."""
