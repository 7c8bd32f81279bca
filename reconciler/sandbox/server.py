"""Serving the sandbox over real HTTP with uvicorn."""

import logging
import signal
import socket
from collections.abc import Callable
from types import FrameType

import uvicorn
from starlette.applications import Starlette

from reconciler.sandbox.knobs import DroppedConnection
from reconciler.sandbox.problems import SandboxError


class _QuietDrops(logging.Filter):
    """Injected dropped connections are intended; uvicorn would log each as a crash."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], DroppedConnection))


def _listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that say so, and
    # without it every small response waits out the client's delayed ACK (about 40 ms).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        # Listening before the address is announced: a client that reads it and connects
        # at once waits in the backlog instead of being refused.
        sock.listen(2048)
    except OSError as error:
        sock.close()
        raise SandboxError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    return sock


def serve(app: Starlette, host: str, port: int, announce: Callable[[str], None]) -> None:
    """Serve `app` until SIGTERM or SIGINT; `announce` gets `listening on <url>` once the
    port is bound (port 0 picks a free one)."""
    sock = _listening_socket(host, port)
    shown_host = f"[{host}]" if ":" in host else host
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    )

    def stop(signum: int, frame: FrameType | None) -> None:
        # Also what runs when uvicorn re-raises the signal after its graceful shutdown:
        # by then every request, and so every state write, has finished; exit cleanly.
        server.should_exit = True

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stop)
    logging.getLogger("uvicorn.error").addFilter(_QuietDrops())
    announce(f"listening on http://{shown_host}:{sock.getsockname()[1]}")
    with sock:
        server.run(sockets=[sock])
