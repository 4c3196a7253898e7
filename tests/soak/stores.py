"""The soak over every checkpoint store: each store gets its share of the runs, against its own
emulator and receivers, and a fresh server where it needs one (redis-server from Debian,
pouchdb-server from npm, as the tests start them). The figures are added up over the stores.
"""

import contextlib
import json
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

from .config import STORES, SoakConfig

try:  # python -m tests.soak
    from ..servers import run_couchdb, run_redis
except ImportError:  # under pytest, tests/ is on sys.path
    from servers import run_couchdb, run_redis

# The figures every store reports, and their sum at the top.
KEYS = ("runs", "kills", "lines_produced", "lines_received", "lost", "id_conflicts", "resent_lines")


@contextlib.contextmanager
def checkpoint_spec(store: str, workdir: Path):
    """The ``checkpoint`` parameter for ``store``, with its server running while the soak uses it."""
    if store == "file":
        yield f"file:{workdir / 'checkpoint.json'}"
    elif store == "activation":
        yield "activation"
    elif store == "redis":
        with run_redis() as server:
            yield server.url("redis", "/0")
    else:
        with run_couchdb() as server:
            yield server.url("couchdb+http", "/logfwd-soak")


def run_stores(config: SoakConfig, soak) -> dict:
    """Run ``soak(config)`` once per store and add the figures up. ``soak`` returns one store's result."""
    config.check()
    own = config.workdir is None
    root = Path(config.workdir or tempfile.mkdtemp(prefix="logfwd-soak-"))
    shares = [config.runs // len(config.stores)] * len(config.stores)
    shares[0] += config.runs - sum(shares)
    stores = {}
    for i, (store, runs) in enumerate(zip(config.stores, shares)):
        workdir = root / store
        with checkpoint_spec(store, workdir) as spec:
            # Every other store against the Elasticsearch activation store's tie order.
            ties = "elasticsearch" if STORES.index(store) % 2 else "id"
            stores[store] = soak(replace(config, runs=runs, seed=config.seed + i, workdir=workdir, checkpoint=spec,
                                         stores=(store,), ties=ties))
        if workdir.is_dir():  # each store's figures as soon as it is done: a long soak cut short keeps them
            (workdir / "result.json").write_text(json.dumps(stores[store], indent=2) + "\n")
    result = {key: sum(r[key] for r in stores.values()) for key in KEYS}
    result["resent_per_kill"] = round(result["resent_lines"] / result["kills"], 1) if result["kills"] else 0.0
    result["passed"] = all(r["passed"] for r in stores.values())
    result["seed"] = config.seed
    result["duration_seconds"] = round(sum(r["duration_seconds"] for r in stores.values()), 1)
    result["stores"] = stores
    if result["passed"] and own:
        shutil.rmtree(root, ignore_errors=True)
        result["workdir"] = None
    else:
        result["workdir"] = str(root)
    return result
