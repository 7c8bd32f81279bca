"""A recording fake of the other services the CLI talks to, run as its own process:

- GitHub's issues and comments REST endpoints (what `plan --github-comment` and
  `drift --github-issue` use), in memory;
- `/api/releases/...` (Aviator) forwarded to `--upstream`, the sandbox, which emulates it;
- `/echo/...`: a careless server that answers 400 and echoes the Authorization header in
  its error message, to prove the CLI's messages never repeat a token; `/api/v2/...`
  (LaunchDarkly's routes, whose base URI takes no path) answers the same way.

Every request is appended to `--log` as a JSON line: method, path, the sha256 of its
Authorization header (never the header itself) and its body. `--certfile`/`--keyfile`
serve HTTPS instead (a certificate no client trusts by default).

    python recorder.py --log FILE [--upstream URL] [--certfile PEM --keyfile PEM]
prints `listening on <url>` once it accepts connections (port 0: a free one).
"""

import argparse
import hashlib
import itertools
import json
import socket
import sys
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REPO = "/repos/{owner}/{repo}"


class FakeGitHub:
    def __init__(self) -> None:
        self.ids = itertools.count(1)
        self.comments: dict[int, dict[str, Any]] = {}  # id -> comment (with its issue)
        self.issues: dict[int, dict[str, Any]] = {}

    async def list_comments(self, request: Request) -> Response:
        number = int(request.path_params["number"])
        return JSONResponse([c for c in self.comments.values() if c["issue"] == number])

    async def create_comment(self, request: Request) -> Response:
        comment = {"id": next(self.ids), "issue": int(request.path_params["number"]),
                   "body": (await request.json())["body"]}
        self.comments[comment["id"]] = comment
        return JSONResponse(comment, status_code=201)

    async def edit_comment(self, request: Request) -> Response:
        comment_id = int(request.path_params["id"])
        if request.method == "DELETE":
            self.comments.pop(comment_id, None)
            return Response(status_code=204)
        self.comments[comment_id]["body"] = (await request.json())["body"]
        return JSONResponse(self.comments[comment_id])

    async def issues_collection(self, request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse([i for i in self.issues.values() if i["state"] == "open"])
        issue = {"number": next(self.ids), "state": "open", **(await request.json())}
        self.issues[issue["number"]] = issue
        return JSONResponse(issue, status_code=201)

    async def edit_issue(self, request: Request) -> Response:
        issue = self.issues[int(request.path_params["number"])]
        issue.update(await request.json())
        return JSONResponse(issue)


def create_app(log: Path, upstream: str | None) -> Starlette:
    github = FakeGitHub()

    async def forward(request: Request) -> Response:
        headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
        async with httpx.AsyncClient(base_url=upstream or "", timeout=30) as client:
            answer = await client.request(request.method, request.url.path,
                                          params=request.query_params, headers=headers,
                                          content=await request.body())
        return Response(answer.content, status_code=answer.status_code,
                        media_type=answer.headers.get("content-type"))

    async def echo(request: Request) -> Response:
        reason = f"rejected credentials: {request.headers.get('authorization', '')}"
        return JSONResponse({"code": "invalid_request", "message": reason, "error": reason},
                            status_code=400)

    routes = [
        Route(REPO + "/issues/{number:int}/comments", github.list_comments, methods=["GET"]),
        Route(REPO + "/issues/{number:int}/comments", github.create_comment, methods=["POST"]),
        Route(REPO + "/issues/comments/{id:int}", github.edit_comment,
              methods=["PATCH", "DELETE"]),
        Route(REPO + "/issues", github.issues_collection, methods=["GET", "POST"]),
        Route(REPO + "/issues/{number:int}", github.edit_issue, methods=["PATCH"]),
        Route("/api/releases/{rest:path}", forward,
              methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
        Route("/echo/{rest:path}", echo, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
        Route("/api/v2/{rest:path}", echo, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
    ]
    return Starlette(routes=routes, middleware=[Middleware(Recording, log=log)])


class Recording:
    """Appends each request (method, path, Authorization digest, body) to the log."""

    def __init__(self, app: ASGIApp, log: Path) -> None:
        self.app = app
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks, more = [], True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        authorization = dict(scope["headers"]).get(b"authorization")
        line = {"method": scope["method"], "path": scope["path"],
                "auth_sha256": (hashlib.sha256(authorization).hexdigest()
                                if authorization is not None else None),
                "body": body.decode("utf-8", "replace")}
        with self.log.open("a", encoding="utf-8") as out:
            out.write(json.dumps(line) + "\n")
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--upstream")
    parser.add_argument("--certfile")
    parser.add_argument("--keyfile")
    options = parser.parse_args()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    scheme = "https" if options.certfile else "http"
    config = uvicorn.Config(create_app(options.log, options.upstream), log_level="warning",
                            lifespan="off", ssl_certfile=options.certfile,
                            ssl_keyfile=options.keyfile)
    print(f"listening on {scheme}://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    uvicorn.Server(config).run(sockets=[sock])
    sys.exit(0)


if __name__ == "__main__":
    main()
