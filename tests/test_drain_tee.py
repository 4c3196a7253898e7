"""The drain with two sinks in one request (``sink=statsd,lumberjack``): Heroku's errors counted into two
real statsd daemons AND every line forwarded to a Lumberjack receiver; and what happens when one of
them is down: the answer names it, logplex's re-send goes only to the sink that missed the frame, so
no line is lost and no counter is sent twice."""

import base64
import uuid

from logfwd.cli.serve import DrainServer
from logfwd_dev.receiver.server import Receiver
from logplex_frames import DOCUMENTED, DOCUMENTED_CODES, body
from servers import free_port
from servers_statsd import free_udp_port, run_statsd
from test_logplex_drain import PASSWORD, counted, new_app, post


def tee(app, statsd, logstash, **params) -> DrainServer:
    values = {"source": "logplex", "sink": "statsd,lumberjack", "logplex_credentials": f"{app}:logplex:{PASSWORD}",
              "statsd_cluster": ",".join(c.address if hasattr(c, "address") else c for c in statsd),
              "logstash_hosts": logstash, "logstash_tls": "false"}
    return DrainServer(values | params, environ={})


def totals(cluster, app) -> dict:
    return {name: n for found in counted(cluster, app) for name, n in found.items()}


def expected_counts(app) -> dict:
    return {f"{app}.heroku.errors.{code}": n for code, n in DOCUMENTED_CODES.items()}


def test_one_request_counts_into_statsd_and_forwards_every_line(statsd_cluster, receiver):
    app, frame_id = new_app(), uuid.uuid4().hex.upper()
    with tee(app, statsd_cluster, "%s:%d" % receiver.address) as server:
        status, _, text = post(server, f"/{app}/logs", body(DOCUMENTED), frame_id=frame_id)
    assert (status, text) == (200, "9 frame(s), 6 Heroku error(s) counted\n")
    assert totals(statsd_cluster, app) == expected_counts(app)
    events = receiver.events
    assert [e["message"] for e in events] == [message for _, _, message in DOCUMENTED]  # every line, not only errors
    assert [e["@metadata"]["_id"] for e in events] == [f"{app}:{frame_id}:{i}" for i in range(len(DOCUMENTED))]
    assert [e["process"]["name"] for e in events] == [proc for _, proc, _ in DOCUMENTED]
    assert {e["service"]["name"] for e in events} == {app}
    router = events[0]  # at=error code=H12 ... status=503 (logplex_frames.ROUTER_H12)
    assert router["error"]["code"] == "H12" and router["log"]["level"] == "error"
    assert router["http"]["response"]["status_code"] == 503 and router["http"]["request"]["method"] == "GET"
    assert router["event"]["dataset"] == "heroku.router" and "dyno" in router["heroku"]["router"]
    assert all(e["@timestamp"].endswith("Z") for e in events)


def test_the_log_sink_down_then_back_loses_no_line_and_counts_once(statsd_cluster):
    app, frame_id, port = new_app(), uuid.uuid4().hex.upper(), free_port()
    data = body(DOCUMENTED)
    with tee(app, statsd_cluster, f"127.0.0.1:{port}") as server:  # nothing listens there yet
        status, _, text = post(server, f"/{app}/logs", data, frame_id=frame_id)
        assert status == 503, text
        assert text.startswith("delivered to statsd but not to every sink; logplex will retry, and only the others")
        assert "sink lumberjack:" in text and f"127.0.0.1:{port}" in text  # which sink, which host
        assert totals(statsd_cluster, app) == expected_counts(app)  # the counters went out
        with Receiver(port=port) as receiver:  # Logstash is back; logplex re-sends the frame
            status, _, text = post(server, f"/{app}/logs", data, frame_id=frame_id)
            assert (status, text) == (200, "9 frame(s), 6 Heroku error(s) counted; sent to lumberjack only: "
                                           "statsd had it already\n")
            assert [e["message"] for e in receiver.events] == [m for _, _, m in DOCUMENTED]
            status, _, text = post(server, f"/{app}/logs", data, frame_id=frame_id)  # a third time: done
            assert (status, text) == (200, f"frame {frame_id} was already counted\n")
            assert len(receiver.events) == len(DOCUMENTED)
    assert totals(statsd_cluster, app) == expected_counts(app)  # not counted twice


def test_a_collector_down_then_back_counts_once_and_gets_no_line_twice(receiver):
    app, frame_id = new_app(), uuid.uuid4().hex.upper()
    data = body(DOCUMENTED)
    port = free_udp_port()  # nothing listens: ICMP port unreachable on loopback
    with tee(app, [f"127.0.0.1:{port}"], "%s:%d" % receiver.address) as server:
        status, _, text = post(server, f"/{app}/logs", data, frame_id=frame_id)
        assert status == 503 and text.startswith("delivered to lumberjack but not to every sink"), text
        assert f"sink statsd: statsd collector 127.0.0.1:{port}" in text
        assert len(receiver.events) == len(DOCUMENTED)
        status, _, text = post(server, f"/{app}/logs", data, frame_id=frame_id)  # still down: the same answer
        assert status == 503 and text.startswith("delivered to lumberjack but not to every sink"), text
        with run_statsd(port=port) as collector:  # back: the re-send goes to statsd only
            status, _, text = post(server, f"/{app}/logs", data, frame_id=frame_id)
            assert (status, text) == (200, "9 frame(s), 6 Heroku error(s) counted; sent to statsd only: "
                                           "lumberjack had it already\n")
            assert totals([collector], app) == expected_counts(app)
    assert len(receiver.events) == len(DOCUMENTED)  # the re-sends did not forward the lines again


def test_frame_store_in_redis_tells_another_container_which_sink_missed_the_frame(statsd_cluster, redis_server):
    # Two "containers" (servers) sharing the frame store: the first reaches statsd only, the re-send
    # lands on the second, which forwards the lines and does not count again.
    app, frame_id, port = new_app(), uuid.uuid4().hex.upper(), free_port()
    store = redis_server.url("redis", "/0", username="")
    data = body(DOCUMENTED)
    with tee(app, statsd_cluster, f"127.0.0.1:{port}", logplex_store=store) as first:
        assert post(first, f"/{app}/logs", data, frame_id=frame_id)[0] == 503
    with Receiver(port=port) as receiver, tee(app, statsd_cluster, f"127.0.0.1:{port}", logplex_store=store) as second:
        status, _, text = post(second, f"/{app}/logs", data, frame_id=frame_id)
        assert status == 200 and "sent to lumberjack only" in text, text
        assert len(receiver.events) == len(DOCUMENTED)
    assert totals(statsd_cluster, app) == expected_counts(app)


def _web_params(app, frame_id, data, statsd_cluster, logstash) -> dict:
    return {"source": "logplex", "sink": "statsd,lumberjack", "logplex_credentials": f"{app}:logplex:{PASSWORD}",
            "statsd_cluster": ",".join(c.address for c in statsd_cluster), "logstash_hosts": logstash,
            "logstash_tls": "false", "__ow_method": "post", "__ow_path": f"/{app}/logs",
            "__ow_body": base64.b64encode(data).decode(),
            "__ow_headers": {"content-type": "application/logplex-1", "logplex-msg-count": str(len(DOCUMENTED)),
                             "logplex-frame-id": frame_id,
                             "authorization": "Basic " + base64.b64encode(f"logplex:{PASSWORD}".encode()).decode()}}


def test_the_web_action_tees_through_the_pipeline_and_its_batcher(statsd_cluster, capsys):
    # The deployed path: entries/web.py -> runner -> pipeline.forward (a background sender), not serve's loop.
    import json

    from logfwd.entries import web
    app, frame_id, port = new_app(), uuid.uuid4().hex.upper(), free_port()
    params = _web_params(app, frame_id, body(DOCUMENTED), statsd_cluster, f"127.0.0.1:{port}")
    answer = web.main(params)
    assert answer["statusCode"] == 503 and answer["body"].startswith("delivered to statsd but not to every sink")
    summary = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert any(e.startswith("sink lumberjack:") and f"127.0.0.1:{port}" in e for e in summary["errors"])
    assert summary["guarantee"] == "best-effort"  # the weakest of the two
    assert summary["sinks"]["statsd"]["events"] == len(DOCUMENTED_CODES)  # one line per metric
    assert summary["sinks"]["lumberjack"]["events"] == 0
    with Receiver(port=port) as receiver:
        assert web.main(params)["statusCode"] == 200
        assert len(receiver.events) == len(DOCUMENTED)
    summary = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert (summary["sinks"]["statsd"]["events"], summary["sinks"]["lumberjack"]["events"]) == (0, len(DOCUMENTED))
    assert totals(statsd_cluster, app) == expected_counts(app)


def test_logfwd_check_probes_each_sink_of_a_tee(statsd_cluster, receiver):
    from logfwd.check import check, exit_code
    logstash = "%s:%d" % receiver.address
    params = {"source": "logplex", "sink": "statsd,lumberjack", "logplex_credentials": "a:logplex:pw",
              "statsd_cluster": statsd_cluster[0].address, "logstash_hosts": logstash, "logstash_tls": "false"}
    items = check(params, {})
    assert items[0].found == "source logplex, sinks statsd, lumberjack (a tee): every parameter is valid"
    assert [(i.area, i.status) for i in items if i.area in ("sink statsd", f"logstash {logstash}")][:2] == [
        ("sink statsd", "skipped"), (f"logstash {logstash}", "ok")]  # each sink's own probe
    assert exit_code(items) == 0
    items = check({**params, "sink": "statsd,lumberjack,tcp"}, {})
    assert exit_code(items) == 2 and "both read 'logstash_hosts'" in items[0].found
    items = check({**params, "sink": "statsd,lumberjak"}, {})
    assert exit_code(items) == 2 and "unknown sink 'lumberjak' (did you mean 'lumberjack'?)" in items[0].found


def test_every_line_becomes_an_event_when_a_log_sink_is_among_the_sinks():
    from logfwd.deadline import NO_DEADLINE
    from logfwd.plugs import Context, plug
    from logfwd.settings import load_settings
    app = new_app()
    data = body(DOCUMENTED)
    headers = {"Content-Type": "application/logplex-1",
               "Authorization": "Basic " + base64.b64encode(f"logplex:{PASSWORD}".encode()).decode()}
    request = {"method": "POST", "path": f"/{app}/logs", "headers": headers, "body": data}

    def lines_made(**params) -> int:
        settings = load_settings({"source": "logplex", "logplex_credentials": f"{app}:logplex:{PASSWORD}",
                                  "statsd_cluster": "h:1", "logstash_hosts": "l:2", **params}, {})
        made = []
        source = plug("source", "logplex").build(settings, Context(event=request))
        list(source.units(NO_DEADLINE, lambda events: made.extend(events) or []))
        return len(made)

    errors = sum(DOCUMENTED_CODES.values())
    assert lines_made(sink="statsd") == errors  # statsd alone: only the lines with a metric
    assert lines_made(sink="statsd,lumberjack") == len(DOCUMENTED)
    assert lines_made(sink="lumberjack") == len(DOCUMENTED)
    assert lines_made(sink="statsd,lumberjack", logplex_every_line="false") == errors
    assert lines_made(sink="statsd", logplex_every_line="true") == len(DOCUMENTED)


def test_concurrent_requests_each_reach_both_sinks_once(statsd_cluster, receiver):
    # logfwd serve answers requests on several threads; the sinks' connections carry one send at a time.
    import threading
    app = new_app()
    data = body(DOCUMENTED)
    answers = []
    with tee(app, statsd_cluster, "%s:%d" % receiver.address) as server:
        def client():
            for _ in range(3):
                answers.append(post(server, f"/{app}/logs", data)[:3:2])
        threads = [threading.Thread(target=client) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert answers == [(200, "9 frame(s), 6 Heroku error(s) counted\n")] * 18
    assert len(receiver.events) == 18 * len(DOCUMENTED)
    assert len({e["@metadata"]["_id"] for e in receiver.events}) == 18 * len(DOCUMENTED)
    assert totals(statsd_cluster, app) == {name: 18 * n for name, n in expected_counts(app).items()}


def test_concurrent_requests_to_a_log_sink_alone_are_each_delivered_once(receiver):
    import threading
    app = new_app()
    values = {"source": "logplex", "sink": "lumberjack", "logplex_credentials": f"{app}:logplex:{PASSWORD}",
              "logstash_hosts": "%s:%d" % receiver.address, "logstash_tls": "false"}
    answers = []
    with DrainServer(values, environ={}) as server:
        threads = [threading.Thread(target=lambda: answers.extend(post(server, f"/{app}/logs", body(DOCUMENTED))[0]
                                                                  for _ in range(3))) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert answers == [200] * 18
    assert len({e["@metadata"]["_id"] for e in receiver.events}) == len(receiver.events) == 18 * len(DOCUMENTED)
