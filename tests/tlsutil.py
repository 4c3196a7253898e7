"""Throwaway certificates for TLS tests: a CA, a server cert for 127.0.0.1/localhost, a client cert."""

from dataclasses import dataclass
from pathlib import Path

import trustme


@dataclass
class Pki:
    """PEM text of everything a TLS test needs; ``write`` also puts them in files."""

    ca: str
    server_cert: str
    server_key: str
    client_cert: str
    client_key: str
    other_ca: str  # a CA that signed nothing here: trusting it must fail

    def write(self, folder: Path) -> dict[str, str]:
        folder.mkdir(parents=True, exist_ok=True)
        paths = {}
        for name in ("ca", "server_cert", "server_key", "client_cert", "client_key", "other_ca"):
            path = folder / f"{name}.pem"
            path.write_text(getattr(self, name))
            paths[name] = str(path)
        return paths


def make_pki(server_names: tuple[str, ...] = ("127.0.0.1", "localhost")) -> Pki:
    ca = trustme.CA()
    server = ca.issue_cert(*server_names)
    client = ca.issue_cert("logfwd-client@example.org")
    return Pki(
        ca=ca.cert_pem.bytes().decode(),
        server_cert="".join(blob.bytes().decode() for blob in server.cert_chain_pems),
        server_key=server.private_key_pem.bytes().decode(),
        client_cert="".join(blob.bytes().decode() for blob in client.cert_chain_pems),
        client_key=client.private_key_pem.bytes().decode(),
        other_ca=trustme.CA().cert_pem.bytes().decode(),
    )
