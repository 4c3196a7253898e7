"""Activation log lines exactly as the OpenWhisk invoker writes them, rendered on demand.

The invoker formats each line as ``f"{time:<30} {stream}: {message}"`` where ``time`` is Docker's
RFC 3339 timestamp with trailing fractional zeros trimmed, so a line has one space before the
stream when the fraction has 9 digits and several when it is shorter.

Lines are not stored: an activation keeps a 64-bit seed and a line count, and ``render_lines``
derives every line from them with integer hashing. That keeps a store of 100,000 activations small
and makes the same activation render the same lines on every request.
"""

import datetime

__all__ = [
    "format_line",
    "format_time",
    "render_lines",
    "TRUNCATED",
    "COLLECTION_FAILED",
    "DEVELOPER_ERROR",
    "LOG_LIMIT_BYTES",
]

LOG_LIMIT_BYTES = 10 * 1024 * 1024
TRUNCATED = f"Logs were truncated because the total bytes size exceeds the limit of {LOG_LIMIT_BYTES} bytes."
COLLECTION_FAILED = "There was an issue while collecting your logs. Data might be missing."
DEVELOPER_ERROR = "The action did not initialize or run as expected. Log data might be missing."

_NS = 1_000_000_000
_MASK = (1 << 64) - 1
_EPOCH = datetime.date(1970, 1, 1).toordinal()
_second_cache: dict[int, str] = {}

# Messages of about 100 bytes. Fields: {a}-{e} small numbers, {h} a hex trace id, {u} a user.
_MESSAGES = (
    "GET /api/v1/orders/{a}{b} 200 {c}ms user={u} trace={h} cache=miss region=eu-de",
    "POST /api/v1/cart/items sku=SKU-{a}{b}{c} qty={d} user={u} trace={h} latency={e}ms",
    '{{"level":"info","msg":"request handled","status":200,"ms":{c},"user":"{u}","trace":"{h}"}}',
    '{{"level":"debug","msg":"cache lookup","key":"product:{a}{b}","hit":false,"trace":"{h}"}}',
    "INFO  [worker-{d}] processed batch {a}{b} of {c} records in {e}ms, {d} retries, trace {h}",
    "DEBUG db.query SELECT * FROM orders WHERE customer_id = {a}{b} LIMIT {c} took {e}ms",
    "checkout: payment authorised for order #{a}{b}{c}, amount {d}.{e} EUR, provider=stripe trace={h}",
    "ingest: read object s3://raw-events/{a}/{b}/part-{c}.json.gz ({d}{e} KiB) in {e}ms",
    "Résumé export for user {u} done: {c} pages, {d} images, café-menu → PDF ({e} KiB)",
    "WARN  slow upstream https://inventory.internal/v2/stock/{a}{b} answered in {c}{e}ms, retrying",
    "cold path: loaded config from /action/config.json ({d} keys), connected pool size={e} trace={h}",
    "Hello, {u}! You are visitor number {a}{b}{c} today; greeting rendered in {e} microseconds",
)
_ERRORS = (
    "ERROR upstream https://payments.internal/charge timed out after {c}{e}ms, order #{a}{b} trace={h}",
    "Traceback (most recent call last): KeyError: 'customer_id' in handler line {c} trace={h}",
    "(node:{a}{b}) UnhandledPromiseRejectionWarning: Error: ECONNRESET at TLSWrap.onStreamRead",
    "WARN  retrying request {a}{b} to https://api.partner.example/v3/items (attempt {d} of 5)",
)
_USERS = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy")


def _pool(templates: tuple[str, ...], size: int) -> tuple[str, ...]:
    """Messages filled in once, at import: rendering then costs a lookup, not a format call."""
    pool = []
    for i in range(size):
        h = _mix(i)
        pool.append(templates[i % len(templates)].format(
            a=(h >> 16) % 100,
            b=(h >> 24) % 1000,
            c=(h >> 34) % 500,
            d=(h >> 44) % 10,
            e=(h >> 48) % 1000,
            h=f"{h & 0xFFFFFFFFFFFF:012x}",
            u=_USERS[(h >> 40) % len(_USERS)],
        ))
    return tuple(pool)


def format_time(ns: int) -> str:
    """Epoch nanoseconds as Docker writes them: RFC 3339 UTC, fraction without trailing zeros."""
    seconds, nanos = divmod(ns, _NS)
    head = _second_cache.get(seconds) or _second(seconds)
    if nanos == 0:
        return head + "Z"
    return f"{head}.{nanos:09d}".rstrip("0") + "Z"


def _second(seconds: int) -> str:
    if len(_second_cache) > 100_000:
        _second_cache.clear()
    days, second_of_day = divmod(seconds, 86400)
    hour, rest = divmod(second_of_day, 3600)
    date = datetime.date.fromordinal(days + _EPOCH).isoformat()
    head = _second_cache[seconds] = f"{date}T{hour:02d}:{rest // 60:02d}:{rest % 60:02d}"
    return head


def format_line(ns: int, stream: str, message: str) -> str:
    """One log entry in the platform format (time padded to 30 characters, then a space)."""
    return f"{format_time(ns):<30} {stream}: {message}"


def _mix(x: int) -> int:
    """A 64-bit finaliser (splitmix64): cheap, well spread, deterministic."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def render_lines(seed: int, count: int, start_ms: int, duration_ms: int, marker: str | None) -> list[str]:
    """The ``count`` log lines of one activation, spread over its run, the last one ``marker`` if set.

    Times never go backwards within an activation but several lines may share a millisecond.
    About one line in eight goes to stderr. This runs for every line served, so it is kept tight.
    """
    if count <= 0:
        return []
    start_ns = start_ms * 1_000_000
    step = max(1, max(duration_ms, 1) * 1_000_000 // count)
    text_lines = count - 1 if marker else count
    lines = []
    append = lines.append
    for i in range(text_lines):
        # _mix and format_time inlined: this loop runs for every line the emulator serves.
        x = ((seed ^ (i * 0xD1B54A32D192ED03)) + 0x9E3779B97F4A7C15) & _MASK
        x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
        h = x ^ (x >> 31)
        seconds, nanos = divmod(start_ns + i * step + h % step, _NS)
        head = _second_cache.get(seconds) or _second(seconds)
        time = f"{head}.{nanos:09d}".rstrip("0") + "Z" if nanos else head + "Z"
        if h >> 61:
            append(f"{time:<30} stdout: {_STDOUT[(h >> 8) % _STDOUT_SIZE]}")
        else:  # one in eight
            append(f"{time:<30} stderr: {_STDERR[(h >> 8) % _STDERR_SIZE]}")
    if marker:
        append(format_line(start_ns + max(duration_ms, 1) * 1_000_000, "stderr", marker))
    return lines


_STDOUT_SIZE, _STDERR_SIZE = 4096, 512
_STDOUT = _pool(_MESSAGES, _STDOUT_SIZE)
_STDERR = _pool(_ERRORS, _STDERR_SIZE)
