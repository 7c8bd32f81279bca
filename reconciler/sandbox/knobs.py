"""The network's bad days, as ASGI middleware: latency, a rate limit, injected faults,
and a request log to count calls with.

Order in the app (outermost first): RequestLog, Latency, RateLimit, Faults,
SlowMutations, InconsistentListings, RefuseMutations, routes.
"""

import asyncio
import json
import math
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The wall clock the rate limiter reads; a module attribute so tests can pin it.
clock: Callable[[], float] = time.time


class DroppedConnection(Exception):
    """Raised after a fault sent a response head: the server must cut the connection.

    uvicorn closes the connection when an app raises after starting a response; the
    in-process transport turns it into httpx.RemoteProtocolError."""


@dataclass(frozen=True)
class RequestRecord:
    time: float  # epoch seconds when the request arrived
    method: str
    path: str
    status: int | None  # None: the connection was dropped
    ms: float  # time spent in the sandbox, latency included


class RequestLog:
    """Appends a RequestRecord per request to `records`, and as a JSON line to `file`."""

    def __init__(self, app: ASGIApp, records: list[RequestRecord], file: Path | None) -> None:
        self.app = app
        self.records = records
        self.file = file

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        arrived, started = time.time(), time.perf_counter()
        status: int | None = None

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        except DroppedConnection:
            status = None
            raise
        except Exception:
            status = status or 500
            raise
        finally:
            record = RequestRecord(
                arrived, scope["method"], scope["path"], status,
                round((time.perf_counter() - started) * 1000, 3),
            )
            self.records.append(record)
            if self.file is not None:
                with self.file.open("a", encoding="utf-8") as log:
                    log.write(json.dumps(asdict(record)) + "\n")


class Latency:
    def __init__(self, app: ASGIApp, ms: int) -> None:
        self.app = app
        self.seconds = ms / 1000

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await asyncio.sleep(self.seconds)
        await self.app(scope, receive, send)


class RateLimit:
    """At most `per_second` requests in each fixed one-second window; the excess gets 429.

    Every response carries `X-Ratelimit-Route-Remaining` and `X-Ratelimit-Reset` (epoch
    milliseconds of the window's end), as LaunchDarkly's route limits do."""

    def __init__(self, app: ASGIApp, per_second: float) -> None:
        self.app = app
        self.capacity = math.floor(per_second)
        self.window = -1
        self.used = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        window = math.floor(clock())
        if window != self.window:
            self.window, self.used = window, 0
        self.used += 1
        headers = {
            "X-Ratelimit-Route-Remaining": str(max(self.capacity - self.used, 0)),
            "X-Ratelimit-Reset": str((window + 1) * 1000),
        }
        if self.used > self.capacity:
            body = {"code": "rate_limited",
                    "message": "You've exceeded the API rate limit. Try again later."}
            await JSONResponse(body, status_code=429, headers=headers)(scope, receive, send)
            return
        extra = [(name.lower().encode(), value.encode()) for name, value in headers.items()]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


_ERRORS = {
    500: ("internal_error", "Internal server error (injected by the sandbox)"),
    502: ("bad_gateway", "Bad gateway (injected by the sandbox)"),
    503: ("service_unavailable", "Service unavailable (injected by the sandbox)"),
}
DROP = "drop"
FAULTS: tuple[int | str, ...] = (*_ERRORS, DROP)


class Faults:
    """A `rate` share of requests fails, drawn from a generator seeded with `seed`.

    A 500/502/503 is answered without running the request. A dropped connection runs the
    request first, then cuts the connection before the response: the change landed but
    the client cannot know, which is what a client must re-read after."""

    def __init__(self, app: ASGIApp, rate: float, seed: int | None) -> None:
        self.app = app
        self.rate = rate
        self.random = random.Random(seed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.random.random() >= self.rate:
            await self.app(scope, receive, send)
            return
        fault = self.random.choice(FAULTS)
        if fault != DROP:
            code, message = _ERRORS[int(fault)]
            await JSONResponse({"code": code, "message": message}, status_code=int(fault))(
                scope, receive, send
            )
            return

        async def discard(message: Message) -> None:
            pass

        await self.app(scope, receive, discard)
        # A head that promises a body that never comes: every client sees a broken response.
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"2")]})
        raise DroppedConnection()


MUTATIONS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class SlowMutations:
    """The first `count` mutations (all of them when `count` is None) answer `ms` late,
    after the change is applied and on disk: a client whose read timeout is shorter gives
    up on a request that did land, and must find that out before repeating it."""

    def __init__(self, app: ASGIApp, ms: int, count: int | None) -> None:
        self.app = app
        self.seconds = ms / 1000
        self.left = count

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in MUTATIONS or self.left == 0:
            await self.app(scope, receive, send)
            return
        if self.left is not None:
            self.left -= 1

        async def send_late(message: Message) -> None:
            if message["type"] == "http.response.start":
                await asyncio.sleep(self.seconds)
            await send(message)

        await self.app(scope, receive, send_late)


SHORT, LONG = "short", "long"
LISTING_FAULTS = (SHORT, LONG)


class InconsistentListings:
    """The first `count` listings (all of them when `count` is None) disagree with their
    own `totalCount`, as a collection changing while it is paged does: `short` leaves out
    each page's last item, `long` repeats each page's first item at its end. A listing is
    any successful GET whose body has an `items` list and a `totalCount`."""

    def __init__(self, app: ASGIApp, mode: str, count: int | None) -> None:
        if mode not in LISTING_FAULTS:
            raise ValueError(f"inconsistent listings are {' or '.join(LISTING_FAULTS)}")
        self.app = app
        self.mode = mode
        self.left = count

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or self.left == 0:
            await self.app(scope, receive, send)
            return
        start: Message = {}
        chunks: list[bytes] = []

        async def hold(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            else:
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, hold)
        body = b"".join(chunks)
        changed = self._changed(body) if start.get("status") == 200 else None
        if changed is not None:
            body = changed
            headers = [(k, v) for k, v in start.get("headers", []) if k != b"content-length"]
            start = {**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]}
        await send(start)
        await send({"type": "http.response.body", "body": body})

    def _changed(self, body: bytes) -> bytes | None:
        try:
            page = json.loads(body)
        except ValueError:
            return None
        if not (isinstance(page, dict) and isinstance(page.get("items"), list)
                and isinstance(page.get("totalCount"), int)):
            return None
        if self.left is not None:
            self.left -= 1
        items = page["items"]
        if items:
            page["items"] = items[:-1] if self.mode == SHORT else [*items, items[0]]
        return json.dumps(page).encode()


class RefuseMutations:
    """Every LaunchDarkly change (POST, PUT, PATCH, DELETE under /api/v2/) is refused with
    400, as LaunchDarkly refuses a request it finds invalid: reads, and Aviator's routes,
    still work. An apply then fails at its first step, however well it was planned."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] == "http" and scope["method"] in MUTATIONS
                and scope["path"].startswith("/api/v2/")):
            body = {"code": "invalid_request",
                    "message": "refused by the sandbox (--refuse-mutations)"}
            await JSONResponse(body, status_code=400)(scope, receive, send)
            return
        await self.app(scope, receive, send)
