"""The exception hierarchy. Every error a user can cause is a ReconcilerError with a
one-line, actionable message; the CLI prints it and exits 1, never a traceback."""


class ReconcilerError(Exception):
    """Base class: `str(error)` is the message shown to the user."""


class SettingsError(ReconcilerError):
    """A missing or invalid setting (token, base URI, shard spec...)."""


class ManifestError(ReconcilerError):
    """The desired state on disk is invalid; carries every problem found."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class ApiError(ReconcilerError):
    """An HTTP API answered with an error, or could not be reached after retries.

    The message names the method, the route and the reason; never a credential."""

    def __init__(
        self, method: str, route: str, status: int | None, reason: str, code: str | None = None
    ) -> None:
        self.method = method
        self.route = route
        self.status = status
        self.code = code
        self.reason = reason
        shown = f"{status} " if status is not None else ""
        super().__init__(f"{method} {route}: {shown}{reason}")


class Unreachable(ApiError):
    """The service could not be reached at all (connection refused, DNS, TLS): every
    request's problem, not one route's, so it ends the run."""


class StalePlan(ReconcilerError):
    """A saved plan no longer matches live state."""


class PlanFileError(ReconcilerError):
    """A plan file is corrupt, from another version, or was edited by hand."""


class FileWriteError(ReconcilerError):
    """A file the tool writes (a plan, an export, the sandbox's state) could not be written."""
