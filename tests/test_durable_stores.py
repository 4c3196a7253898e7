"""What the CouchDB and Redis stores do beyond the shared contract: URLs, lost answers, TLS, bad contents.

The contract itself is in test_checkpoint_contract.py; these run against the same real servers.
"""

import socket
import ssl
import threading
import uuid

import pytest
import requests

from logfwd.checkpoints import open_store
from logfwd.checkpoints.couchdb import CouchDBStore
from logfwd.checkpoints.redis import RedisStore
from logfwd.codecs.resp import NEED_DATA, ReplyDecoder, encode_command
from logfwd.errors import CheckpointError, CheckpointTransientError, ConfigError, ConflictError
from logfwd.retry import NO_WAIT

from servers import free_port, run_redis
from tlsutil import make_pki


class AnswerDropper:
    """A TCP proxy that, once armed with a marker, passes the request carrying it on and cuts both
    connections when the server answers: the request took effect, but the client never hears so."""

    def __init__(self, port: int):
        self.target = port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.marker: bytes | None = None
        self.dropped = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self.listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target))
            cut = threading.Event()
            threading.Thread(target=self._pump, args=(client, upstream, cut, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, cut, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, cut: threading.Event, request: bool) -> None:
        try:
            while data := source.recv(65536):
                if request and self.marker and self.marker in data:
                    self.marker = None
                    cut.set()
                elif not request and cut.is_set():
                    self.dropped += 1
                    break
                sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()


@pytest.fixture
def dropper_for():
    droppers = []

    def make(port: int) -> AnswerDropper:
        droppers.append(AnswerDropper(port))
        return droppers[-1]

    yield make
    for dropper in droppers:
        dropper.close()


def redis_call(server, *command):
    """One command on a connection of its own, to set up what a store will find."""
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        decoder = ReplyDecoder()
        sock.sendall(encode_command("AUTH", server.password) + encode_command(*command))
        replies = []
        while len(replies) < 2:
            reply = decoder.next_reply()
            if reply is NEED_DATA:
                decoder.feed(sock.recv(65536))
            else:
                replies.append(reply)
        return replies[1]


# --- URLs ---


def test_a_couchdb_url_names_database_and_document_and_may_carry_escaped_credentials():
    store = CouchDBStore.from_url("couchdb+https://me%40corp:p%2Fw%3A@db.example.org:6984/logs%2Fprod/my-doc")
    assert (store.base_url, store.database, store.doc_id) == ("https://db.example.org:6984", "logs/prod", "my-doc")
    assert store._session.auth == ("me@corp", "p/w:")
    assert store.describe() == "couchdb+https://db.example.org:6984/logs/prod/my-doc"
    assert CouchDBStore.from_url("couchdb+http://localhost:5984/logs").doc_id == "logfwd-checkpoint"


@pytest.mark.parametrize("url", ["couchdb+https:///logs", "couchdb+https://host", "couchdb+https://host/a/b/c",
                                 "couchdb+https://host/Logs"])
def test_a_couchdb_url_without_host_or_with_a_bad_database_is_a_config_error(url):
    with pytest.raises(ConfigError) as bad:
        open_store(url)
    assert bad.value.parameter == "checkpoint"


def test_a_redis_url_gives_host_port_database_key_and_tls():
    store = RedisStore.from_url("rediss://ops:s%40cret@cache.example.org:6380/2?key=team:cp")
    assert (store.host, store.port, store.db, store.key, store.tls) == ("cache.example.org", 6380, 2, "team:cp", True)
    assert (store._username, store._password) == ("ops", "s@cret")
    assert store.describe() == "rediss://cache.example.org:6380/2?key=team:cp"
    plain = RedisStore.from_url("redis://localhost", password="given")
    assert (plain.port, plain.db, plain.key, plain.tls, plain._password) == (6379, 0, "logfwd:checkpoint", False,
                                                                              "given")


@pytest.mark.parametrize("url", ["redis:///0", "redis://host:port/0", "redis://host/zero"])
def test_a_bad_redis_url_is_a_config_error(url):
    with pytest.raises(ConfigError) as bad:
        open_store(url)
    assert bad.value.parameter == "checkpoint"


# --- unreachable servers ---


@pytest.mark.parametrize("kind, scheme, path", [(CouchDBStore, "couchdb+http", "/logs"), (RedisStore, "redis", "/0")])
def test_a_server_that_is_not_there_is_a_transient_error_naming_it(kind, scheme, path):
    port = free_port()
    store = kind.from_url(f"{scheme}://user:pw-not-shown@127.0.0.1:{port}{path}", retry=NO_WAIT)
    with pytest.raises(CheckpointTransientError) as down:
        store.load()
    assert f"127.0.0.1:{port}" in str(down.value) and "pw-not-shown" not in str(down.value)


# --- a save whose answer is lost ---


def test_a_redis_save_retried_after_its_answer_was_lost_is_no_conflict(redis_server, dropper_for):
    dropper = dropper_for(redis_server.port)
    key = f"lost:{uuid.uuid4().hex}"
    url = redis_server.url("redis", f"/0?key={key}").replace(f":{redis_server.port}/", f":{dropper.port}/")
    store, rival = RedisStore.from_url(url, retry=NO_WAIT), open_store(redis_server.url("redis", f"/0?key={key}"))
    assert store.load() is None and rival.load() is None
    dropper.marker = b"HSET"
    store.save({"run": "first"})
    assert dropper.dropped == 1
    store.save({"run": "first, later"})
    with pytest.raises(ConflictError):
        rival.save({"run": "rival"})
    assert open_store(redis_server.url("redis", f"/0?key={key}")).load() == {"run": "first, later"}


def test_a_couchdb_save_retried_after_its_answer_was_lost_is_no_conflict(couchdb_server, dropper_for):
    dropper = dropper_for(couchdb_server.port)
    database = f"lost-{uuid.uuid4().hex[:12]}"
    url = couchdb_server.url("couchdb+http", f"/{database}")
    store = CouchDBStore.from_url(url.replace(f":{couchdb_server.port}/", f":{dropper.port}/"), retry=NO_WAIT)
    rival = open_store(url)
    assert store.load() is None and rival.load() is None
    dropper.marker = f"PUT /{database}/logfwd-checkpoint ".encode()
    store.save({"run": "first"})
    assert dropper.dropped == 1
    store.save({"run": "first, later"})
    with pytest.raises(ConflictError):
        rival.save({"run": "rival"})
    assert open_store(url).load() == {"run": "first, later"}


# --- TLS ---


@pytest.fixture(scope="module")
def redis_tls(tmp_path_factory):
    folder = tmp_path_factory.mktemp("redis-tls")
    files = make_pki().write(folder)
    with run_redis(tls=files) as server:
        yield server, files


def test_rediss_verifies_the_server_certificate_and_works_with_a_trusted_ca(redis_tls):
    server, files = redis_tls
    url = server.url("rediss", f"/0?key=tls:{uuid.uuid4().hex}")
    trusted = ssl.create_default_context(cafile=files["ca"])
    store = RedisStore.from_url(url, ssl_context=trusted)
    assert store.load() is None
    store.save({"run": "over tls"})
    assert RedisStore.from_url(url, ssl_context=trusted).load() == {"run": "over tls"}

    with pytest.raises(CheckpointError) as untrusted:
        RedisStore.from_url(url, retry=NO_WAIT).load()  # the system CAs never signed the test CA
    assert "TLS verification failed" in str(untrusted.value) and f"{server.host}:{server.port}" in str(untrusted.value)
    assert not isinstance(untrusted.value, CheckpointTransientError)


def test_rediss_refuses_a_certificate_for_another_host(tmp_path):
    files = make_pki(server_names=("cache.example.org",)).write(tmp_path)
    with run_redis(tls=files) as server:
        store = RedisStore.from_url(server.url("rediss", "/0"), retry=NO_WAIT,
                                    ssl_context=ssl.create_default_context(cafile=files["ca"]))
        with pytest.raises(CheckpointError) as mismatch:
            store.load()
    assert "TLS verification failed" in str(mismatch.value) and "127.0.0.1" in str(mismatch.value)


# --- contents a store cannot use ---


def test_a_redis_key_that_holds_no_checkpoint_is_a_clear_error(redis_server):
    key = f"junk:{uuid.uuid4().hex}"
    redis_call(redis_server, "HSET", key, "version", "3", "data", "[1, 2]")
    with pytest.raises(CheckpointError) as junk:
        open_store(redis_server.url("redis", f"/0?key={key}")).load()
    assert key in str(junk.value) and "delete it" in str(junk.value)

    redis_call(redis_server, "SET", f"{key}:string", "a plain string")
    with pytest.raises(CheckpointError) as wrong_type:
        open_store(redis_server.url("redis", f"/0?key={key}:string")).load()
    assert "WRONGTYPE" in str(wrong_type.value) and str(redis_server.port) in str(wrong_type.value)


def test_a_couchdb_document_that_holds_no_checkpoint_is_a_clear_error(couchdb_server):
    database = f"junk-{uuid.uuid4().hex[:12]}"
    base = f"http://{couchdb_server.host}:{couchdb_server.port}/{database}"
    auth = (couchdb_server.username, couchdb_server.password)
    assert requests.put(base, auth=auth, timeout=10).status_code == 201
    assert requests.put(f"{base}/logfwd-checkpoint", json={"cursor": 1}, auth=auth, timeout=10).status_code == 201
    with pytest.raises(CheckpointError) as junk:
        open_store(couchdb_server.url("couchdb+http", f"/{database}")).load()
    assert "logfwd-checkpoint" in str(junk.value) and database in str(junk.value)


def test_redis_without_the_password_it_requires_says_so(redis_server):
    store = open_store(redis_server.url("redis", "/0", credentials=False))
    with pytest.raises(CheckpointError) as refused:
        store.load()
    assert "NOAUTH" in str(refused.value) and f"{redis_server.host}:{redis_server.port}" in str(refused.value)


@pytest.mark.parametrize("deadline_passed, attempts", [(False, 3), (True, 1)])
def test_a_store_gives_up_at_the_runs_deadline(deadline_passed, attempts):
    """A store that answers nothing useful is retried, but never past the run's deadline."""
    import socket
    import threading
    import time as clock

    from logfwd.checkpoints.redis import RedisStore
    from logfwd.deadline import Deadline
    from logfwd.errors import CheckpointError
    from logfwd.retry import RetryPolicy

    listener = socket.create_server(("127.0.0.1", 0))
    connections = []

    def hang_up():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            connections.append(conn)
            conn.close()

    threading.Thread(target=hang_up, daemon=True).start()
    deadline = Deadline(at=clock.time() - 1 if deadline_passed else None)
    store = RedisStore("127.0.0.1", listener.getsockname()[1], deadline=deadline,
                       retry=RetryPolicy(attempts=3, initial=0, maximum=0, jitter=0))
    try:
        with pytest.raises(CheckpointError):
            store.load()
    finally:
        store.close()
        listener.close()
    assert len(connections) == attempts
