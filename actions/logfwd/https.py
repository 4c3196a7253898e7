"""``requests`` sessions whose HTTPS connections verify against a CA bundle loaded once a process.

requests (2.32 and later) hands urllib3 the path of the CA bundle (certifi's, or ``REQUESTS_CA_BUNDLE``,
or the one given), and urllib3 reads it into a new TLS context for every new connection: ~17 ms of
CPU each. Every run builds its clients anew and opens new connections, so a warm container paid that
again on every run, for every connection (the API client keeps one for each thread that reads pages).
``session()`` mounts an adapter that reads each bundle once and hands urllib3 the ready context, the
extension point requests documents for this (``build_connection_pool_key_attributes``). What is
verified does not change: the same bundle, the certificate and the host name; ``verify=False`` and a
bundle that cannot be read take requests' own way (no check; its error naming the cause), and a bundle
path that does not exist is ``CABundleMissing``, a TLS error naming it (requests' own is a bare
``OSError``, which took a run down).
"""

import os
import ssl
import threading

import requests
from requests.adapters import HTTPAdapter
from requests.utils import DEFAULT_CA_BUNDLE_PATH
from urllib3.util.ssl_ import create_urllib3_context

__all__ = ["session", "trust_context", "CABundleMissing"]


def session() -> requests.Session:
    """A new session (its own connections) whose HTTPS connections share the process's CA contexts."""
    made = requests.Session()
    made.mount("https://", _TrustedOnce())
    return made


def trust_context(bundle: str) -> ssl.SSLContext | None:
    """The context urllib3 would make for a connection that verifies against ``bundle`` (a PEM file or
    a directory of hashed certificates), made once a process (the first two connections of a run
    open at once, on two threads). Shared: urllib3 only wraps sockets with it and sets the
    verification mode it already has. None if the bundle cannot be read: requests' own way then
    reports it (a TLS error naming the cause), run after run, and nothing half-loaded is kept."""
    with _lock:
        context = _contexts.get(bundle)
        if context is None:
            context = create_urllib3_context(cert_reqs=ssl.CERT_REQUIRED)
            try:
                if os.path.isdir(bundle):
                    context.load_verify_locations(capath=bundle)
                else:
                    context.load_verify_locations(cafile=bundle)
            except (ssl.SSLError, OSError):
                return None
            _contexts[bundle] = context
    return context


class CABundleMissing(requests.exceptions.SSLError):
    """The CA bundle to verify against (``verify``, ``REQUESTS_CA_BUNDLE`` or ``CURL_CA_BUNDLE``) is not
    there: a TLS error that waiting does not fix. ``str()`` says what to do; ``path`` is the path."""

    def __init__(self, path: str):
        super().__init__(f"the CA bundle {path} does not exist: point REQUESTS_CA_BUNDLE (or CURL_CA_BUNDLE) "
                         "at a PEM file or a directory of certificates, or unset it for the default bundle")
        self.path = path


_contexts: dict[str, ssl.SSLContext] = {}
_lock = threading.Lock()


class _TrustedOnce(HTTPAdapter):
    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        host, pool = super().build_connection_pool_key_attributes(request, verify, cert)
        bundle = _bundle(verify)
        context = trust_context(bundle) if host["scheme"] == "https" and bundle is not None else None
        if context is not None:
            pool.pop("ca_certs", None)
            pool.pop("ca_cert_dir", None)
            pool["ssl_context"] = context
        return host, pool

    def cert_verify(self, conn, url, verify, cert):
        bundle = _bundle(verify)
        if bundle is None and isinstance(verify, str) and url.lower().startswith("https"):
            raise CABundleMissing(verify)  # requests' own is a bare OSError, which no client reports as such
        super().cert_verify(conn, url, verify, cert)
        # A pool made with one of our contexts has the bundle in it: not read again per connection. Any
        # other pool (verification off, a bundle that could not be read, a requests that does not call
        # the method above) keeps what requests set, so it never falls back to the system's CAs.
        context = getattr(conn, "conn_kw", {}).get("ssl_context")
        if bundle is not None and context is not None and context is trust_context(bundle):
            conn.ca_certs = conn.ca_cert_dir = None


def _bundle(verify) -> str | None:
    """The CA bundle a ``verify`` value names, if it is there; None: requests' own way."""
    if verify is False or verify is None:
        return None
    bundle = DEFAULT_CA_BUNDLE_PATH if verify is True else verify
    return bundle if isinstance(bundle, str) and os.path.exists(bundle) else None
