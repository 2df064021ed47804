"""Client certificates that fail verification, let through the handshake to be told why.

With ``SSL_VERIFY_PEER`` (``client_certificates: optional`` or ``required``) OpenSSL
ends the handshake on any verification failure (revoked, expired, unknown issuer, a
broken proxy rule), and the client learns nothing: gfal2 reports "Host is down".
Python's ``ssl`` has no verify callback, so ``tolerate_failures(context)`` installs
one on the context's ``SSL_CTX`` through ctypes, from the very libssl that Python's
``_ssl`` module has loaded: the callback records the first failure of the handshake
running in this thread (``begin``/``failure``) and lets the handshake finish. The
caller MUST then refuse every request of that connection (``tls.py``, ``badcert.py``).

The ``SSL_CTX`` pointer is the first field after the object header of CPython's
``_ssl._SSLContext``; it is checked against the context's verify mode and options
before use, and anything unexpected (another interpreter, another OpenSSL) leaves the
context untouched: ``tolerate_failures`` returns False and failures end the
handshake as before.
"""

from __future__ import annotations

import ctypes
import logging
import ssl
import threading
from pathlib import Path
from typing import Any

log = logging.getLogger("davprovider.server.tls")

_VERIFY_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_void_p)
_state = threading.local()


def begin() -> None:
    """Forget the failure of this thread's previous handshake."""
    _state.failure = None


def failure() -> str | None:
    """The first verification failure of this thread's last handshake (OpenSSL's
    short text, e.g. ``certificate has expired``), or ``None``."""
    reason: str | None = getattr(_state, "failure", None)
    return reason


def _loaded(name: str) -> str | None:
    """Path of the shared library ``name`` (``libssl``) this process has loaded."""
    import _ssl  # noqa: F401 - loads libssl and libcrypto if nothing did yet

    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return None
    for line in maps.splitlines():
        path = line.split(maxsplit=5)[-1] if line.count(" ") >= 5 else ""
        if Path(path).name.startswith(name + ".so"):
            return path
    return None


class _OpenSSL:
    """The few libssl/libcrypto functions used here, or ``None`` attributes."""

    def __init__(self) -> None:
        ssl_path, crypto_path = _loaded("libssl"), _loaded("libcrypto")
        if ssl_path is None or crypto_path is None:
            raise OSError("libssl or libcrypto not found in this process")
        libssl, libcrypto = ctypes.CDLL(ssl_path), ctypes.CDLL(crypto_path)
        void, ptr = ctypes.c_void_p, [ctypes.c_void_p]
        self.set_verify = _bind(libssl.SSL_CTX_set_verify, [void, ctypes.c_int, _VERIFY_CALLBACK])
        self.get_verify_mode = _bind(libssl.SSL_CTX_get_verify_mode, ptr, ctypes.c_int)
        self.get_options = _bind(libssl.SSL_CTX_get_options, ptr, ctypes.c_uint64)
        self.error = _bind(libcrypto.X509_STORE_CTX_get_error, ptr, ctypes.c_int)
        self.error_text = _bind(
            libcrypto.X509_verify_cert_error_string, [ctypes.c_long], ctypes.c_char_p
        )


def _bind(function: Any, argtypes: list[Any], restype: Any = None) -> Any:
    """``function`` of a ``ctypes.CDLL`` with its C signature set."""
    function.argtypes = argtypes
    function.restype = restype
    return function


_openssl: _OpenSSL | None = None
_callback: Any = None  # kept alive for as long as any context may call it


def _on_verify(ok: int, store_ctx: int | None) -> int:
    if not ok and getattr(_state, "failure", None) is None and _openssl is not None:
        text = _openssl.error_text(_openssl.error(store_ctx))
        _state.failure = text.decode("ascii", "replace") if text else "verification failed"
    return 1


def _ssl_ctx(context: ssl.SSLContext, lib: _OpenSSL) -> int | None:
    """The context's ``SSL_CTX *``, if the expected field holds one that matches."""
    pointer = ctypes.c_void_p.from_address(id(context) + object.__basicsize__).value
    if not pointer:
        return None
    expected_mode = {ssl.CERT_OPTIONAL: 1, ssl.CERT_REQUIRED: 3}.get(context.verify_mode)
    if lib.get_verify_mode(pointer) != expected_mode:
        return None
    if lib.get_options(pointer) != int(context.options):
        return None
    return pointer


def tolerate_failures(context: ssl.SSLContext) -> bool:
    """Let handshakes on ``context`` finish despite a client certificate that fails
    verification (see the module); False (context unchanged) when that cannot be done."""
    global _openssl, _callback
    try:
        lib = _openssl or _OpenSSL()
    except (OSError, AttributeError) as exc:
        log.warning("tls: bad client certificates end the handshake: %s", exc)
        return False
    pointer = _ssl_ctx(context, lib)
    if pointer is None:
        log.warning("tls: bad client certificates end the handshake: unknown ssl layout")
        return False
    _openssl = lib
    if _callback is None:
        _callback = _VERIFY_CALLBACK(_on_verify)
    lib.set_verify(pointer, lib.get_verify_mode(pointer), _callback)
    return True
