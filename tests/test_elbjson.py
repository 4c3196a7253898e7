"""The JSON sinks' fast path for load-balancer lines writes exactly the bytes of the general path
(``parse_line``, the source's fields, then ``dumps``): over every line the parser tests use, each of
them with every field in turn replaced by odd values, the benchmark's lines, and characters that JSON
must or must not escape."""

import inspect

import orjson
import pytest
import test_elblog
from servers_s3 import alb_line, classic_line, nlb_line

from logfwd.codecs import elbclassicjson, elbjson, elbnlbjson
from logfwd.codecs.elbclassicjson import classic_json
from logfwd.codecs.elbjson import alb_json, json_writer
from logfwd.codecs.elbnlbjson import nlb_json
from logfwd.codecs.elblog import parse_line
from logfwd.codecs.jsonbytes import dumps, json_payloads
from logfwd.errors import LineFormatError
from logfwd.sources.s3.events import ObjectContext, ObjectLines

CONTEXT = ObjectContext("0123456789abcdef0123", 's3://b/AWSLogs/x "y"\\z.log.gz',
                        {"bucket": {"name": "b", "arn": "arn:aws:s3:::b"}, "object": {"key": 'AWSLogs/x "y"\\z.log.gz'}},
                        "2026-11-30T05:00:00.000Z")


def parser_test_lines() -> list[str]:
    """Every line test_elblog's tests give ``parse_line``, recorded by running them."""
    seen = []

    def recording(line):
        seen.append(line)
        return parse_line(line)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(test_elblog, "parse_line", recording)
        # A copy: a warning raised meanwhile (e.g. a ResourceWarning of an object an earlier test left to the
        # collector) adds __warningregistry__ to the module of the frame it is raised in.
        for name, test in list(vars(test_elblog).items()):
            if not name.startswith("test_") or name == "test_the_alb_function_builds_the_document_the_alb_table_builds":
                continue
            marks = [mark for mark in getattr(test, "pytestmark", []) if mark.name == "parametrize"]
            if marks:
                for values in marks[0].args[1]:
                    test(*values) if isinstance(values, tuple) else test(values)
            elif not inspect.signature(test).parameters:
                test()
    return list(dict.fromkeys(seen))


_ODD = ("-", "-1", '""', '"-"', "x", "0", "00", "1.5", "1e-05", "[::1]:80", "1.2.3.4:99999", "1.2.3.4:080",
        '"a \\"b\\" c"', '"a\\\\"', '"ü\x7f\u2028"', '"a\tb"', "2026-13-01T00:00:00.000000Z", "2026-01-01T00:00:00Z",
        "tls", "99999999999999999999", '"GET http://h:8/a?b HTTP/1.1"', '"GET http://h?x/a HTTP/1.1"',
        "inf", "1e400", "1e9", '"- - - "', "2015-02-30T00:00:00.5Z", "2026-01-32T00:00:00.000000Z",
        "2026-01-01T25:00:00.1Z", "2026-01-01T00:60:00Z", "2026-01-01T00:00:60.000001Z", "2026-01-01T00:00:59")


def variants(line: str) -> list[str]:
    words = line.split(" ")
    return [" ".join(words[:i] + [value] + words[i + 1:]) for i in range(len(words)) for value in _ODD]


def general(line: str) -> bytes | None:
    try:
        return dumps(parse_line(line))
    except LineFormatError:
        return None


def written_as_general(write, lines: list[str]) -> list[str]:
    """What ``write`` takes of ``lines``, each checked to be byte for byte the general path's JSON."""
    taken = []
    for line in lines:
        written = write(line)
        if written is not None:
            assert written.encode() == general(line), line
            taken.append(written)
    return taken


def test_alb_lines_written_directly_are_the_documents_json():
    lines = parser_test_lines()
    assert len(lines) > 20
    every = lines + [variant for line in lines for variant in variants(line)]
    every += [alb_line(i) for i in range(0, 20000, 3)]
    assert len(written_as_general(alb_json, every)) > len(every) // 4  # the fast path is the usual one, not a rare exception


def test_classic_lines_written_directly_are_the_documents_json():
    lines = parser_test_lines()
    every = lines + [variant for line in lines for variant in variants(line)]
    every += [classic_line(i) for i in range(0, 20000, 3)]
    every += [line.replace(" 200 200 0 ", " - - 7 ").replace(line[line.index('"'):line.rindex('"') + 1], '"- - - " "-"')
              for line in (classic_line(i) for i in range(0, 3000, 7))]  # TCP listener
    taken = written_as_general(classic_json, every)
    assert len(taken) > len(every) // 4 and sum('"protocol":"tcp"' in written for written in taken) > 400


def test_nlb_lines_written_directly_are_the_documents_json():
    lines = parser_test_lines()
    nlb = [nlb_line(i) for i in range(0, 20000, 7)]
    odd_alpn = [line.replace('"h2","http/1.1"', alpn) for line in nlb[:50]
                for alpn in ('"h2"', "-", "h2", '"h2","http%2F1.1","x"', '"",""', '"h2",', '"a b","c"', "%22q%22")]
    odd_domain = [line.replace("my-nlb.elb", domain) for line in nlb[:50]
                  for domain in ("caf%C3%A9.example", "%22quoted%22.x", "%ff%fe.x", "-", "a%E2%80%A8b")]
    shapes = [line.rsplit(" ", 1)[0] for line in nlb[:300]]  # 21 fields: files before the creation time
    shapes += [line + suffix for line in nlb[:300:3] for suffix in (" NEW_FIELD", ' "new one" 7', " ", "Z")]
    shapes += [line.replace(" tlsv12 ", " - ").replace(" ECDHE-RSA-AES128-SHA ", " - ").replace(" - arn:", " 28 arn:")
               for line in nlb[:100]]  # a failed handshake: an alert, no cipher, no protocol
    every = lines + [variant for line in lines + nlb[:40] for variant in variants(line)] + nlb + odd_alpn + odd_domain
    every += shapes
    nlb_type = [line for line in every if json_writer(line) is nlb_json]
    assert len(written_as_general(nlb_json, every)) > len(nlb_type) // 2  # the fast path is the usual one, not a rare exception
    assert all(nlb_json(line) is not None for line in nlb + shapes)  # AWS's shapes all take it
    assert sum(nlb_json(line) is not None for line in odd_alpn + odd_domain) > len(odd_alpn + odd_domain) // 2


def test_a_line_only_tries_the_pattern_of_its_own_type(monkeypatch):
    tried = []

    class Recording:
        def __init__(self, name, pattern):
            self.name, self.pattern = name, pattern

        def fullmatch(self, line):
            tried.append(self.name)
            return self.pattern.fullmatch(line)
    monkeypatch.setattr(elbjson, "_ALB", Recording("alb", elbjson._ALB))
    monkeypatch.setattr(elbclassicjson, "_CLASSIC", Recording("classic", elbclassicjson._CLASSIC))
    monkeypatch.setattr(elbnlbjson, "_NLB", Recording("nlb", elbnlbjson._NLB))
    nlb = [line for line in parser_test_lines() if line.startswith("tls ")]
    for texts, kind in (([classic_line(i) for i in range(1, 40)], "classic"), ([alb_line(i) for i in range(1, 40)], "alb"),
                        (nlb, "nlb")):
        events = ObjectLines(CONTEXT)
        for number, text in enumerate(texts, 1):
            events.append(text, number, number * 100)
        tried.clear()
        payloads = json_payloads(events)
        assert tried == [kind] * len(texts)
        assert payloads == [dumps(document) for document in events]
    # a unit whose first line is not an access log line: the type of the next line is remembered
    events = ObjectLines(CONTEXT)
    for number, text in enumerate(["not an access log line"] + [classic_line(i) for i in range(1, 20)], 1):
        events.append(text, number, number * 100)
    tried.clear()
    assert json_payloads(events) == [dumps(document) for document in events]
    assert tried == ["alb", "alb"] + ["classic"] * 19
    assert json_writer(classic_line(1)) is classic_json and json_writer(alb_line(1)) is alb_json
    assert len(nlb) > 1 and json_writer(nlb[0]) is nlb_json and json_writer(nlb_line(1)) is nlb_json


def test_the_benchmark_lines_all_take_the_fast_path_and_its_memos_stay_right():
    lines = [alb_line(i) for i in range(1, 5001)] + [classic_line(i) for i in range(1, 5001)] + [nlb_line(i) for i in range(1, 5001)]
    assert [json_writer(line)(line).encode() for line in lines] == [general(line) for line in lines]
    assert [json_writer(line)(line).encode() for line in lines] == [general(line) for line in lines]  # memos warm


def test_strings_are_escaped_as_orjson_escapes_them():
    for agent in ('a \\"q\\" b', "ü €", "sep\u2028\u2029", "-", "", "a\\\\b", "del\x7f", "tab\tx", "nul\x00x", "\ud800"):
        line = test_elblog.alb_line("https", "10.0.0.9:1", "10.0.0.1:80", "0.000 0.001 0.000", "200 200", "1 2",
                                    "GET http://h:8/ HTTP/1.1", agent, "- -",
                                    f'{test_elblog.TG} "-" "-" "-" 1 {test_elblog.ALB_START} "forward" "-" "-" "-" "-" "-" "-" -')
        written = alb_json(line)
        # a control character, DEL or a lone surrogate takes the general path; every other string this one
        assert (written is None) == (agent in ("del\x7f", "tab\tx", "nul\x00x", "\ud800")), agent
        if written is not None:
            assert written.encode() == general(line)
            assert ("user_agent" in orjson.loads(written)) == (agent not in ("-", ""))


def test_appended_fields_are_kept_on_the_fast_path():
    line = alb_line(3) + ' "transformed.example.com" "/new" NEW_FIELD'
    written = alb_json(line)
    assert written is not None and written.encode() == general(line)
    assert orjson.loads(written)["aws"]["elb"]["additional_fields"] == ["transformed.example.com", "/new", "NEW_FIELD"]


def test_a_units_payloads_are_its_documents_json_whatever_the_line():
    lines = parser_test_lines()
    texts = lines + [variant for line in lines[:8] for variant in variants(line)] + [
        alb_line(1), classic_line(2), "not an access log line", "\ufffd binary"]
    events = ObjectLines(CONTEXT)
    for number, text in enumerate(texts, 1):
        events.append(text, number * 2, number * 1000)
    documents = list(events)  # what any other sink gets: plain dicts
    unparsed = set(events.unparsed)
    assert json_payloads(events) == [dumps(document) for document in documents]
    assert events.unparsed == unparsed and len(unparsed) == sum(general(text) is None for text in texts) > 0
    assert [document["@metadata"]["_id"] for document in documents] == [
        f"0123456789abcdef0123-{number * 2}" for number in range(1, len(texts) + 1)]
    assert all(document["logfwd"] == {"unparsed": True} for index, document in enumerate(documents) if index in unparsed)


def _with_bad_time(time: str, what: str) -> str:
    """``time`` (``YYYY-MM-DDTHH:MM:SS...``) with one part out of range."""
    return {"13th month": time[:5] + "13" + time[7:], "32nd day": time[:8] + "32" + time[10:],
            "30 February": time[:5] + "02-30" + time[10:], "hour 25": time[:11] + "25" + time[13:],
            "minute 60": time[:14] + "60" + time[16:], "second 60": time[:17] + "60" + time[19:]}[what]


@pytest.mark.parametrize("what", ["13th month", "32nd day", "30 February", "hour 25", "minute 60", "second 60"])
def test_a_time_out_of_range_makes_an_unparsed_line_for_every_type(what):
    """Any part of a line's times out of range (not only the month): the line is not parsed, it is
    forwarded raw with the flag and the reason, counted, on the general and the fast path alike."""
    alb, classic, nlb = alb_line(7), classic_line(7), nlb_line(7)
    tcp = classic.replace(" 200 200 0 ", " - - 7 ").replace(classic[classic.index('"'):classic.rindex('"') + 1], '"- - - " "-"')
    lines = []
    for line in (alb, classic, tcp, nlb):
        words = line.split(" ")
        for index, word in enumerate(words):
            if word[:4] == "2026" and word[10:11] == "T":  # the line's time, and ALB's and NLB's creation time
                lines.append(" ".join(words[:index] + [_with_bad_time(word, what)] + words[index + 1:]))
    assert len(lines) == 6 and all(line not in (alb, classic, tcp, nlb) for line in lines)
    events = ObjectLines(CONTEXT)
    for number, line in enumerate(lines, 1):
        with pytest.raises(LineFormatError, match="is not a valid date" if what != "second 60" else "ISO 8601"):
            parse_line(line)
        writer = json_writer(line)
        assert writer is None or writer(line) is None, line  # the fast path leaves it to the general path
        events.append(line, number, number * 100)
    documents = [orjson.loads(payload) for payload in json_payloads(events)]
    assert [document["message"] for document in documents] == lines
    assert all(document["logfwd"] == {"unparsed": True} for document in documents)
    reason = "is not an ISO 8601 time" if what == "second 60" else "is not a valid date"
    assert all(reason in document["error"]["message"] for document in documents)
    assert events.unparsed == set(range(6)) and [dumps(document) for document in events] == json_payloads(events)
