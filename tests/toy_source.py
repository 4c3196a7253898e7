"""A toy pushed source that exists only in the tests: ``{"records": [{"id", "lines"}]}`` in the event.

Its answer has the shape of Lambda's partial batch response: the ids of the records not delivered.
"""

from functools import partial

from logfwd.errors import BadRecordError
from logfwd.plugs import PUSHED, Plug
from logfwd.sources.base import Unit


class ToySource:
    def __init__(self, event):
        self.records = event.get("records", [])
        self.errors, self.warnings, self.done = [], [], set()

    def units(self, deadline, encode):
        for record in self.records:
            try:
                if not isinstance(record.get("lines"), list):
                    raise BadRecordError(f"record {record.get('id')!r}: 'lines' is not a list")
                events = [{"message": line, "@metadata": {"_id": f"{record['id']}:{i}"}}
                          for i, line in enumerate(record["lines"])]
            except BadRecordError as exc:
                self.errors.append(str(exc))
                events = []
            yield Unit(encode(events), partial(self.done.add, record["id"]))

    def summary(self):
        return {"records": len(self.done), "more": len(self.done) < len(self.records)}

    def answer(self):
        return {"batchItemFailures": [{"itemIdentifier": r["id"]} for r in self.records if r["id"] not in self.done]}

    def close(self):
        pass


PLUG = Plug(name="toylines", kind="source", mode=PUSHED, summary="lines in the event (tests only)",
            build=lambda settings, context: ToySource(context.event), params=())
