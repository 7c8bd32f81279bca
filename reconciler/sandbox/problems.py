"""What the sandbox reports: errors to API clients (ApiProblem, answered as LaunchDarkly's
`{"code", "message"}` body) and errors to its operator (SandboxError, a bad state file or
fixture, shown by the CLI as `error: ...`)."""

from starlette.responses import JSONResponse

from reconciler.errors import ReconcilerError
from reconciler.rules import Rule, RuleViolation


class SandboxError(ReconcilerError):
    """A state file or fixture the sandbox cannot use."""


class ApiProblem(Exception):
    """An error response: the HTTP status, LaunchDarkly's error `code` and a message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        self.status = status
        self.code = code
        self.message = message
        super().__init__(message)

    def response(self) -> JSONResponse:
        return JSONResponse({"code": self.code, "message": self.message}, status_code=self.status)


def invalid_request(message: str) -> ApiProblem:
    return ApiProblem(400, "invalid_request", message)


def not_found(message: str) -> ApiProblem:
    return ApiProblem(404, "not_found", message)


def patch_failed(message: str) -> ApiProblem:
    return ApiProblem(422, "patch_failed", message)


# How LaunchDarkly answers each broken rule (the codes for the cap, the default and active
# releases are undocumented; invalid_request is what its other 400s use).
_RULE_ANSWERS: dict[Rule, tuple[int, str]] = {
    Rule.CAP: (400, "invalid_request"),
    Rule.DEFAULT_DELETE: (400, "invalid_request"),
    Rule.ACTIVE_RELEASES: (400, "invalid_request"),
    Rule.DUPLICATE: (409, "conflict"),
    Rule.MISSING: (404, "not_found"),
    Rule.ORDER_KEYS: (400, "invalid_request"),
    Rule.DEFAULT_ORDER: (400, "invalid_request"),
}


def from_violation(violation: RuleViolation) -> ApiProblem:
    status, code = _RULE_ANSWERS[violation.rule]
    return ApiProblem(status, code, str(violation))
