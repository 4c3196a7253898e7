"""moto's S3 server (``moto[server]`` from PyPI) for tests: a real HTTP S3 API on 127.0.0.1 and a free port.

It runs in a child process that stops by itself when the test process goes away (it waits on its
stdin), and the fixture stops it at the end of the session. If moto cannot be imported or the server
does not start, the fixture fails with the reason: these tests never skip.

Use the session fixture ``s3_server`` (``.endpoint``, ``.client()``), and ``alb_line``/``classic_line``
to make realistic access log lines numbered ``i``.
"""

import gzip
import os
import subprocess
import sys
from dataclasses import dataclass
from typing import Iterator

import pytest

START_TIMEOUT = 60.0
_CHILD = """
import sys
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()  # returns when the test process closes the pipe or dies
server.stop()
"""
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


class ServerSetupError(Exception):
    """moto's server could not start; the message says why."""


@dataclass
class S3Server:
    endpoint: str
    process: subprocess.Popen

    def client(self):
        import boto3
        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id="testing", aws_secret_access_key="testing")


def run_s3_server() -> S3Server:
    env = {**os.environ, **CREDENTIALS}
    process = subprocess.Popen([sys.executable, "-c", _CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=env, text=True)
    line = process.stdout.readline()
    if not line.strip().isdigit():
        process.kill()
        raise ServerSetupError(f"moto's S3 server did not start (is moto[server] installed? pip install "
                               f"'moto[server]'): {process.stderr.read()[-2000:]}")
    return S3Server(f"http://127.0.0.1:{int(line)}", process)


def stop_s3_server(server: S3Server) -> None:
    server.process.stdin.close()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    try:
        server = run_s3_server()
    except ServerSetupError as exc:
        pytest.fail(str(exc))
    try:
        yield server
    finally:
        stop_s3_server(server)


@pytest.fixture
def aws_credentials(monkeypatch):
    """Credentials that moto accepts, for code that builds its own boto3 client."""
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)


# --- realistic access log lines -----------------------------------------------------------------------

ALB_TG = "arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067"


def alb_line(i: int) -> str:
    """An ALB line whose fields derive from ``i``: client port, bytes, path and trace id."""
    second = i % 60
    return (f'https 2026-11-30T05:{(i // 60) % 60:02d}:{second:02d}.{i % 1000000:06d}Z app/my-lb/50dc6c495c0c9188 '
            f'192.168.{i % 250}.{i % 200 + 1}:{1024 + i % 60000} 10.0.0.1:80 0.001 0.{i % 1000:03d} 0.000 200 200 '
            f'{i % 5000} {i} "GET https://www.example.com:443/item/{i}?q=a%20b HTTP/1.1" '
            f'"Mozilla/5.0 (X11; Linux x86_64) \\"quoted\\" {i}" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 {ALB_TG} '
            f'"Root=1-58337281-{i:024x}" "www.example.com" "-" 1 2026-11-30T05:00:00.000000Z "forward" "-" "-" '
            f'"10.0.0.1:80" "200" "-" "-" TID_{i:016x}')


def classic_line(i: int) -> str:
    return (f'2026-11-30T05:00:{i % 60:02d}.{i % 1000000:06d}Z my-loadbalancer 192.168.131.{i % 250}:{1024 + i % 60000} '
            f'10.0.0.1:80 0.000073 0.001048 0.000057 200 200 0 {i} "GET http://www.example.com:80/p/{i} HTTP/1.1" '
            f'"curl/7.38.0" - -')


NLB_CERT = "arn:aws:acm:us-east-2:671290407336:certificate/2a108f19-aded-46b0-8493-c63eb1ef4a99"


def nlb_line(i: int) -> str:
    """An NLB TLS line (AWS's example, 22 fields) whose client port, times, bytes and times derive from ``i``."""
    return (f'tls 2.0 2026-11-30T05:{(i // 60) % 60:02d}:{i % 60:02d} net/my-nlb/c6e77e28c25b2234 g3d4b5e8bb8464cd '
            f'72.21.{i % 250}.{i % 200 + 1}:{1024 + i % 60000} 172.100.100.185:443 {i % 900} {i % 7} {i % 5000} {i} - '
            f'{NLB_CERT} - ECDHE-RSA-AES128-SHA tlsv12 - my-nlb.elb.us-east-2.amazonaws.com h2 h2 "h2","http/1.1" '
            f'2026-11-30T05:00:{i % 60:02d}')


def log_object(make_line, count: int, *, bad_every: int = 0, compress: bool = False, header: str = "") -> bytes:
    """``count`` lines; every ``bad_every``-th one is not an access log line; gzip if ``compress``."""
    lines = [header] if header else []
    for i in range(1, count + 1):
        lines.append(f"not an access log line {i}" if bad_every and i % bad_every == 0 else make_line(i))
    data = ("\n".join(lines) + "\n").encode()
    return gzip.compress(data, compresslevel=6) if compress else data
