"""TLS for Lumberjack clients and receivers: contexts from PEM text or file paths, and a client
handshake whose failures say what to check.

Each of ``ca``, ``cert`` and ``key`` is either PEM text (it contains ``-----BEGIN``), as an action
parameter usually carries it, or the path of a PEM file. Verification and hostname checks are on
unless the caller explicitly turns them off.
"""

import functools
import os
import select
import socket
import ssl
import tempfile
import time
from typing import Mapping

from ..errors import ConfigError, SinkError, SinkTransientError

__all__ = ["client_context", "system_context", "server_context", "is_pem", "handshake", "client_cert_rejected",
           "rejection_message"]

CLIENT_PARAMETERS = {"ca": "logstash_ca", "cert": "logstash_cert", "key": "logstash_key"}
SERVER_PARAMETERS = {"ca": "tls-ca", "cert": "tls-cert", "key": "tls-key"}
# OpenSSL verify codes for "the certificate is valid but names another host".
_NAME_MISMATCH = {62, 64}  # X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH


def is_pem(value: str) -> bool:
    return "-----BEGIN" in value


def client_context(
    ca: str | None = None, cert: str | None = None, key: str | None = None, *, verify: bool = True
) -> ssl.SSLContext:
    """A context that verifies the receiver (against ``ca``, else the system CAs) and its host name.

    ``cert``/``key`` add a client certificate for receivers that require mutual TLS. Without any of
    them (the default settings), the process's one ``system_context``.
    """
    if verify and not (ca or cert or key):
        return system_context()
    return _client_context(ca, cert, key, verify)


@functools.cache
def system_context() -> ssl.SSLContext:
    """The client context that verifies against the system's CAs, made once a process: loading them
    costs ~20 ms of CPU, which every run of a warm container would pay again. Shared: its users only
    wrap sockets with it, never change it."""
    return _client_context(None, None, None, True)


def _client_context(ca: str | None, cert: str | None, key: str | None, verify: bool) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # CERT_REQUIRED and check_hostname by default
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if ca:
        _load_ca(context, ca, CLIENT_PARAMETERS)
    else:
        context.load_default_certs(ssl.Purpose.SERVER_AUTH)
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if cert or key:
        _load_chain(context, cert, key, CLIENT_PARAMETERS)
    return context


def server_context(cert: str, key: str, ca: str | None = None, *, require_client_cert: bool = False) -> ssl.SSLContext:
    """A receiver's context; with ``require_client_cert`` clients must present a cert signed by ``ca``."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    _load_chain(context, cert, key, SERVER_PARAMETERS)
    if ca:
        _load_ca(context, ca, SERVER_PARAMETERS)
    if require_client_cert:
        if not ca:
            raise ConfigError(
                SERVER_PARAMETERS["ca"], "is required to verify client certificates", "give the CA that signs them"
            )
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def handshake(sock: socket.socket, context: ssl.SSLContext, host: str, port: int) -> ssl.SSLSocket:
    """TLS over the connected ``sock`` (its timeout applies), verifying ``host`` by default.

    Raises ``SinkError`` for what waiting will not fix (certificates), ``SinkTransientError`` else.
    """
    where = f"{host}:{port}"
    started = time.monotonic()
    try:
        tls = context.wrap_socket(sock, server_hostname=host)
    except ssl.SSLCertVerificationError as exc:
        raise SinkError(_verify_failure(exc, host, where)) from None
    except ssl.SSLError as exc:
        if client_cert_rejected(exc):
            raise SinkError(rejection_message(where, exc)) from None
        raise SinkError(f"TLS handshake with {where} failed ({exc.reason or exc}): check that it expects TLS "
                        "and, if it requires client certificates, logstash_cert and logstash_key") from None
    except OSError as exc:
        sock.close()
        raise SinkTransientError(f"TLS handshake with {where} failed: {exc}") from exc
    if tls.version() == "TLSv1.3":
        _await_verdict(tls, where, wait=max(0.1, 2 * (time.monotonic() - started)))
    return tls


def client_cert_rejected(exc: BaseException) -> bool:
    """Is this the receiver's alert refusing our client certificate (or its absence)?

    (TLS 1.2 servers answer a missing certificate with a generic handshake failure instead.)
    """
    reason = getattr(exc, "reason", None) or ""
    return "ALERT" in reason and any(word in reason for word in ("CERTIFICATE", "UNKNOWN_CA", "ACCESS_DENIED"))


def _await_verdict(tls: ssl.SSLSocket, where: str, wait: float) -> None:
    """Wait briefly for a TLS 1.3 server's verdict on our certificate.

    TLS 1.3 servers check the client certificate after the client's handshake is over, then send
    session tickets (accepted) or an alert (rejected). Without this wait a rejection surfaces later
    as a bare reset or EOF. A server that sends no tickets costs ``wait`` once per connection.
    """
    timeout = tls.gettimeout()
    tls.setblocking(False)
    try:
        if select.select([tls], [], [], min(wait, timeout or wait))[0] and not tls.recv(1):
            tls.close()
            raise SinkTransientError(f"{where} closed the connection right after the TLS handshake: if it "
                                     "requires client certificates, check logstash_cert and logstash_key")
    except ssl.SSLWantReadError:
        pass  # only session tickets: the server accepted us
    except OSError as exc:
        tls.close()
        if client_cert_rejected(exc):
            raise SinkError(rejection_message(where, exc)) from None
        raise SinkTransientError(f"TLS session with {where} failed: {exc}") from exc
    finally:
        if tls.fileno() != -1:
            tls.settimeout(timeout)


def rejection_message(where: str, exc: ssl.SSLError) -> str:
    return (f"{where} rejected our TLS client certificate ({exc.reason}): check logstash_cert and "
            "logstash_key (a certificate signed by a CA the receiver trusts)")


def _verify_failure(exc: ssl.SSLCertVerificationError, host: str, where: str) -> str:
    if exc.verify_code in _NAME_MISMATCH:
        return (f"the TLS certificate of {where} is not valid for the name {host!r} ({exc.verify_message}): "
                "connect with a name the certificate lists, or fix the receiver's certificate")
    return (f"certificate verify failed for {where} ({exc.verify_message}): "
            "check logstash_ca (the CA that signed the receiver's certificate)")


def _load_ca(context: ssl.SSLContext, ca: str, names: Mapping[str, str]) -> None:
    try:
        if is_pem(ca):
            context.load_verify_locations(cadata=ca)
        else:
            context.load_verify_locations(cafile=_existing_file(ca, names["ca"]))
    except ssl.SSLError as exc:
        raise ConfigError(names["ca"], f"is not a valid PEM CA certificate ({exc.reason or exc})",
                          "give PEM text or the path of a PEM file") from None


def _load_chain(context: ssl.SSLContext, cert: str | None, key: str | None, names: Mapping[str, str]) -> None:
    if not cert or not key:
        missing = names["key"] if cert else names["cert"]
        raise ConfigError(missing, "is missing", f"give both {names['cert']} and {names['key']}")
    files: list[str] = []
    try:
        cert_file = _as_file(cert, names["cert"], files)
        key_file = _as_file(key, names["key"], files)
        # An encrypted key fails here instead of OpenSSL asking for a passphrase on the terminal.
        context.load_cert_chain(cert_file, key_file, password=lambda: b"")
    except ssl.SSLError as exc:
        raise ConfigError(
            f"{names['cert']}/{names['key']}",
            f"cannot be loaded as a PEM certificate and its unencrypted private key ({exc.reason or exc})",
            "check that the key belongs to the certificate",
        ) from None
    finally:
        for path in files:
            os.unlink(path)


def _as_file(value: str, parameter: str, created: list[str]) -> str:
    """The path of a file holding ``value``: itself, or a private temporary copy of PEM text."""
    if not is_pem(value):
        return _existing_file(value, parameter)
    descriptor, path = tempfile.mkstemp(prefix="logfwd-", suffix=".pem")  # mode 0600
    created.append(path)
    with os.fdopen(descriptor, "w") as file:
        file.write(value)
    return path


def _existing_file(path: str, parameter: str) -> str:
    if not os.path.isfile(path):
        # Never echo what might be a mangled private key.
        shown = "" if parameter.endswith("key") or len(path) > 200 else f": {path!r}"
        raise ConfigError(parameter, f"is neither PEM text nor an existing file{shown}",
                          "give PEM text (-----BEGIN ...) or the path of a PEM file")
    return path
