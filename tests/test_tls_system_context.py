"""The system-CA client context is made once a process and shared; it still verifies, and contexts
made from given material (a CA, a client certificate, verification off) stay apart from it."""

import json
import ssl

import pytest
from tlsutil import make_pki

from logfwd.errors import DeliveryError
from logfwd.retry import RetryPolicy
from logfwd.sinks.lumberjack.sink import LumberjackSink
from logfwd.sinks.tls import client_context, server_context, system_context
from logfwd_dev.receiver.server import Receiver

ONE_ATTEMPT = RetryPolicy(attempts=1, initial=0, maximum=0, jitter=0)


@pytest.fixture(scope="module")
def pki():
    return make_pki()


def test_the_default_context_is_made_once_and_verifies():
    shared = client_context()
    assert shared is client_context() is system_context()
    assert shared.verify_mode == ssl.CERT_REQUIRED and shared.check_hostname
    assert shared.minimum_version == ssl.TLSVersion.TLSv1_2


def test_contexts_from_given_material_are_apart(pki):
    with_ca = client_context(ca=pki.ca)
    assert with_ca is not client_context(ca=pki.ca) and with_ca is not system_context()
    assert client_context(pki.ca, pki.client_cert, pki.client_key) is not system_context()
    unverified = client_context(verify=False)
    assert unverified is not system_context() and unverified.verify_mode == ssl.CERT_NONE
    # Making an unverified one changed nothing in the shared one.
    assert system_context().verify_mode == ssl.CERT_REQUIRED and system_context().check_hostname


def test_the_shared_context_rejects_a_receiver_signed_by_an_unknown_ca(pki):
    # The test CA is in no system store: the same receiver that client_context(ca=...) accepts.
    with Receiver(ssl_context=server_context(pki.server_cert, pki.server_key)) as receiver:
        for _ in range(2):  # twice: a run after the first uses the same context, still verifying
            sink = LumberjackSink([receiver.address], ssl_context=client_context(), retry=ONE_ATTEMPT)
            with pytest.raises(DeliveryError, match="certificate verify failed"):
                sink.send([json.dumps({"message": "x"}).encode()])
            sink.close()
        trusted = LumberjackSink([receiver.address], ssl_context=client_context(ca=pki.ca), retry=ONE_ATTEMPT)
        trusted.send([json.dumps({"message": "y"}).encode()])
        trusted.close()
        assert [event["message"] for event in receiver.events] == ["y"]
