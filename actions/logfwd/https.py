"""``requests`` sessions whose HTTPS connections verify against a CA bundle loaded once a process.

requests (2.32 and later) hands urllib3 the path of the CA bundle (certifi's, or ``REQUESTS_CA_BUNDLE``,
or the one given), and urllib3 reads it into a new TLS context for every new connection: ~17 ms of
CPU each. Every run builds its clients anew and opens new connections, so a warm container paid that
again on every run, for every connection (the API client keeps one for each thread that reads pages).
``session()`` mounts an adapter that reads each bundle once and hands urllib3 the ready context, the
extension point requests documents for this (``build_connection_pool_key_attributes``). What is
verified does not change: the same bundle, the certificate and the host name; ``verify=False`` and
a bundle path that does not exist take requests' own way (no check; its error naming the path).
"""

import os
import ssl
import threading

import requests
from requests.adapters import HTTPAdapter
from requests.utils import DEFAULT_CA_BUNDLE_PATH
from urllib3.util.ssl_ import create_urllib3_context

__all__ = ["session", "trust_context"]


def session() -> requests.Session:
    """A new session (its own connections) whose HTTPS connections share the process's CA contexts."""
    made = requests.Session()
    made.mount("https://", _TrustedOnce())
    return made


def trust_context(bundle: str) -> ssl.SSLContext:
    """The context urllib3 would make for a connection that verifies against ``bundle`` (a PEM file or
    a directory of hashed certificates), made once a process (the first two connections of a run
    open at once, on two threads). Shared: urllib3 only wraps sockets with it and sets the
    verification mode it already has."""
    with _lock:
        context = _contexts.get(bundle)
        if context is None:
            context = _contexts[bundle] = create_urllib3_context(cert_reqs=ssl.CERT_REQUIRED)
            if os.path.isdir(bundle):
                context.load_verify_locations(capath=bundle)
            else:
                context.load_verify_locations(cafile=bundle)
    return context


_contexts: dict[str, ssl.SSLContext] = {}
_lock = threading.Lock()


class _TrustedOnce(HTTPAdapter):
    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        host, pool = super().build_connection_pool_key_attributes(request, verify, cert)
        bundle = _bundle(verify)
        if host["scheme"] == "https" and bundle is not None:
            pool.pop("ca_certs", None)
            pool.pop("ca_cert_dir", None)
            pool["ssl_context"] = trust_context(bundle)
        return host, pool

    def cert_verify(self, conn, url, verify, cert):
        super().cert_verify(conn, url, verify, cert)
        if _bundle(verify) is not None:  # the pool's context holds the bundle: not read again per connection
            conn.ca_certs = conn.ca_cert_dir = None


def _bundle(verify) -> str | None:
    """The CA bundle a ``verify`` value names, if it is there; None: requests' own way."""
    if verify is False or verify is None:
        return None
    bundle = DEFAULT_CA_BUNDLE_PATH if verify is True else verify
    return bundle if isinstance(bundle, str) and os.path.exists(bundle) else None
