"""Heroku's platform error codes found in log messages: tables of lines, no I/O."""

import pytest

from logfwd.codecs.heroku import PlatformError, platform_error, router_times
from logplex_frames import L10, MEMORY, R10, R14, ROUTER_H10, ROUTER_H12, ROUTER_INFO


@pytest.mark.parametrize("message, error", [
    (ROUTER_H12, PlatformError("H12", "Request timeout")),
    (ROUTER_H10, PlatformError("H10", "App crashed")),
    (R14, PlatformError("R14", "Memory quota exceeded")),
    (R10, PlatformError("R10", "Boot timeout")),
    (L10, PlatformError("L10", "output buffer overflow")),
    ("Error R15 (Memory quota vastly exceeded)", PlatformError("R15", "Memory quota vastly exceeded")),
    ("Error H12 (Request timeout) -> GET myapp.herokuapp.com/ dyno=web.1 service=30000ms status=503",
     PlatformError("H12", "Request timeout")),
    # unknown codes of the right shape count under their own code (the seed's R89, L99)
    ("Error R89 heroku", PlatformError("R89", "")),
    ("Error L99", PlatformError("L99", "")),
    ('at=error code=H12 desc="a thing happened"', PlatformError("H12", "a thing happened")),
    ('at=error code=H100 desc="future"', PlatformError("H100", "future")),
    ('at=error code=H12 desc=""', PlatformError("H12", "")),
    ('at=error code=H12 desc="unterminated', PlatformError("H12", "")),
    ('at=error code=H12 desc=unquoted', PlatformError("H12", "")),
    ('at=error code=H13 desc="Connection closed without response" desc2="x=\\"y\\""',
     PlatformError("H13", "Connection closed without response")),
])
def test_platform_errors_are_found(message, error):
    assert platform_error(message) == error


@pytest.mark.parametrize("message", [
    ROUTER_INFO, MEMORY, "", "Started GET /", "Error: something in the app", "Error R1 (too short)",
    "Error X14 (not a class)", "Error R14x", 'at=error code=X12 desc="no such class"',
    'at=error code=H1 desc="too short"', 'at=info code=H12 desc="not an error line"',
    "an app says Error R14 (Memory quota exceeded) in the middle", 'at=error desc="no code"',
    'sock=client at=error code=H27x desc="bad"',
])
def test_other_lines_are_no_platform_error(message):
    assert platform_error(message) is None


@pytest.mark.parametrize("message, times", [
    (ROUTER_H12, (1, 30001)),
    (ROUTER_INFO, (2, 45)),
    (ROUTER_H10, None),               # empty values: nothing to time
    (R14, None),
    ("connect=5 service=7", (5, 7)),
    ("connect=5ms service=abc", None),
    ("xconnect=5ms service=7ms", None),
    ('at=info desc="connect=1ms service=2ms" connect= service=', None),
])
def test_router_times(message, times):
    assert router_times(message) == times


# Heroku Error Codes (May 2024), as reference/pipelines.md lists them.
ROUTER_CODES = [f"H{n}" for n in (*range(10, 29), 31, 32, 80, 81, 82, 83, 99)]
RUNTIME_CODES = ["R10", "R12", "R13", "R14", "R15", "R16", "R17", "R99"]
LOGGING_CODES = [f"L{n}" for n in range(10, 16)]


@pytest.mark.parametrize("code", ROUTER_CODES)
def test_every_documented_router_code_is_found(code):
    line = (f'at=error code={code} desc="Something" method=GET path="/" host=myapp.herokuapp.com '
            f'request_id=8601b555 fwd="1.2.3.4" dyno=web.1 connect=0ms service=10ms status=503 bytes=0')
    assert platform_error(line) == PlatformError(code, "Something")
    assert platform_error(f"sock=client {line}") == PlatformError(code, "Something")


@pytest.mark.parametrize("code", RUNTIME_CODES + LOGGING_CODES)
def test_every_documented_runtime_and_logging_code_is_found(code):
    assert platform_error(f"Error {code} (Something happened)") == PlatformError(code, "Something happened")
    assert platform_error(f"Error {code} (Something happened): 12 messages dropped") \
        == PlatformError(code, "Something happened")
