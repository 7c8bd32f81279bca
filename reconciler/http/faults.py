"""What a failure to connect means, in one line that names the host (the service adds
the setting that chose it).

A failure to connect (refused, DNS, a connect timeout, TLS) guarantees the request was
never sent, so even a POST may be retried; a certificate or TLS failure will not heal on
a retry, so it is reported at once with what to check.
"""

import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass

import httpx

CONNECT_RETRIES = 3  # a short, bounded retry: a restarting proxy, a DNS hiccup


@dataclass(frozen=True)
class ConnectFailure:
    retryable: bool
    reason: str  # what happened, naming the host: "127.0.0.1:9 refused the connection"


def _causes(error: BaseException) -> Iterator[BaseException]:
    seen: BaseException | None = error
    while seen is not None:
        yield seen
        seen = seen.__cause__ or seen.__context__


def connect_failure(error: httpx.TransportError, where: str) -> ConnectFailure | None:
    """The failure if `error` happened before the request was sent (`where` is the
    host[:port]); None when the request may have reached the server."""
    if not isinstance(error, httpx.ConnectError | httpx.ConnectTimeout):
        return None
    for cause in _causes(error):
        if isinstance(cause, ssl.SSLCertVerificationError):
            detail = cause.verify_message or cause.reason or "verification failed"
            return ConnectFailure(False, f"cannot verify the TLS certificate of {where} "
                                         f"({detail}); if the host is right, point "
                                         "SSL_CERT_FILE at a CA bundle that holds its issuer")
        if isinstance(cause, ssl.SSLError):
            detail = cause.reason or type(cause).__name__
            return ConnectFailure(False, f"the TLS handshake with {where} failed ({detail}): "
                                         "is it an https:// server?")
        if isinstance(cause, socket.gaierror):
            return ConnectFailure(True, f"cannot resolve the host of {where} "
                                        f"(DNS: {cause.strerror or cause})")
        if isinstance(cause, ConnectionRefusedError):
            return ConnectFailure(True, f"{where} refused the connection")
    if isinstance(error, httpx.ConnectTimeout):
        return ConnectFailure(True, f"connecting to {where} timed out")
    return ConnectFailure(True, f"cannot connect to {where} ({error or type(error).__name__})")
