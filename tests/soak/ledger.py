"""What was produced against what was received.

Every produced activation with ``lines`` log lines must arrive as the events
``<namespace>/<activationId>:0`` .. ``:<lines-1>`` (their ``@metadata._id``). Received copies are
de-duplicated by that id, as Elasticsearch does with ``document_id``; what is left must be one event
per log line. A line that arrived under two different ids would survive the de-duplication: that is
``duplicates_after_dedup``. One id whose copies disagree on the line's text or time is an
``id_conflict`` (a re-send that is not the same event).
"""

import json
from collections import Counter
from pathlib import Path

SAMPLE = 20  # lost or unexpected ids listed in the result, to start an investigation from


def compare(produced: list[dict], received_files: list[Path], *, namespace: str) -> dict:
    expected: dict[str, dict] = {}
    for activation in produced:
        for offset in range(activation["lines"]):
            expected[f"{namespace}/{activation['activationId']}:{offset}"] = activation

    copies: Counter[str] = Counter()
    content: dict[str, tuple] = {}
    ids_of_line: dict[tuple, set[str]] = {}
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
                line = ((event.get("faas") or {}).get("execution"), (event.get("log") or {}).get("offset"))
                ids_of_line.setdefault(line, set()).add(event_id)

    lost = [event_id for event_id in expected if event_id not in copies]
    unexpected = [event_id for event_id in copies if event_id not in expected]
    received = sum(copies.values())
    return {
        "activations_produced": len(produced),
        "lines_produced": len(expected),
        "lines_received": received,
        "lines_unique": len(copies),
        "lost": len(lost),
        "duplicates_raw": received - len(copies),
        "duplicates_after_dedup": sum(len(ids) - 1 for ids in ids_of_line.values()),
        "unexpected": len(unexpected),
        "id_conflicts": len(conflicts),
        "lost_sample": [{"id": event_id, **expected[event_id]} for event_id in lost[:SAMPLE]],
        "unexpected_sample": unexpected[:SAMPLE],
    }
