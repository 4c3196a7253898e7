"""How unkind the emulated platform is: the timing and paging behaviours of a real OpenWhisk.

Each field switches on one behaviour read from the Apache OpenWhisk controller (see
``docs/openwhisk-timing.md``); the defaults are the kind, instant platform the emulator always was,
and ``Platform.real()`` switches everything on, as the soak does.
"""

from dataclasses import dataclass

__all__ = ["Platform", "TIE_ORDERS", "LOG_STORES"]

TIE_ORDERS = ("insertion", "id", "elasticsearch")
LOG_STORES = ("inline", "external", "delayed", "unavailable")


@dataclass(frozen=True)
class Platform:
    # 1. Lists and counts answer from the index as it stood at the previous query (stale=update_after).
    stale_index: bool = False
    # 2. Cold starts whose init may take the whole time limit (start is then up to 2 x the limit
    #    before the end), and up to this many seconds of log collection before the record is stored.
    late_records: bool = False
    log_collection: float = 0.0
    # 3. Order of records with the same start: "insertion", "id" (CouchDB: document id descending)
    #    or "elasticsearch" (start only: ties in a new order on every request).
    ties: str = "insertion"
    # 4. Share of records the controller cannot parse: docs=true pages silently leave them out.
    drop_rate: float = 0.0
    # 5. A skip at or above this answers 504 or 500, as the controller times out scanning (0: never).
    skip_timeout: int = 0
    # 6. "inline" logs in the record; "external": empty in the record, complete from /logs;
    #    "delayed": /logs is empty until logs_delay seconds after the record is stored;
    #    "unavailable": /logs answers ["Logs are not available."].
    log_store: str = "inline"
    logs_delay: float = 0.0
    # 7. Trigger records as the controller writes them: no end, no duration, no annotations.
    bare_triggers: bool = False
    # 8. Injected failures include the controller's own 500 and a gateway's 504.
    server_errors: bool = False

    def __post_init__(self):
        if self.ties not in TIE_ORDERS:
            raise ValueError(f"ties must be one of {', '.join(TIE_ORDERS)}, got {self.ties!r}")
        if self.log_store not in LOG_STORES:
            raise ValueError(f"log_store must be one of {', '.join(LOG_STORES)}, got {self.log_store!r}")
        if not 0.0 <= self.drop_rate < 1.0:
            raise ValueError(f"drop_rate must be at least 0 and below 1, got {self.drop_rate}")
        if self.skip_timeout < 0 or self.log_collection < 0 or self.logs_delay < 0:
            raise ValueError("skip_timeout, log_collection and logs_delay must be >= 0")

    def unparseable(self, activation_id: str) -> bool:
        """Whether this record is one the controller cannot parse: always the same for an id."""
        return int(activation_id[:8], 16) < self.drop_rate * 0x1_0000_0000

    @classmethod
    def real(cls, **overrides) -> "Platform":
        """Every behaviour on, at the sizes the soak uses, as one deployment has them: the CouchDB
        activation store (ties by id, unparseable documents left out of docs=true pages), or with
        ``ties="elasticsearch"`` the Elasticsearch one (ties in a new order on every request; its
        documents are not parsed by WhiskStore's include_docs path, so none is left out)."""
        elasticsearch = overrides.get("ties") == "elasticsearch"
        values = dict(stale_index=True, late_records=True, log_collection=2.0, ties="id",
                      drop_rate=0.0 if elasticsearch else 0.02, skip_timeout=600, log_store="delayed",
                      logs_delay=3.0, bare_triggers=True, server_errors=True)
        values.update(overrides)
        return cls(**values)
