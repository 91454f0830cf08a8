"""TLS contexts of the TRP node: mutual TLS in both directions, one trust bundle (TRP v3).

Only the given trust bundle is trusted (never the system store): a counterparty's
certificate must chain to it, and as a client we also check that the server certificate
names the host of the URL we call.
"""

from __future__ import annotations

import ssl
from pathlib import Path

from travelgate.errors import ConfigError


def client_ssl_context(cert: Path | str, key: Path | str, trust: Path | str) -> ssl.SSLContext:
    """Present our certificate; verify the server's chain against `trust` and its host name."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    _configure(context, cert, key, trust)
    context.check_hostname = True
    return context


def server_ssl_context(cert: Path | str, key: Path | str, trust: Path | str) -> ssl.SSLContext:
    """Serve with our certificate; require a client certificate that chains to `trust`."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    _configure(context, cert, key, trust)
    return context


def _configure(
    context: ssl.SSLContext, cert: Path | str, key: Path | str, trust: Path | str
) -> None:
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.verify_mode = ssl.CERT_REQUIRED
    try:
        context.load_cert_chain(str(cert), str(key))
    except FileNotFoundError as exc:
        raise ConfigError(f"TRP certificate or key not found: {exc.filename}") from None
    except (ssl.SSLError, OSError) as exc:
        raise ConfigError(f"TRP certificate {cert} and key {key} are not usable: {exc}") from None
    try:
        context.load_verify_locations(cafile=str(trust))
    except FileNotFoundError:
        raise ConfigError(f"TRP trust bundle not found: {trust}") from None
    except (ssl.SSLError, OSError) as exc:
        raise ConfigError(f"TRP trust bundle {trust} is not usable: {exc}") from None
