"""The Heroku drain end to end: logplex requests to ``logfwd serve``'s server, counters read back from
two real Etsy statsd daemons through their admin interface."""

import base64
import http.client
import json
import secrets
import time
import uuid

import pytest

from logfwd.cli.serve import DrainServer
from logfwd.sinks.statsd.routing import ConsistentRing
from logplex_frames import DOCUMENTED, DOCUMENTED_CODES, ROUTER_H12, ROUTER_INFO, SEED_BODY, body, frame
from servers_statsd import free_udp_port, run_statsd

PASSWORD = f"pw-{secrets.token_hex(12)}"


def new_app() -> str:
    return f"app{secrets.token_hex(4)}"  # metric names of this test only: the daemons live all session


def serve(apps, cluster, **params) -> DrainServer:
    values = {"source": "logplex", "sink": "statsd",
              "logplex_credentials": json.dumps({app: f"logplex:{PASSWORD}" for app in apps}),
              "statsd_cluster": ",".join(c.address if hasattr(c, "address") else c for c in cluster)}
    return DrainServer(values | params, environ={})


def post(server, path, data, *, count=None, frame_id=None, password=PASSWORD, user="logplex",
         content_type="application/logplex-1", method="POST", drain_token=""):
    headers = {"Content-Type": content_type, "User-Agent": "Logplex/v49",
               "Logplex-Msg-Count": str(count if count is not None else data.count(b"<158>") + data.count(b"<10>")),
               "Logplex-Frame-Id": frame_id or uuid.uuid4().hex.upper(),
               "Logplex-Drain-Token": drain_token or f"d.{uuid.uuid4()}"}
    if drain_token is None:
        del headers["Logplex-Drain-Token"]
    if password is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    connection = http.client.HTTPConnection(server.server_address[0], server.server_address[1], timeout=10)
    try:
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        connection.close()


def counted(cluster, app):
    """``[{metric: count}]`` per collector, only this app's metrics, once everything sent has arrived."""
    found = []
    for collector in cluster:
        collector.barrier()
        found.append({name: n for name, n in collector.counters().items() if name.startswith(app + ".")})
    return found


def test_every_documented_code_is_counted_once_at_its_collector(statsd_cluster):
    ring = ConsistentRing([c.address for c in statsd_cluster])
    app = new_app()
    while len({ring.collector(f"{app}.heroku.errors.{code}".encode()) for code in DOCUMENTED_CODES}) < 2:
        app = new_app()  # an app whose codes go to both collectors
    with serve([app], statsd_cluster) as server:
        status, _, text = post(server, f"/{app}/logs", body(DOCUMENTED))
    assert status == 200, text
    assert text == "9 frame(s), 6 Heroku error(s) counted\n"
    expected = [{}, {}]
    for code, count in DOCUMENTED_CODES.items():
        name = f"{app}.heroku.errors.{code}"
        expected[ring.collector(name.encode())][name] = count
    assert counted(statsd_cluster, app) == expected


def test_the_seed_body_is_routed_as_logplex_statsd_routed_it(statsd_cluster):
    # The seed: crc32 mod 2 sent heaven.heroku.errors.R89 to the first collector, R99, L99, H12 to the second.
    app = "heaven"
    with serve([app], statsd_cluster, statsd_routing="crc32-mod-n", logplex_platform_only="false") as server:
        before = counted(statsd_cluster, app)
        status, _, text = post(server, "/heaven/logs", SEED_BODY, count=5)
    assert status == 200, text
    after = counted(statsd_cluster, app)
    gained = [{k: v - b.get(k, 0) for k, v in a.items() if v != b.get(k, 0)} for a, b in zip(after, before)]
    assert gained == [{"heaven.heroku.errors.R89": 1},
                      {"heaven.heroku.errors.R99": 1, "heaven.heroku.errors.L99": 1, "heaven.heroku.errors.H12": 1}]


def test_counts_are_aggregated_per_request_and_packed_into_few_datagrams(statsd_cluster):
    app = new_app()
    lines = [("heroku", "router", ROUTER_H12)] * 60 + [("heroku", "web.1", "Error R14 (Memory quota exceeded)")] * 40
    with serve([app], statsd_cluster, statsd_prefix="prod") as server:
        packets_before = sum(c.counters()["statsd.packets_received"] for c in statsd_cluster)
        status, _, _ = post(server, f"/{app}/logs", body(lines))
        assert status == 200
        assert server.sink.batches_sent <= 2  # one line per code; each collector's lines in one datagram
    found = {}
    for collector in statsd_cluster:
        collector.barrier()
        found.update({k: v for k, v in collector.counters().items() if k.startswith(f"prod.{app}.")})
    assert found == {f"prod.{app}.heroku.errors.H12": 60, f"prod.{app}.heroku.errors.R14": 40}
    packets_after = sum(c.counters()["statsd.packets_received"] for c in statsd_cluster)
    assert packets_after - packets_before <= 2 + 2 + 2  # ours, the two barriers, the two counters reads' barriers


def test_router_times_become_timers_when_asked(statsd_cluster):
    app = new_app()
    lines = [("heroku", "router", ROUTER_H12), ("heroku", "router", ROUTER_INFO), ("app", "router", ROUTER_INFO)]
    with serve([app], statsd_cluster, logplex_router_timers="true") as server:
        assert post(server, f"/{app}/logs", body(lines))[0] == 200
    timers = {}
    for collector in statsd_cluster:
        collector.barrier()
        timers.update({k: sorted(v) for k, v in collector.timers().items() if k.startswith(app)})
    assert timers == {f"{app}.heroku.router.connect": [1, 2], f"{app}.heroku.router.service": [45, 30001]}


def test_a_resent_frame_is_not_counted_twice(statsd_cluster):
    app, frame_id = new_app(), uuid.uuid4().hex.upper()
    data = body([("heroku", "router", ROUTER_H12)])
    with serve([app], statsd_cluster) as server:
        first = post(server, f"/{app}/logs", data, frame_id=frame_id)
        again = post(server, f"/{app}/logs", data, frame_id=frame_id)
        other = post(server, f"/{app}/logs", data)  # a new frame with the same lines counts
    assert first[0] == again[0] == other[0] == 200
    assert again[2] == f"frame {frame_id} was already counted\n"
    totals = {k: v for found in counted(statsd_cluster, app) for k, v in found.items()}
    assert totals == {f"{app}.heroku.errors.H12": 2}


def test_with_a_redis_store_another_process_does_not_count_a_resent_frame(statsd_cluster, redis_server):
    app, frame_id = new_app(), uuid.uuid4().hex.upper()
    data = body([("heroku", "web.1", "Error R14 (Memory quota exceeded)")])
    store = redis_server.url("redis", "/0", username="")
    with serve([app], statsd_cluster, logplex_store=store) as one, \
            serve([app], statsd_cluster, logplex_store=store) as two:
        assert post(one, f"/{app}/logs", data, frame_id=frame_id)[0] == 200
        status, _, text = post(two, f"/{app}/logs", data, frame_id=frame_id)
    assert (status, text) == (200, f"frame {frame_id} was already counted\n")
    totals = {k: v for found in counted(statsd_cluster, app) for k, v in found.items()}
    assert totals == {f"{app}.heroku.errors.R14": 1}


def test_without_a_store_another_process_counts_a_resent_frame_again(statsd_cluster):
    # The documented limit of the in-memory memory: it is per process (per warm container).
    app, frame_id = new_app(), uuid.uuid4().hex.upper()
    data = body([("heroku", "web.1", "Error R15 (Memory quota vastly exceeded)")])
    with serve([app], statsd_cluster) as one:
        assert post(one, f"/{app}/logs", data, frame_id=frame_id)[0] == 200
    from logfwd.sources.logplex import seen
    seen.WARM = seen.RecentFrames()  # a new process starts with an empty memory
    with serve([app], statsd_cluster) as two:
        assert post(two, f"/{app}/logs", data, frame_id=frame_id)[0] == 200
    totals = {k: v for found in counted(statsd_cluster, app) for k, v in found.items()}
    assert totals == {f"{app}.heroku.errors.R15": 2}


def test_wrong_credentials_are_refused_alike_for_known_and_unknown_apps(statsd_cluster):
    app = new_app()
    data = body([("heroku", "router", ROUTER_H12)])
    with serve([app], statsd_cluster) as server:
        answers = [post(server, f"/{app}/logs", data, password=PASSWORD + "x"),
                   post(server, f"/{app}/logs", data, password=None),
                   post(server, f"/{app}/logs", data, user="other"),
                   post(server, f"/{new_app()}/logs", data),                 # unknown app, the right password
                   post(server, f"/{new_app()}/logs", data, password="guess")]
        sent = server.sink.batches_sent
    assert {status for status, _, _ in answers} == {401}
    assert len({text for _, _, text in answers}) == 1 and app not in answers[0][2]
    assert all(headers["WWW-Authenticate"].startswith("Basic realm=") for _, headers, _ in answers)
    assert sent == 0 and counted(statsd_cluster, app) == [{}, {}]


@pytest.mark.parametrize("mutate, status, says", [
    (lambda d: dict(d, count=3), 400, "Logplex-Msg-Count says 3 but the body has 2 frame(s)"),
    (lambda d: dict(d, data=d["data"][:-1]), 400, "malformed logplex body: frame 2 at byte"),
    (lambda d: dict(d, data=b"99" + d["data"][2:]), 400, "malformed logplex body: frame 1 at byte 0"),
    (lambda d: dict(d, data=d["data"] + b"\n", count=2), 400, "expected an octet count"),
    (lambda d: dict(d, content_type="text/plain"), 415, "expected Content-Type application/logplex-1"),
    (lambda d: dict(d, method="GET"), 405, "a logplex drain takes POST requests"),
    (lambda d: dict(d, path="/logs", drain_token=None), 404, "post to /<app>/logs"),
    (lambda d: dict(d, data=d["data"] * 2000), 413, "more than"),
])
def test_malformed_requests_are_answered_and_nothing_is_sent(statsd_cluster, mutate, status, says):
    app = new_app()
    request = mutate({"data": body([("heroku", "router", ROUTER_H12), ("heroku", "web.1", "Error R14 (x)")]),
                      "count": 2, "content_type": "application/logplex-1", "method": "POST",
                      "path": f"/{app}/logs", "drain_token": ""})
    with serve([app], statsd_cluster, logplex_max_body="100000") as server:
        got_status, _, text = post(server, request["path"], request["data"], count=request["count"],
                                   content_type=request["content_type"], method=request["method"],
                                   drain_token=request["drain_token"])
        assert server.sink.batches_sent == 0
    assert got_status == status and says in text, text
    assert counted(statsd_cluster, app) == [{}, {}]


def test_a_frame_with_a_bad_header_is_skipped_and_the_rest_counted(statsd_cluster):
    app = new_app()
    bad_msg = b"<999>1 2026-11-30T06:02:17Z host heroku web.1 - Error R14 (Memory quota exceeded)\n"
    bad = b"%d %s" % (len(bad_msg), bad_msg)  # a line that would count, but its priority is out of range
    data = frame("heroku", "router", ROUTER_H12) + bad + frame("heroku", "web.1", "Error R14 (x)")
    with serve([app], statsd_cluster) as server:
        status, _, text = post(server, f"/{app}/logs", data, count=3)
    assert (status, text) == (200, "3 frame(s), 2 Heroku error(s) counted, 1 bad frame(s) skipped\n")
    totals = {k: v for found in counted(statsd_cluster, app) for k, v in found.items()}
    assert totals == {f"{app}.heroku.errors.H12": 1, f"{app}.heroku.errors.R14": 1}


def test_a_collector_that_is_down_is_reported_and_the_retry_counts(statsd_cluster):
    app, frame_id = new_app(), uuid.uuid4().hex.upper()
    down = f"127.0.0.1:{free_udp_port()}"  # nothing listens: the kernel answers ICMP port unreachable
    live = statsd_cluster[0]
    ring = ConsistentRing([live.address, down])
    codes = [c for c in ("H10", "H11", "H12", "H13", "H14", "H15", "H18", "H19", "H20", "H21")]
    owners = {code: ring.collector(f"{app}.heroku.errors.{code}".encode()) for code in codes}
    while set(owners.values()) != {0, 1}:  # an app whose codes go to both collectors
        app = new_app()
        owners = {code: ring.collector(f"{app}.heroku.errors.{code}".encode()) for code in codes}
    data = body([("heroku", "router", f'at=error code={code} desc="x"') for code in codes])
    with serve([app], [live.address, down]) as server:
        answers = [post(server, f"/{app}/logs", data, frame_id=frame_id)]
        # On loopback the kernel's "port unreachable" comes before the answer unless the machine is
        # busy; then it comes a moment later and the next request's send finds it (bounded here).
        while answers[-1][0] == 200 and len(answers) < 20:
            time.sleep(0.05)
            frame_id = uuid.uuid4().hex.upper()
            answers.append(post(server, f"/{app}/logs", data, frame_id=frame_id))
        errors = dict(server.sink.send_errors)
    status, _, text = answers[-1]
    assert status == 503
    assert f"statsd collector {down} did not take 1 datagram(s) (Connection refused)" in text
    assert errors[live.address] == 0 and errors[down] >= 1
    live.barrier()
    got = {k: v for k, v in live.counters().items() if k.startswith(app)}
    assert got == {f"{app}.heroku.errors.{code}": len(answers) for code, owner in owners.items() if owner == 0}
    # The collector is back (a daemon of the cluster at that address): logplex's retry of the frame counts.
    with serve([app], [live.address, statsd_cluster[1].address]) as server:
        assert post(server, f"/{app}/logs", data, frame_id=frame_id)[:3:2] == (200, "10 frame(s), 10 Heroku error(s) counted\n")


def test_a_drain_url_without_the_app_names_it_by_its_drain_token(statsd_cluster):
    app, token = new_app(), f"d.{uuid.uuid4()}"
    data = body([("heroku", "web.1", "Error R14 (Memory quota exceeded)")])
    with serve([app], statsd_cluster, logplex_drain_tokens=json.dumps({token: app})) as server:
        assert post(server, "/logs", data, drain_token=token)[0] == 200
        assert post(server, "/logs", data, drain_token=f"d.{uuid.uuid4()}")[0] == 401
        assert post(server, f"/{app}/logs?source=heroku", data)[0] == 200  # the drain URL may carry a query
    totals = {k: v for found in counted(statsd_cluster, app) for k, v in found.items()}
    assert totals == {f"{app}.heroku.errors.R14": 2}


def test_the_openwhisk_web_action_answers_the_drain(statsd_cluster):
    from logfwd.entries import web
    app = new_app()
    data = body([("heroku", "router", ROUTER_H12), ("heroku", "web.1", "Error R14 (Memory quota exceeded)")])
    params = {"source": "logplex", "sink": "statsd", "logplex_credentials": f"{app}:logplex:{PASSWORD}",
              "statsd_cluster": ",".join(c.address for c in statsd_cluster),
              "__ow_method": "post", "__ow_path": f"/{app}/logs", "__ow_body": base64.b64encode(data).decode(),
              "__ow_headers": {"content-type": "application/logplex-1", "logplex-msg-count": "2",
                               "logplex-frame-id": uuid.uuid4().hex.upper(),
                               "authorization": "Basic " + base64.b64encode(f"logplex:{PASSWORD}".encode()).decode()}}
    assert web.main(params)["statusCode"] == 200
    assert web.main({**params, "__ow_headers": {**params["__ow_headers"], "authorization": "Basic eDp5"}}
                    )["statusCode"] == 401
    totals = {k: v for found in counted(statsd_cluster, app) for k, v in found.items()}
    assert totals == {f"{app}.heroku.errors.H12": 1, f"{app}.heroku.errors.R14": 1}


def test_logfwd_invoke_runs_the_saved_drain_request(statsd_cluster, capsys):
    from pathlib import Path

    from logfwd.cli import main as cli_main
    event = Path(__file__).parent / "events" / "logplex" / "drain_request.json"
    prefix = new_app()
    rc = cli_main(["invoke", "--event", str(event), "-p", "source=logplex", "-p", "sink=statsd",
                   "-p", "logplex_credentials=myapp:logplex:example-password", "-p", f"statsd_prefix={prefix}",
                   "-p", "statsd_cluster=" + ",".join(c.address for c in statsd_cluster)])
    out = capsys.readouterr().out
    assert rc == 0 and json.loads(out)["statusCode"] == 200, out
    totals = {k: v for found in counted(statsd_cluster, prefix) for k, v in found.items()}
    assert totals == {f"{prefix}.myapp.heroku.errors.{code}": n for code, n in DOCUMENTED_CODES.items()}


def test_a_frame_store_that_is_down_costs_the_de_duplication_not_the_counts(statsd_cluster, caplog):
    from servers import free_port
    app, frame_id, port = new_app(), uuid.uuid4().hex.upper(), free_port()
    data = body([("heroku", "web.1", "Error R16 (Detached)")])
    with serve([app], statsd_cluster, logplex_store=f"redis://127.0.0.1:{port}/0") as server:
        answers = [post(server, f"/{app}/logs", data, frame_id=frame_id) for _ in range(2)]
    assert [status for status, _, _ in answers] == [200, 200]
    assert f"the frame id store redis://127.0.0.1:{port}/0 failed during EVAL" in caplog.text
    assert "this frame is counted without checking for a re-send" in caplog.text
    totals = {k: v for found in counted(statsd_cluster, app) for k, v in found.items()}
    assert totals == {f"{app}.heroku.errors.R16": 2}  # the documented cost: a re-send counts again


def test_a_frame_another_container_is_counting_is_answered_retry_later(statsd_cluster, redis_server):
    import socket as sockets

    from logfwd.codecs.resp import encode_command
    app, frame_id = new_app(), uuid.uuid4().hex.upper()
    with sockets.create_connection((redis_server.host, redis_server.port), timeout=5) as redis:
        redis.sendall(encode_command("AUTH", redis_server.password)
                      + encode_command("SET", f"logfwd:logplex:{app}:{frame_id}", "pending", "PX", 30000))
        assert redis.recv(64) == b"+OK\r\n+OK\r\n"
    data = body([("heroku", "web.1", "Error R14 (Memory quota exceeded)")])
    with serve([app], statsd_cluster, logplex_store=redis_server.url("redis", "/0", username="")) as server:
        status, headers, text = post(server, f"/{app}/logs", data, frame_id=frame_id)
    assert (status, headers["Retry-After"]) == (503, "5")
    assert text == f"frame {frame_id} is being counted by another request; retry later\n"
    assert counted(statsd_cluster, app) == [{}, {}]


def test_logfwd_serve_names_a_bad_parameter(capsys):
    from logfwd.cli import main as cli_main
    assert cli_main(["serve", "--port", "0", "-p", "logplex_credentials=a:u:p", "-p", "statsd_cluster=h:99999"]) == 2
    assert "parameter 'statsd_cluster': bad" in capsys.readouterr().err


def test_the_drain_lines_can_go_to_a_log_sink_instead(receiver):
    # source=logplex with sink=lumberjack: every line an ECS event, answered 200 once Logstash acknowledged.
    app = new_app()
    values = {"source": "logplex", "sink": "lumberjack", "logplex_every_line": "true",
              "logplex_credentials": f"{app}:logplex:{PASSWORD}", "logstash_tls": "false",
              "logstash_hosts": f"{receiver.address[0]}:{receiver.address[1]}"}
    with DrainServer(values, environ={}) as server:
        status, _, text = post(server, f"/{app}/logs", body(DOCUMENTED))
    assert (status, text) == (200, "9 frame(s), 6 Heroku error(s) counted\n")
    events = receiver.events
    assert [e["message"] for e in events] == [message for _, _, message in DOCUMENTED]
    assert [e.get("error", {}).get("code") for e in events] == ["H12", None, "H10", None, "R14", None, "R10",
                                                                "L10", "H12"]
    assert {e["service"]["name"] for e in events} == {app}
