"""Our consistent ring against the one statsd's cluster proxy uses (npm hashring 3.2.0, run by Node)."""

import json
import shutil
import subprocess

from logfwd.sinks.statsd import routing
from logfwd.sinks.statsd.routing import ConsistentRing
from servers_statsd import ensure_statsd

_PROXY_RING = """
const HashRing = require('hashring');
const [servers, names] = JSON.parse(process.argv[1]);
const weights = {}; servers.forEach(s => { weights[s] = 100; });   // as proxy.js builds it
const ring = new HashRing(weights, 'md5', {'max cache size': 10000, replicas: 0});
console.log(JSON.stringify(names.map(n => servers.indexOf(ring.get(n)))));
"""


def test_names_go_where_statsds_cluster_proxy_sends_them():
    folder = ensure_statsd()
    names = [f"app{i}.heroku.errors.H{10 + i % 90}" for i in range(2000)] + ["heaven.heroku.errors.H12", "x"]
    for servers in (["127.0.0.1:8125", "127.0.0.1:8126"], [f"10.0.0.{i}:8125" for i in range(1, 12)]):
        done = subprocess.run([shutil.which("node") or "node", "-e", _PROXY_RING, json.dumps([servers, names])],
                              cwd=folder, capture_output=True, text=True, timeout=60, check=True)
        ring = ConsistentRing(servers)
        assert [ring.collector(name.encode()) for name in names] == json.loads(done.stdout)
        assert [ring.collector(name.encode()) for name in names] == json.loads(done.stdout)  # remembered


def test_the_owners_a_ring_remembers_are_bounded_and_the_same(monkeypatch):
    monkeypatch.setattr(routing, "KNOWN_NAMES", 50)
    servers = [f"10.0.0.{i}:8125" for i in range(1, 6)]
    names = [f"app{i}.heroku.errors.R{10 + i % 90}".encode() for i in range(400)]
    fresh = [ConsistentRing(servers).collector(name) for name in names]  # each on a ring that knows nothing
    ring = ConsistentRing(servers)
    assert [ring.collector(name) for name in names * 2] == fresh * 2
    assert len(ring._known) <= 50
