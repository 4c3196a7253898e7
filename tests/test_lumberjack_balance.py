"""logstash_loadbalance: windows spread over every healthy Logstash host at once, the acknowledged
prefix stays exact, and a host that dies mid-send hands its windows to the others (real receivers)."""

import json
import threading
import time
from collections import Counter

import pytest

from logfwd.errors import DeliveryError
from logfwd.retry import NO_WAIT, RetryPolicy
from logfwd.settings import load_settings
from logfwd.sinks.lumberjack import PLUG
from logfwd.sinks.lumberjack.balance import Plan
from logfwd.sinks.lumberjack.sink import LumberjackSink
from logfwd.plugs import Context
from logfwd_dev.receiver.server import Receiver

ONE_ATTEMPT = RetryPolicy(attempts=1)


def payloads(count: int) -> list[bytes]:
    return [json.dumps({"message": f"line {i}", "n": i}).encode() for i in range(count)]


def received(*receivers) -> Counter:
    return Counter(json.dumps(event).encode() for r in receivers for event in r.events)


def test_the_acknowledged_prefix_stops_at_the_first_window_not_acknowledged_in_full():
    plan = Plan(total=15, window_size=5)
    first, second, third = plan.windows
    plan.reopen()
    assert plan.ack(third, 5) and plan.acked_prefix() == 0  # out of order: counts for nothing yet
    assert not plan.ack(first, 3) and plan.acked_prefix() == 3
    assert plan.ack(first, 5) and plan.acked_prefix() == 5
    assert plan.ack(second, 5) and plan.acked_prefix() == 15 and plan.done


def test_windows_are_spread_over_every_host_and_each_event_arrives_once():
    with Receiver(ack_delay=0.05) as a, Receiver(ack_delay=0.05) as b, Receiver(ack_delay=0.05) as c:
        sink = LumberjackSink([a.address, b.address, c.address], window_size=10, retry=NO_WAIT, loadbalance=True)
        sent = payloads(240)
        sink.send(sent)
        sink.send(sent[:30])
        sink.close()
        assert all(r.windows >= 3 for r in (a, b, c)), [r.windows for r in (a, b, c)]
        assert received(a, b, c) == Counter(sent) + Counter(sent[:30])
        assert sink.batches_sent == 27 and sink.windows_per_send == 6


def test_a_host_that_dies_mid_send_hands_its_windows_to_the_others():
    with Receiver(ack_delay=0.01) as a, Receiver(ack_delay=0.01) as b:  # each holds its pipeline a moment
        dying = Receiver(ack_delay=5.0, keepalive_interval=0.1).start()  # holds its ACKs, then dies

        def kill_after_first_window():
            while dying.windows == 0:
                time.sleep(0.005)
            dying.stop()

        killer = threading.Thread(target=kill_after_first_window)
        killer.start()
        sink = LumberjackSink([dying.address, a.address, b.address], window_size=8, retry=ONE_ATTEMPT,
                              loadbalance=True)
        sent = payloads(200)
        sink.send(sent)  # one attempt: the others take the dead host's windows within it
        killer.join()
        survivors = received(a, b)
        assert set(survivors) == set(sent) and max(survivors.values()) == 1
        assert dying.windows >= 1 and a.windows and b.windows
        sink.send(sent[:16])  # the dead host sits out the next send: no wait for its timeout
        sink.close()
        assert received(a, b) == Counter(sent) + Counter(sent[:16])


def test_a_host_that_never_acknowledges_is_left_out_of_the_next_send():
    with Receiver() as good, Receiver(drop_before_ack=1.0) as flaky:
        sink = LumberjackSink([flaky.address, good.address], window_size=5, retry=ONE_ATTEMPT, loadbalance=True)
        sent = payloads(40)
        sink.send(sent)
        assert flaky.connections == 1 and set(received(good)) == set(sent)
        sink.send(sent)
        sink.close()
        assert flaky.connections == 1 and received(good) == Counter(sent) + Counter(sent)


def test_when_every_host_fails_the_error_counts_only_the_acknowledged_prefix():
    with Receiver(partial_ack=1.0) as a, Receiver(partial_ack=1.0) as b:
        sink = LumberjackSink([a.address, b.address], window_size=6, retry=ONE_ATTEMPT, loadbalance=True)
        sent = payloads(60)
        with pytest.raises(DeliveryError) as failure:
            sink.send(sent)
        sink.close()
        acked = failure.value.acked
        assert 0 < acked < len(sent) and f"{acked} of 60 events acknowledged in order" in str(failure.value)
        assert set(sent[:acked]) <= set(received(a, b))  # everything it counts was acknowledged


def test_the_parameter_turns_it_on_and_a_single_host_is_unchanged():
    def sink(hosts: str, balance: str):
        settings = load_settings({"apihost": "http://127.0.0.1:1", "api_key": "u:k", "actions": "a",
                                  "logstash_hosts": hosts, "logstash_tls": "false",
                                  "logstash_loadbalance": balance}, {}, None)
        return PLUG.build(settings, Context())

    assert sink("h1:5044,h2:5044", "true").describe() == "lumberjack://h1:5044,h2:5044 (plain, load-balanced)"
    assert sink("h1:5044,h2:5044", "false").windows_per_send == 2
    assert sink("h1:5044", "true").describe() == "lumberjack://h1:5044 (plain)"
