"""Every document the ELB parser makes, dumped, so that a change meant only to be faster is proved to
change no byte: ``python -m tests.bench.elb_documents OUT [--corpus FILE] [--lines N]``.

The lines: those the tests feed the parser (collected by running the tests with this module as a pytest
plugin: ``ELB_CORPUS=FILE python -m pytest -p tests.bench.elb_documents tests/test_elblog.py ...``),
N generated ALB, classic and NLB lines each, and each corpus line with every field in turn replaced by
values that take other paths (``-``, ``-1``, empty quotes, garbage): the lines written in the tests
and a few generated ones. For each line OUT gets the line,
then the document as the s3 source's encoder writes it (orjson, key order kept), or the error.
"""

import argparse
import os
import sys

_SEEN: list[str] = []


def pytest_configure(config) -> None:  # pragma: no cover - runs only as a plugin
    """Wrap ``parse_line`` before the test modules import it, recording every line it is given."""
    from logfwd.codecs import elblog

    original = elblog.parse_line

    def recording(line: str) -> dict:
        _SEEN.append(line)
        return original(line)
    elblog.parse_line = recording


def pytest_unconfigure(config) -> None:  # pragma: no cover
    with open(os.environ["ELB_CORPUS"], "w", encoding="utf-8") as file:
        for line in dict.fromkeys(_SEEN):
            file.write(repr(line) + "\n")


def nlb_line(i: int) -> str:
    """An NLB TLS line whose fields vary with ``i`` (IPv6 clients, failed handshakes, ALPN lists)."""
    client = f"[2001:db8::{i % 4096:x}]:{1024 + i % 60000}" if i % 7 == 0 else f"192.168.{i % 250}.{i % 200 + 1}:{i % 65536}"
    failed = i % 11 == 0
    alpn = '"h2","http%2F1.1"' if i % 3 else "-"
    return (f"tls 2.0 2026-11-30T05:{(i // 60) % 60:02d}:{i % 60:02d} net/my-nlb/c6e77e28c25b2234 "
            f"g3d4b5e8bb8464cd {client} 10.0.0.{i % 250}:443 {'-' if failed else f'{i % 5000}'} "
            f"{'-' if failed else f'{i % 30}'} {i % 9000} {i} {'UnknownCA' if failed else '-'} "
            f"arn:aws:acm:us-east-2:671290407336:certificate/2a108f19-aded-46b0-8493-c63eb1ef4a99 "
            f"{'-' if failed else f'{i:020x}'} ECDHE-RSA-AES128-SHA256 tlsv1{i % 4} - "
            f"my-network-loadbalancer-c6e77e28c25b2234.elb.us-east-2.amazonaws.com{'%2Fx' if i % 5 == 0 else ''} "
            f"{'h2' if i % 3 else '-'} {'h2' if i % 3 else '-'} {alpn} "
            f"2026-11-30T05:00:{i % 60:02d}")


_VARIANTS = ("-", "-1", '""', '"-"', "x", "0", "1.5", "[::1]:80", "1.2.3.4:99999", '"a \\"b\\" c"', "2026-01-01T00:00:00Z")


def variants(line: str) -> list[str]:
    """``line`` with each of its space-separated words replaced by each of ``_VARIANTS`` in turn."""
    words = line.split(" ")
    out = []
    for index in range(min(len(words), 40)):
        for value in _VARIANTS:
            out.append(" ".join(words[:index] + [value] + words[index + 1:]))
    return out


def lines(corpus: str | None, count: int) -> list[str]:
    from tests.servers_s3 import alb_line, classic_line

    from ast import literal_eval
    collected = [literal_eval(text) for text in open(corpus, encoding="utf-8")] if corpus else []
    generated = [make(i) for make in (alb_line, classic_line, nlb_line) for i in range(count)]
    known = set(generated)
    written = [line for line in collected if line not in known and not line.startswith("not an access log")]
    mutated = [variant for line in written + generated[::max(1, count // 3)] for variant in variants(line)]
    return collected + generated + mutated


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.elb_documents", description=__doc__.split("\n\n")[0])
    parser.add_argument("out", help="file to write")
    parser.add_argument("--corpus", help="lines collected from the tests (see above)")
    parser.add_argument("--lines", type=int, default=100_000, help="generated lines of each type")
    args = parser.parse_args(argv)
    from logfwd.codecs.elblog import parse_line
    from logfwd.codecs.jsonbytes import json_payloads
    from logfwd.errors import LineFormatError

    with open(args.out, "wb") as out:
        for line in lines(args.corpus, args.lines):
            out.write(repr(line).encode("utf-8", "backslashreplace") + b"\n")
            try:
                out.write(b"".join(json_payloads([parse_line(line)])) + b"\n")
            except LineFormatError as exc:
                out.write(f"LineFormatError: {exc}\n".encode("utf-8", "backslashreplace"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
