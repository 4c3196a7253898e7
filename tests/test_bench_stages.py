"""``tests.bench.stages --split``: py-spy's raw stacks of a pass, attributed stage by stage."""

from tests.bench.stages import split

PASS = "thread (1): MainThread;<module> (tests/bench/stages.py:1);passes (tests/bench/stages.py:60);run_once (logfwd/runner.py:51)"


def test_each_sample_goes_to_its_innermost_stage_and_the_split_scales_to_the_cpu(tmp_path):
    raw = tmp_path / "pass.raw"
    raw.write_text("\n".join([
        # orjson called from the API client: decoding, not HTTP
        f"{PASS};OpenWhiskAPI._attempt (logfwd/sources/openwhisk/api.py:250);loads (logfwd/codecs/jsonbytes.py:30) 6",
        f"{PASS};OpenWhiskAPI._attempt (logfwd/sources/openwhisk/api.py:240);Session.get (requests/sessions.py:600) 2",
        f"{PASS};_unit (logfwd/sources/openwhisk/source.py:380);activation_events (logfwd/sources/openwhisk/events.py:140) 1",
        "thread (2): logfwd-send_0;_worker (concurrent/futures/thread.py:83);encode_window (logfwd/codecs/lumberjack.py:90) 1",
        # the servers starting, outside any pass: left out
        "thread (1): MainThread;<module> (tests/bench/stages.py:1);emulator (tests/bench/procs.py:82) 90",
    ]) + "\n")
    stages = {stage: (us, share) for stage, us, share in split(raw, us_per_line=5.0)}
    assert stages["decode pages (orjson)"] == (3.0, 0.6)
    assert stages["HTTP: requests, urllib3, http.client"] == (1.0, 0.2)
    assert stages["events: lines (fast path), payloads"] == (0.5, 0.1)
    assert stages["sink: framing, ACKs (compression off the GIL)"] == (0.5, 0.1)
    assert len(stages) == 4


def test_the_api_clients_own_transport_counts_as_http(tmp_path):
    raw = tmp_path / "pass.raw"
    raw.write_text(f"{PASS};OpenWhiskAPI._attempt (logfwd/sources/openwhisk/api.py:222);"
                   "Transport.prepared (logfwd/sources/openwhisk/transport.py:55) 3\n")
    assert split(raw, us_per_line=2.0) == [("HTTP: requests, urllib3, http.client", 2.0, 1.0)]
