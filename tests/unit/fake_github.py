"""An in-memory fake of GitHub's REST API (issues, pull requests, comments), reached through
respx; the `github` fixture in this folder's conftest.py routes api.github.test to it."""

import json
import re
from typing import Any

import httpx

from reconciler.github.comments import COMMENT_LIMIT
from reconciler.github.issues import LABEL

TOKEN = "ghs_canary0123456789abcdefghijkl"
API = "https://api.github.test"
REPO = "acme/pipelines"
PULL = 5

class FakeGitHub:
    """Issues, pull requests and their comments, as GitHub's REST API shows them."""

    def __init__(self, page_size: int = 100) -> None:
        self.page_size = page_size
        self.issues: dict[int, dict[str, Any]] = {
            PULL: {"number": PULL, "title": "Add pipeline", "body": "", "state": "open",
                   "labels": [], "pull_request": {"url": "..."}},
        }
        self.comments: dict[int, dict[str, Any]] = {}
        self.next_comment = 1000
        self.methods: list[str] = []
        self.fail_with: httpx.Response | None = None

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return httpx.Response(401, json={"message": "Bad credentials"})
        self.methods.append(request.method)
        if self.fail_with is not None:
            return self.fail_with
        path = request.url.path.removeprefix(f"/repos/{REPO}")
        body = json.loads(request.content) if request.content else {}
        text = body.get("body")
        if isinstance(text, str) and len(text) > COMMENT_LIMIT:
            return httpx.Response(422, json={
                "message": "Validation Failed",
                "errors": [{"message": "Body is too long (maximum is 65536 characters)"}]})
        for pattern, method, action in self.routes():
            match = re.fullmatch(pattern, path)
            if match and request.method == method:
                return action(request, body, *map(int, match.groups()))
        return httpx.Response(404, json={"message": "Not Found"})

    def routes(self) -> list[tuple[str, str, Any]]:
        return [
            (r"/issues/(\d+)/comments", "GET", self.list_comments),
            (r"/issues/(\d+)/comments", "POST", self.create_comment),
            (r"/issues/comments/(\d+)", "PATCH", self.edit_comment),
            (r"/issues/comments/(\d+)", "DELETE", self.delete_comment),
            (r"/issues", "GET", self.list_issues),
            (r"/issues", "POST", self.create_issue),
            (r"/issues/(\d+)", "PATCH", self.edit_issue),
        ]

    def page(self, request: httpx.Request, items: list[dict[str, Any]]) -> httpx.Response:
        size_ = min(int(request.url.params.get("per_page", "30")), self.page_size)
        page = int(request.url.params.get("page", "1"))
        headers = {}
        if page * size_ < len(items):
            headers["Link"] = f'<{request.url.copy_merge_params({"page": page + 1})}>; rel="next"'
        return httpx.Response(200, headers=headers,
                              json=items[(page - 1) * size_:page * size_])

    def list_comments(self, request: httpx.Request, _: Any, number: int) -> httpx.Response:
        return self.page(request, [c for c in self.comments.values() if c["issue"] == number])

    def create_comment(self, _: httpx.Request, body: Any, number: int) -> httpx.Response:
        if number not in self.issues:
            return httpx.Response(404, json={"message": "Not Found"})
        comment = {"id": self.next_comment, "issue": number, "body": body["body"]}
        self.comments[comment["id"]] = comment
        self.next_comment += 1
        return httpx.Response(201, json=comment)

    def edit_comment(self, _: httpx.Request, body: Any, comment_id: int) -> httpx.Response:
        self.comments[comment_id]["body"] = body["body"]
        return httpx.Response(200, json=self.comments[comment_id])

    def delete_comment(self, _: httpx.Request, __: Any, comment_id: int) -> httpx.Response:
        del self.comments[comment_id]
        return httpx.Response(204)

    def list_issues(self, request: httpx.Request, _: Any) -> httpx.Response:
        state = request.url.params.get("state", "open")
        label = request.url.params.get("labels")
        issues = [issue for issue in self.issues.values()
                  if issue["state"] == state and (label is None or label in issue["labels"])]
        return self.page(request, issues)

    def create_issue(self, _: httpx.Request, body: Any) -> httpx.Response:
        issue = {"number": max(self.issues) + 1, "title": body["title"], "body": body["body"],
                 "state": "open", "state_reason": None, "labels": body.get("labels", [])}
        self.issues[issue["number"]] = issue
        return httpx.Response(201, json=issue)

    def edit_issue(self, _: httpx.Request, body: Any, number: int) -> httpx.Response:
        self.issues[number].update(body)
        return httpx.Response(200, json=self.issues[number])

    def comments_on(self, number: int) -> list[dict[str, Any]]:
        return [c for c in self.comments.values() if c["issue"] == number]

    def open_drift_issues(self) -> list[dict[str, Any]]:
        return [i for i in self.issues.values()
                if i["state"] == "open" and LABEL in i["labels"]]
