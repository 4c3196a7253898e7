"""Fixtures shared by every test module: a fake clock, the emulator and receiver over loopback, and the C
fast path where it was built."""

import random
import shutil
import sysconfig
from pathlib import Path

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


@pytest.fixture
def c_heads():
    """The C fast path of the OpenWhisk line loop (``_plainlines.c``), built by the install. Where no C
    compiler or no Python headers were there to build it, its tests are skipped, saying so (logfwd runs the
    Python path then, to the same bytes); where they were, its absence is a failure."""
    from logfwd.sources.openwhisk import plainlines

    if plainlines.c_heads is not None:
        return plainlines.c_heads
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    headers = Path(sysconfig.get_paths()["include"]) / "Python.h"
    if shutil.which(compiler) is None or not headers.exists():
        pytest.skip(f"no C compiler ({compiler}) or no Python headers ({headers}): the C fast path was not built")
    pytest.fail("the C fast path (logfwd/sources/openwhisk/_plainlines.c) was not built, though a C compiler and "
                "Python's headers are here: run `make clean test` and read what the install says about it")
