"""The keys every event of an activation record shares: ``faas``, ``openwhisk`` and the static fields.
Pure: no I/O.

Two forms of the same thing. ``shared_fields`` is the general one, a dict. ``shared_json`` is the fast
one, the JSON of that dict written from pieces: the records of one action differ in few of these
values (the activation's id, coldstart, status, times, cause) while its name, id, version,
namespace, kind and limits repeat run after run, so the JSON of those is cached per action (bounded)
and a record's own values are written between the pieces: half the instructions of building the
dicts and encoding them (20,400 against 41,400 for an emulator record; docs/performance.md, issue 15).

Its bytes are the general form's as ``dumps`` writes them. ``dumps`` writes with orjson, and with the
standard library for the whole object when orjson refuses any value of it (a lone surrogate, an
integer beyond 64 bits, a key that is not text); the standard library writes some floats differently.
So the fast form is orjson's alone: every piece, cached or not, is written by orjson or as orjson would
write it (ints of 64 bits, booleans, ids of ASCII letters and digits, which need no escaping), and a
record with any other value there (a float, a bigger int, an id with other characters, an odd type),
static fields orjson refuses, or a run without orjson returns None: the caller takes the general form.
A test builds many odd records both ways, byte for byte (tests/test_sharedpart.py).
"""

from ...codecs import jsonbytes
from ...codecs.owlog import format_time_ns

__all__ = ["shared_fields", "shared_json", "start_time"]

_LIMITS = (("timeout", "timeout_ms"), ("memory", "memory_mb"))  # annotation key -> event key, with unit
_CACHE_LIMIT = 1024  # actions kept (by name, version, kind, limits and status); then start over
_MINUTES_LIMIT = 4096  # minutes kept (~2.8 days, ~0.4 MB); then start over
_PIECES: dict[tuple, tuple[str, str, str] | None] = {}  # None: this action takes the general form
_MINUTES: dict[int, str] = {}  # epoch minute -> '2023-11-14T22:13:'
_SECONDS = tuple(f"{second:02d}." for second in range(60))
_MILLIS = tuple(f"{ms:03d}000000Z" for ms in range(1000))
_INT_MIN, _INT_END = -(2**63), 2**64  # the integers orjson writes (as the standard library does)
_MISSING = object()


def start_time(start_ms: int) -> str:
    """``format_time_ns(start_ms * 1_000_000)``, with the text of each minute cached: a run's records
    start in few distinct minutes (a backlog of a day, 100,000 records, in 1,440: its seconds would
    overflow a cache of seconds), and lookups are cheaper than formatting."""
    minute, ms = divmod(start_ms, 60_000)
    prefix = _MINUTES.get(minute)
    if prefix is None:
        if len(_MINUTES) >= _MINUTES_LIMIT:
            _MINUTES.clear()
        prefix = _MINUTES[minute] = format_time_ns(minute * 60_000_000_000)[:-13]
    second, ms = divmod(ms, 1000)
    return prefix + _SECONDS[second] + _MILLIS[ms]


def shared_fields(record: dict, annotations: dict, fields, path: str, namespace: str, start: str) -> dict:
    """The general form: ``{**fields, "faas": ..., "openwhisk": ...}``."""
    return {**fields, "faas": _faas(record, annotations, path, namespace),
            "openwhisk": _openwhisk(record, annotations, start)}


def shared_json(record: dict, annotations: dict, fields, path: str, namespace: str, start: str) -> bytes | None:
    """``dumps(shared_fields(...))`` written from cached pieces, or None where the record or ``fields``
    hold a value the pieces do not write (see the module's docstring): then use the general form."""
    orjson = jsonbytes.orjson
    if orjson is None or type(fields) is not dict:
        return None
    get = annotations.get
    limits, response = get("limits"), record.get("response")
    timeout = memory = status = success = None
    if type(limits) is dict:
        timeout, memory = limits.get("timeout"), limits.get("memory")
        if type(timeout) is not int and timeout is not None or type(memory) is not int and memory is not None:
            return None  # a float, or a type the general form takes or drops: it decides
    elif limits is not None:
        return None
    if type(response) is dict:
        status, success = response.get("status"), response.get("success")
        if success is not True and success is not False:
            success = None  # as in the general form: only a boolean is kept
    elif response is not None:
        return None
    activation_id = record["activationId"]
    if not (activation_id.isascii() and activation_id.encode().isalnum()):  # ids are hex: no escaping needed
        return None  # (ASCII letters and digits, checked on bytes: str.isalnum asks the Unicode tables)
    # What repeats for an action. Text slots: a value that is not text is left out whatever it is, so
    # equal keys give equal pieces (1 == 1.0 == True, hence the exact types of the others).
    key = (path, record.get("name"), record.get("namespace"), record.get("version"), get("kind"), timeout, memory,
           status, success)
    try:
        pieces = _PIECES.get(key, _MISSING)
    except TypeError:  # a value that cannot be a key
        return None
    if pieces is _MISSING:
        pieces = _cache(_PIECES, key, _action_pieces(record, annotations, path, namespace))
    if pieces is None:
        return None
    head, middle, tail = pieces
    coldstart = "true" if "initTime" in annotations else "false"
    text = f'{head}{activation_id}","coldstart":{coldstart}{middle}"start":"{start}"'
    # A record's own numbers, written out: ints of 64 bits as both encoders write them; any other number
    # (a float, a bigger int) to the general form; anything else is left out, as there. The usual pair
    # (duration and wait, both such ints) is written in one step: ~1,800 of the ~21,000 instructions it took.
    duration, wait, init = record.get("duration"), get("waitTime"), get("initTime")
    if type(duration) is int and type(wait) is int and _INT_MIN <= duration < _INT_END and _INT_MIN <= wait < _INT_END:
        text += f',"duration_ms":{duration},"wait_ms":{wait}'
    else:
        if type(duration) is int and _INT_MIN <= duration < _INT_END:
            text += f',"duration_ms":{duration}'
        elif isinstance(duration, (int, float)) and type(duration) is not bool:
            return None
        if type(wait) is int and _INT_MIN <= wait < _INT_END:
            text += f',"wait_ms":{wait}'
        elif isinstance(wait, (int, float)) and type(wait) is not bool:
            return None
    if init is not None:  # None: a warm start, no init time (settled in one check)
        if type(init) is int and _INT_MIN <= init < _INT_END:
            text += f',"init_ms":{init}'
        elif isinstance(init, (int, float)) and type(init) is not bool:
            return None
    cause, caused_by = record.get("cause"), get("causedBy")
    if cause is not None or caused_by is not None:  # components of a sequence
        for name, value in (("cause", cause), ("caused_by", caused_by)):
            if isinstance(value, str) and value:
                if not (value.isascii() and value.encode().isalnum()):
                    return None
                text += f',"{name}":"{value}"'
    if get("timeout") is True:
        text += ',"timeout":true'
    encoded = (text + tail).encode()
    if not fields:
        return encoded
    try:
        return orjson.dumps(fields)[:-1] + b"," + encoded[1:]
    except TypeError:  # orjson refuses a value of them: the general form
        return None


def _cache(cache: dict, key: tuple, value):
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[key] = value
    return value


def _action_pieces(record: dict, annotations: dict, path: str, namespace: str) -> tuple[str, str, str] | None:
    """The JSON of what repeats for an action (and status), from the general form, cut where a record's
    own values go: ``{"faas":{..."execution":"``, ``},"openwhisk":{..."activation":{"status":...,``
    and ``},"limits":{...}}}``."""
    faas = _faas(record, {}, path, namespace)
    del faas["execution"], faas["coldstart"]  # the record's own, always the last two keys
    openwhisk = _openwhisk(record, annotations, "")
    activation = openwhisk.pop("activation")
    limits = openwhisk.pop("limits", None)
    status = {key: activation[key] for key in ("status", "success") if key in activation}  # the keys before "start"
    dumps = jsonbytes.orjson.dumps
    try:
        faas_json, openwhisk_json, status_json = dumps(faas), dumps(openwhisk), dumps(status)
        limits_json = b',"limits":' + dumps(limits) if limits else b""
    except TypeError:  # a lone surrogate or an integer beyond 64 bits: the general form writes those
        return None
    return ('{"faas":' + _open(faas_json) + '"execution":"',
            '},"openwhisk":' + _open(openwhisk_json) + '"activation":' + _open(status_json),
            "}" + limits_json.decode() + "}}")


def _open(obj_json: bytes) -> str:
    """``{"a":1}`` -> ``{"a":1,``; ``{}`` -> ``{``: an object's JSON ready for more keys."""
    return obj_json[:-1].decode() + "," if obj_json != b"{}" else "{"


def _faas(record: dict, annotations: dict, path: str, namespace: str) -> dict:
    name = path.partition("/")[2] or _text(record.get("name"))
    faas = {}
    if name:
        faas["name"] = name
        faas["id"] = f"/{path}" if path else f"/{namespace}/{name}"
    version = _text(record.get("version"))
    if version:
        faas["version"] = version
    faas["execution"] = record["activationId"]
    faas["coldstart"] = "initTime" in annotations
    return faas


def _openwhisk(record: dict, annotations: dict, start: str) -> dict:
    # Once a record: the checks are written out rather than calling _text/_number for each key.
    activation = {}
    response = record.get("response")
    if isinstance(response, dict):
        status, success = response.get("status"), response.get("success")
        if isinstance(status, str) and status:
            activation["status"] = status
        if isinstance(success, bool):
            activation["success"] = success
    activation["start"] = start
    for key, value in (("duration_ms", record.get("duration")), ("wait_ms", annotations.get("waitTime")),
                       ("init_ms", annotations.get("initTime"))):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            activation[key] = value
    for key, value in (("cause", record.get("cause")), ("caused_by", annotations.get("causedBy"))):
        if isinstance(value, str) and value:
            activation[key] = value
    if annotations.get("timeout") is True:
        activation["timeout"] = True

    openwhisk = {}
    for key, value in (("namespace", record.get("namespace")), ("kind", annotations.get("kind"))):
        if isinstance(value, str) and value:
            openwhisk[key] = value
    openwhisk["activation"] = activation
    limits = annotations.get("limits")
    if isinstance(limits, dict):
        numbers = {ours: _number(limits.get(theirs)) for theirs, ours in _LIMITS}
        _put(openwhisk, "limits", {key: value for key, value in numbers.items() if value is not None})
    return openwhisk


def _put(target: dict, key: str, value: object) -> None:
    if value is not None and value != "" and value != {}:
        target[key] = value


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _number(value: object) -> int | float | None:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
