"""The server's ``ssl.SSLContext``, built from ``tls:`` (no cheroot here).

``build_context(tls)`` starts from nothing (no system CAs): server certificate and
chain; the client-CA bundle alone as trust store; CRLs checked for the whole chain
(``VERIFY_CRL_CHECK_CHAIN``: ``_LEAF`` would accept a proxy made from a revoked
certificate); RFC 3820 proxies allowed (``VERIFY_ALLOW_PROXY_CERTS``); TLS 1.2 at least;
no session tickets (TLS 1.2 and 1.3); with ``optional`` and ``bad_certificates: forbid``, a
certificate that fails verification does not end the handshake (``verify.py``).
``check_tls(settings)`` loads it once at startup (``serve`` and ``check-config``) and
reports a file that cannot be used as a ``ConfigError`` naming ``tls``.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import ssl
import tempfile
from pathlib import Path

from cryptography import x509

from davprovider.schema import ConfigError
from davprovider.server.verify import tolerate_failures
from davprovider.settings import Settings, TLSSettings

log = logging.getLogger("davprovider.server.tls")

_VERIFY_MODES = {
    "none": ssl.CERT_NONE,
    "optional": ssl.CERT_OPTIONAL,
    "required": ssl.CERT_REQUIRED,
}


def build_context(tls: TLSSettings) -> ssl.SSLContext:
    """The server context for ``tls`` (see the module docstring); raises ``OSError``
    (``ssl.SSLError``) or ``ValueError`` when a file cannot be read or used."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = (
        ssl.TLSVersion.TLSv1_3 if tls.min_version == "1.3" else ssl.TLSVersion.TLSv1_2
    )
    context.options |= ssl.OP_NO_TICKET | ssl.OP_NO_COMPRESSION | ssl.OP_NO_RENEGOTIATION
    context.num_tickets = 0
    _load_server_certificate(context, tls)
    context.verify_mode = _VERIFY_MODES[tls.client_certificates]
    if tls.client_certificates != "none":
        context.load_verify_locations(cafile=tls.client_ca)
        for crl in tls.crls:
            _check_crl_file(crl)
            context.load_verify_locations(cafile=crl)
        context.verify_flags |= ssl.VERIFY_CRL_CHECK_CHAIN
        if tls.allow_proxies:
            context.verify_flags |= ssl.VERIFY_ALLOW_PROXY_CERTS
    if tls.client_certificates == "optional" and tls.bad_certificates == "forbid":
        tolerate_failures(context)  # the handshake finishes; tls.py refuses with a reason
    return context


def _load_server_certificate(context: ssl.SSLContext, tls: TLSSettings) -> None:
    password = tls.key_password.encode()  # a callable: OpenSSL never prompts on a terminal
    if not tls.chain:
        context.load_cert_chain(tls.certificate, tls.key, password=lambda: password)
        return
    # The stdlib loads a chain only from the certificate file: join them in a private
    # temporary file (certificates only; the key is read from its own file).
    data = Path(tls.certificate).read_bytes().rstrip() + b"\n" + Path(tls.chain).read_bytes()
    fd, joined = tempfile.mkstemp(prefix="davprovider-chain-", suffix=".pem")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        context.load_cert_chain(joined, tls.key, password=lambda: password)
    finally:
        os.unlink(joined)


def _check_crl_file(path: str) -> None:
    """Refuse a CRL file holding no CRL; warn about CRLs past their nextUpdate (OpenSSL
    then refuses every certificate of that CA)."""
    data = Path(path).read_bytes()
    count = data.count(b"-----BEGIN X509 CRL-----")
    if count == 0:
        raise ValueError(f"{path}: no PEM CRL (-----BEGIN X509 CRL-----) in the file")
    now = dt.datetime.now(dt.UTC)
    for block in data.split(b"-----END X509 CRL-----")[:count]:
        start = block.find(b"-----BEGIN X509 CRL-----")
        if start < 0:
            raise ValueError(f"{path}: a CRL block without its BEGIN line")
        crl = x509.load_pem_x509_crl(block[start:] + b"-----END X509 CRL-----\n")
        next_update = crl.next_update_utc
        if next_update is not None and next_update < now:
            log.warning(
                "tls: CRL of %s in %s expired at %s: its certificates will be refused",
                crl.issuer.rfc4514_string(),
                path,
                next_update.isoformat(),
            )


def check_tls(settings: Settings) -> None:
    """Load ``settings.tls`` (if any) as the server will; ``ConfigError`` if it fails."""
    if settings.tls is None:
        return
    try:
        build_context(settings.tls)
    except (OSError, ValueError) as exc:
        raise ConfigError(settings.source, "tls", f"cannot be loaded: {exc}") from None
