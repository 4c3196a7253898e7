"""Fixtures shared by every test module: a fake clock, and the emulator and receiver over loopback."""

import random

import pytest

from fakes import T0, FakeClock
from logfwd_dev.emulator.server import Emulator
from logfwd_dev.receiver.server import Receiver
from servers import couchdb_server, redis_server  # noqa: F401  (session fixtures: real servers)
from servers_rsyslog import rsyslog_mtls, rsyslog_tcp, rsyslog_tls  # noqa: F401  (real rsyslogd per test)
from servers_statsd import statsd_cluster  # noqa: F401  (session fixture: two statsd daemons)
from clirun import live_emulator  # noqa: F401  (the emulator on real time, for the command as a subprocess)
from servers_s3 import aws_credentials, s3_server  # noqa: F401  (moto's S3 server)


@pytest.fixture
def clock():
    """The forwarder's and the emulator's "now", moved by the test."""
    return FakeClock(T0)


@pytest.fixture
def emulator(clock):
    with Emulator(clock=clock, rng=random.Random(3)) as emu:
        yield emu


@pytest.fixture
def receiver():
    with Receiver() as rec:
        yield rec
