"""One unit of N generated lines written as the JSON sinks get them (``json_payloads`` of an
``ObjectLines``), for instruction counts: ``python -m tests.bench.elb_unit {alb,classic,nlb} N [--no-encode]``.

Run it under callgrind twice, with N = 2001 and N = 1, and divide the difference of the two counts by
2,000: the instructions a line, without the interpreter's start and the imports::

    PYTHONHASHSEED=0 PYTHONPATH=actions valgrind --tool=callgrind python -m tests.bench.elb_unit classic 2001

That count includes making the lines; the same two runs with ``--no-encode`` count only that, so the
difference of the two differences is the writing alone.
"""

import sys

from logfwd.codecs.jsonbytes import json_payloads
from logfwd.sources.s3.events import ObjectContext, ObjectLines
from tests.servers_s3 import alb_line, classic_line, nlb_line


def main() -> None:
    make = {"alb": alb_line, "classic": classic_line, "nlb": nlb_line}[sys.argv[1]]
    context = ObjectContext("0123456789abcdef0123", "s3://b/k.log",
                            {"bucket": {"name": "b"}, "object": {"key": "k.log"}}, None)
    events = ObjectLines(context)
    for number in range(1, int(sys.argv[2]) + 1):
        events.append(make(number), number, number * 300)
    if "--no-encode" not in sys.argv[3:]:
        json_payloads(events)


if __name__ == "__main__":
    main()
