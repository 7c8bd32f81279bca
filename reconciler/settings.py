"""LaunchDarkly connection settings: flags first, then the environment, then defaults.

The token lives only here and in the HTTP client's Authorization header: it is kept out
of repr/str and out of every error message.
"""

import ipaddress
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from reconciler.errors import SettingsError

DEFAULT_BASE_URI = "https://app.launchdarkly.com"
TOKEN_VARIABLES = ("LAUNCHDARKLY_ACCESS_TOKEN", "LD_ACCESS_TOKEN")
MISSING_TOKEN = (
    "LaunchDarkly access token missing: set LAUNCHDARKLY_ACCESS_TOKEN (or LD_ACCESS_TOKEN)"
)
SANDBOX_BASE_URI = "http://sandbox"  # never resolved: the sandbox runs in process
TIMEOUT_VARIABLE = "RECONCILER_HTTP_TIMEOUT"  # seconds per request attempt


@dataclass(frozen=True, kw_only=True)
class LaunchDarklySettings:
    base_uri: str = DEFAULT_BASE_URI
    token: str = field(repr=False)
    beta_api_version: str = "beta"  # release-pipeline routes
    api_version: str = "20240415"  # project, environment and segment routes
    concurrency: int = 8
    timeout_seconds: float = 30.0
    max_retries: int = 8

    def __post_init__(self) -> None:
        if not self.token:
            raise SettingsError(MISSING_TOKEN)
        if self.concurrency < 1:
            raise SettingsError(f"concurrency must be at least 1, got {self.concurrency}")
        if self.timeout_seconds <= 0:
            raise SettingsError(f"timeout must be positive, got {self.timeout_seconds}")
        if self.max_retries < 0:
            raise SettingsError(f"max retries must be 0 or more, got {self.max_retries}")
        for name in ("beta_api_version", "api_version"):
            value = getattr(self, name)
            # One value per request: a comma or space would put two on the wire.
            if not value or any(c in value for c in ", \t"):
                raise SettingsError(f"{name} must be a single LD-API-Version value, got {value!r}")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_base_uri(uri: str, what: str = "LaunchDarkly base URI") -> str:
    """The base URI without a trailing slash; https, or plain http only to loopback.
    Shared by every HTTP service the tool talks to (LaunchDarkly, Aviator)."""
    parts = urlsplit(uri)
    host = (parts.hostname or "").lower()
    # The URI is not echoed whole: it could carry user:password@.
    if parts.scheme not in ("https", "http") or not host:
        raise SettingsError(
            f"invalid {what} (scheme {parts.scheme!r}, host {host!r}): expected https://HOST"
        )
    if parts.scheme == "http" and not is_loopback(host):
        raise SettingsError(
            f"{what}: refusing plain http:// to {host}: use https:// "
            "(http is allowed only to loopback: 127.0.0.0/8, ::1, localhost)"
        )
    return uri.rstrip("/")


def _token(environ: Mapping[str, str]) -> str:
    for name in TOKEN_VARIABLES:
        token = environ.get(name, "").strip()
        if token:
            if not token.isprintable() or any(c.isspace() for c in token):
                raise SettingsError(f"{name} contains whitespace or control characters")
            return token
    raise SettingsError(MISSING_TOKEN)


def _timeout(environ: Mapping[str, str]) -> float | None:
    text = environ.get(TIMEOUT_VARIABLE, "").strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds <= 0:
        raise SettingsError(f"{TIMEOUT_VARIABLE} must be a positive number of seconds, "
                            f"got {text!r}")
    return seconds


def resolve_settings(
    base_uri: str | None, concurrency: int | None, environ: Mapping[str, str]
) -> LaunchDarklySettings:
    uri = base_uri or environ.get("LAUNCHDARKLY_BASE_URI") or DEFAULT_BASE_URI
    # The LD-API-Version values are configurable because the pipeline routes are being
    # deprecated and may stop wanting `beta` (facts 2.3).
    options: dict[str, Any] = {
        name: environ[variable]
        for name, variable in (
            ("api_version", "LAUNCHDARKLY_API_VERSION"),
            ("beta_api_version", "LAUNCHDARKLY_BETA_API_VERSION"),
        )
        if environ.get(variable)
    }
    if concurrency is not None:
        options["concurrency"] = concurrency
    if (timeout := _timeout(environ)) is not None:
        options["timeout_seconds"] = timeout
    return LaunchDarklySettings(base_uri=check_base_uri(uri), token=_token(environ), **options)


def sandbox_settings(concurrency: int | None) -> LaunchDarklySettings:
    """Settings for `--sandbox`: the in-process emulator needs no token and no network."""
    settings = LaunchDarklySettings(base_uri=SANDBOX_BASE_URI, token="sandbox")
    return settings if concurrency is None else replace(settings, concurrency=concurrency)
