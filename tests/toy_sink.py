"""A toy sink that exists only in the tests: it appends each payload as a line to a file.

It shows that a sink is one module plus one registry line (the tests add the line at run time), and
lets the tests make a send fail after a given number of payloads.
"""

from logfwd.coerce import number, secret, text
from logfwd.errors import DeliveryError
from logfwd.plugs import WRITTEN, Param, Plug


class ToySink:
    guarantee = WRITTEN

    def __init__(self, path: str, fail_after: int):
        self.path, self.fail_after, self.batches_sent, self.written = path, fail_after, 0, 0

    def encode(self, events):
        return [event["message"].encode() for event in events]

    def send(self, payloads, deadline):
        with open(self.path, "ab") as out:
            for payload in payloads:
                if 0 <= self.fail_after <= self.written:
                    raise DeliveryError("toy receiver gone", acked=payloads.index(payload))
                out.write(payload + b"\n")
                self.written += 1
        self.batches_sent += 1

    def describe(self):
        return f"toy:{self.path}"

    def close(self):
        pass


PLUG = Plug(
    name="toy", kind="sink", guarantee=WRITTEN, summary="lines in a file (tests only)",
    build=lambda settings, context: ToySink(settings.toy_path, settings.toy_fail_after),
    params=(Param("toy_path", text, required=True, help="file to append to"),
            Param("toy_fail_after", number(int, -1, 10**9), -1, help="fail once this many payloads are written"),
            Param("toy_token", secret, secret=True, help="a secret the toy never shows")),
)
