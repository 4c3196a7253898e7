"""What was produced against what was received.

Every produced activation with ``lines`` log lines must arrive as the events
``<namespace>/<activationId>:0`` .. ``:<lines-1>`` (their ``@metadata._id``); one the platform cannot
parse (``unlisted``) is left out of every ``docs=true`` page, so it need not arrive; the recheck of
a busy range may still find it in a ``docs=false`` summary and read it by id, so its lines may arrive
too (``unlisted_forwarded``), and are not unexpected. Received copies are
de-duplicated by that id, as Elasticsearch does with ``document_id``: a copy beyond the first is a
re-sent line (``resent_lines``). One id whose copies disagree on the line's text or time is an
``id_conflict`` (a re-send that is not the same event, which de-duplication would hide).
"""

import json
from collections import Counter
from pathlib import Path

SAMPLE = 20  # lost or unexpected ids listed in the result, to start an investigation from


def compare(produced: list[dict], received_files: list[Path], *, namespace: str) -> dict:
    expected: dict[str, dict] = {}
    unlisted: set[str] = set()  # lines that may arrive, or not
    for activation in produced:
        for offset in range(activation["lines"]):
            event_id = f"{namespace}/{activation['activationId']}:{offset}"
            if activation.get("unlisted"):
                unlisted.add(event_id)
            else:
                expected[event_id] = activation

    copies: Counter[str] = Counter()
    content: dict[str, tuple] = {}
    conflicts = set()
    for path in received_files:
        with open(path, "rb") as file:
            for raw in file:
                event = json.loads(raw)
                event_id = event["@metadata"]["_id"]
                copies[event_id] += 1
                seen = (event.get("message"), event.get("@timestamp"))
                if content.setdefault(event_id, seen) != seen:
                    conflicts.add(event_id)

    lost = [event_id for event_id in expected if event_id not in copies]
    unexpected = [event_id for event_id in copies if event_id not in expected and event_id not in unlisted]
    received = sum(copies.values())
    return {
        "activations_produced": len(produced),
        "lines_produced": len(expected),
        "lines_received": received,
        "lines_unique": len(copies),
        "lost": len(lost),
        "resent_lines": received - len(copies),
        "unlisted_activations": sum(1 for a in produced if a.get("unlisted")),
        "unlisted_forwarded": sum(1 for event_id in copies if event_id in unlisted),
        "unexpected": len(unexpected),
        "id_conflicts": len(conflicts),
        "lost_sample": [{"id": event_id, **expected[event_id]} for event_id in lost[:SAMPLE]],
        "unexpected_sample": unexpected[:SAMPLE],
    }
