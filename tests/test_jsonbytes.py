"""Both encoders give the same bytes, and the fallback covers what orjson refuses."""

import json

import pytest

from logfwd.codecs import jsonbytes


def stdlib(obj) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "replace")


@pytest.mark.parametrize("obj", [
    {"message": "héllo ✓ \u2028 \"quoted\" \\ \n\t", "log": {"offset": 3}, "ok": True, "x": None, "f": 1.5},
    {"@timestamp": "2017-11-13T15:45:25.278483919Z", "faas": {"coldstart": False, "id": "/ns/a"}},
])
def test_same_bytes_as_the_standard_library(obj):
    assert jsonbytes.orjson is not None  # a runtime dependency: installed by make
    assert jsonbytes.dumps(obj) == stdlib(obj)


@pytest.mark.parametrize("obj", [{"message": "lone \ud800 surrogate"}, {"n": 2 ** 70}])
def test_what_orjson_refuses_takes_the_standard_path(obj):
    encoded = jsonbytes.dumps(obj)
    encoded.decode("utf-8")  # valid UTF-8, so the receiver accepts the window
    assert json.loads(encoded).keys() == obj.keys()


def test_without_orjson_the_standard_library_encodes(monkeypatch):
    monkeypatch.setattr(jsonbytes, "orjson", None)
    assert jsonbytes.dumps({"a": "é"}) == '{"a":"é"}'.encode()


@pytest.mark.parametrize("use_orjson", [True, False])
def test_nan_and_infinity_become_null_with_either_encoder(monkeypatch, use_orjson):
    if not use_orjson:
        monkeypatch.setattr(jsonbytes, "orjson", None)
    assert jsonbytes.dumps({"a": float("nan"), "b": [float("inf")], "c": 1.5}) == b'{"a":null,"b":[null],"c":1.5}'


@pytest.mark.parametrize("use_orjson", [True, False])
def test_loads_parses_and_refuses_like_the_standard_library(monkeypatch, use_orjson):
    if not use_orjson:
        monkeypatch.setattr(jsonbytes, "orjson", None)
    assert jsonbytes.loads('{"a":[1,"é"]}'.encode()) == {"a": [1, "é"]}
    for bad in (b"<html>", b'{"a":', "é".encode("latin-1")):
        with pytest.raises(ValueError):
            jsonbytes.loads(bad)
