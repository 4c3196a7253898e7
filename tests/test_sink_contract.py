"""The contract every sink keeps, run against each registered sink and its real receiver.

- what ``send`` returns from is delivered as far as the sink's guarantee reaches; a failure raises
  ``DeliveryError`` whose ``acked`` never counts what did not arrive;
- a receiver that restarts between sends is reconnected to;
- an expired deadline ends a send with an error instead of a hang;
- secrets appear in no description, error or repr.
"""

import pytest
from sink_harnesses import HARNESSES, refused_port

from logfwd.deadline import Deadline
from logfwd.errors import DeliveryError
from logfwd.plugs import SINKS, Context, plug
from logfwd.retry import RetryPolicy
from logfwd.settings import load_settings
from logfwd.tee import build_sink, weakest

FEW_RETRIES = RetryPolicy(attempts=2, initial=0, maximum=0, jitter=0)
# The source half of the settings: any valid pulled source will do; the sink is what is tested.
SOURCE = {"apihost": "https://ow.invalid", "api_key": "u:k", "actions": "hello"}


def build(params: dict, retry=FEW_RETRIES):
    settings = load_settings({**SOURCE, **params}, {}, None)
    return build_sink(settings, Context(retry=retry)), settings  # one sink, or a tee of several


def records(count: int, tag: str) -> list[list[dict]]:
    """``count`` records of two events each, with distinct messages."""
    return [[{"@timestamp": "2026-11-30T05:00:00.000Z", "message": f"{tag} {i}.{j}",
              "@metadata": {"_id": f"{tag}/{i}:{j}"}} for j in range(2)] for i in range(count)]


def send_all(sink, batch: list[list[dict]], deadline=Deadline()) -> None:
    sink.send([payload for events in batch for payload in sink.encode(events)], deadline)


def messages_of(batch) -> list[str]:
    return [event["message"] for events in batch for event in events]


def test_every_registered_sink_has_a_harness():
    assert set(SINKS) <= set(HARNESSES), "add the new sink's harness to tests/sink_harnesses.py"


@pytest.fixture(params=sorted(HARNESSES))
def harness(request):
    return HARNESSES[request.param]


@pytest.mark.parametrize("tls", [False, True], ids=["plain", "tls"])
def test_delivers_what_it_says(harness, tls):
    with harness.running(tls=tls) as receiver:
        sink, _ = build(receiver.params())
        assert weakest([plug("sink", name).guarantee for name in harness.name.split(",")]) == sink.guarantee
        batch = records(20, "ok")
        send_all(sink, batch)
        sink.close()
        assert sorted(receiver.messages()) == sorted(messages_of(batch))
        assert sink.batches_sent >= 1


def test_a_receiver_that_is_down_gets_nothing_reported_delivered(harness):
    with harness.running() as receiver:
        params = receiver.params()
        receiver.stop()
        sink, _ = build(params)
        payloads = [p for events in records(5, "down") for p in sink.encode(events)]
        if harness.confirms:
            with pytest.raises(DeliveryError) as err:
                sink.send(payloads, Deadline())
            assert err.value.acked == 0
        sink.close()
        assert receiver.messages() == []


def test_a_receiver_that_restarts_between_sends_is_reconnected(harness):
    with harness.running() as receiver:
        sink, _ = build(receiver.params(), retry=RetryPolicy(attempts=20, initial=0.05, maximum=0.05, jitter=0))
        first, second = records(3, "before"), records(3, "after")
        send_all(sink, first)
        receiver.stop()
        receiver.start()
        send_all(sink, second)
        sink.close()
        assert set(messages_of(first) + messages_of(second)) <= set(receiver.messages())
        assert set(messages_of(second)) <= set(receiver.messages())


def test_an_expired_deadline_ends_the_send_with_an_error(harness):
    with harness.running() as receiver:
        sink, _ = build(receiver.params())
        if harness.confirms:
            with pytest.raises(DeliveryError) as err:
                send_all(sink, records(3, "late"), Deadline(at=0.0))
            assert err.value.acked == 0
        else:  # a best-effort sink waits for nothing: the send returns, and it reports nothing as confirmed
            send_all(sink, records(3, "late"), Deadline(at=0.0))
        sink.close()


def test_secrets_are_never_shown(harness, capfd):
    if harness.secret_param is None:  # a sink that takes no secret has none to show
        assert not any(param.secret for param in plug("sink", harness.name).params)
        return
    with harness.running(tls=True) as receiver:
        params = receiver.params()
        secret = params[harness.secret_param]
        receiver.stop()
        sink, settings = build(params)
        shown = [sink.describe(), repr(settings), str(settings)]
        try:
            send_all(sink, records(1, "s"))
        except DeliveryError as exc:
            shown.append(str(exc))
        sink.close()
        out, err = capfd.readouterr()
        for text in [*shown, out, err]:
            assert secret not in text and secret.strip()[40:100] not in text
