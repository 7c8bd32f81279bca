"""LaunchDarkly connection settings: flags first, then the environment, then defaults.

The token lives only here and in the HTTP client's Authorization header: it is kept out
of repr/str and out of every error message. Every value a user can set is checked here,
so that a bad one is a one-line SettingsError and never a traceback deeper down.
"""

import ipaddress
import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import SplitResult, urlsplit

from reconciler.errors import SettingsError

DEFAULT_BASE_URI = "https://app.launchdarkly.com"
API_PATH = "/api/v2"  # the client puts it on every route itself
BASE_URI_FLAG = "--base-uri"
BASE_URI_VARIABLE = "LAUNCHDARKLY_BASE_URI"
DEFAULT_SOURCE = "the default"
TOKEN_VARIABLES = ("LAUNCHDARKLY_ACCESS_TOKEN", "LD_ACCESS_TOKEN")
MISSING_TOKEN = (
    "LaunchDarkly access token missing: set LAUNCHDARKLY_ACCESS_TOKEN (or LD_ACCESS_TOKEN)"
)
SANDBOX_BASE_URI = "http://sandbox"  # never resolved: the sandbox runs in process
TIMEOUT_VARIABLE = "RECONCILER_HTTP_TIMEOUT"  # seconds per request attempt
MAX_WAIT_VARIABLE = "RECONCILER_MAX_WAIT"  # seconds: the longest single wait
MAX_WAIT_RANGE = (1.0, 3600.0)
ANNOUNCE_AFTER_SECONDS = 3.0  # a longer wait goes to on_wait (the CLI: stderr)
# A DNS label (RFC 1123; `_` too, as container host names use it).
LABEL = re.compile(r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)")
SHOWN_LENGTH = 60  # a refused value is shown at most this long

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class LaunchDarklySettings:
    base_uri: str = DEFAULT_BASE_URI
    # Which setting chose base_uri and the token: named in connection and 401 errors
    # ("" when the settings were built by hand, as in tests).
    base_uri_source: str = ""
    token: str = field(repr=False)
    token_source: str = TOKEN_VARIABLES[0]
    beta_api_version: str = "beta"  # release-pipeline routes
    api_version: str = "20240415"  # project, environment and segment routes
    concurrency: int = 8
    timeout_seconds: float = 30.0
    max_retries: int = 8
    max_wait_seconds: float = 60.0  # no single wait (backoff, rate limit, pacing) is longer

    def __post_init__(self) -> None:
        if not self.token:
            raise SettingsError(MISSING_TOKEN)
        if self.concurrency < 1:
            raise SettingsError(f"concurrency must be at least 1, got {self.concurrency}")
        if self.timeout_seconds <= 0:
            raise SettingsError(f"timeout must be positive, got {self.timeout_seconds}")
        if self.max_retries < 0:
            raise SettingsError(f"max retries must be 0 or more, got {self.max_retries}")
        if not self.max_wait_seconds > 0:
            raise SettingsError(f"max wait must be positive, got {self.max_wait_seconds}")
        for name in ("beta_api_version", "api_version"):
            value = getattr(self, name)
            # One value per request: a comma or space would put two on the wire.
            if not value or not _header_safe(value) or any(c in value for c in ", \t"):
                raise SettingsError(f"{name} must be a single LD-API-Version value, "
                                    f"got {_shown(value)}")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _shown(value: str) -> str:
    """A refused value as it may be shown: quoted, escaped, cut short."""
    cut = value if len(value) <= SHOWN_LENGTH else value[:SHOWN_LENGTH] + "..."
    return ascii(cut)


def _header_safe(value: str) -> bool:
    """Whether `value` can go in an HTTP header as it is: printable ASCII, no spaces."""
    return value.isascii() and value.isprintable() and not any(c.isspace() for c in value)


def check_token(name: str, token: str) -> str:
    """`token` if it can be sent in an Authorization header; the message never shows it."""
    if not _header_safe(token):
        raise SettingsError(f"{name} contains a character that cannot be sent in an HTTP "
                            "header (whitespace, a control character or non-ASCII): check "
                            "how it was copied")
    return token


def _valid_host(host: str) -> bool:
    if host.startswith("["):
        try:
            address = ipaddress.ip_address(host[1:-1])
        except ValueError:
            return False
        return host.endswith("]") and address.version == 6
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    labels = host.removesuffix(".").split(".")
    return len(host) <= 253 and all(LABEL.fullmatch(label) for label in labels)


def _split(uri: str, what: str) -> tuple[SplitResult, str]:
    """The parts of `uri` and its host (lower case), or a SettingsError naming `what`."""
    if not uri.isascii() or not uri.isprintable() or any(c.isspace() for c in uri):
        raise SettingsError(f"{what} contains whitespace, a control character or non-ASCII "
                            "(write an international host name in punycode)")
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError as error:  # a bad IPv6 literal, a port that is not a number
        raise SettingsError(f"{what} is not a valid URL ({error}): expected https://HOST"
                            ) from None
    netloc_host = parts.netloc.rpartition("@")[2]
    bracketed = netloc_host.startswith("[")
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host:
        raise SettingsError(
            f"invalid {what} (scheme {parts.scheme!r}, host {host!r}): expected https://HOST"
        )
    if not _valid_host(f"[{host}]" if bracketed else host):
        raise SettingsError(f"{what}: {_shown(host)} is not a valid host name or IP address")
    if port == 0:
        raise SettingsError(f"{what}: the port of {host} must be 1 to 65535")
    return parts, host


def check_base_uri(uri: str, what: str = "LaunchDarkly base URI") -> str:
    """The base URI without a trailing slash; https, or plain http only to loopback.
    Shared by every HTTP service the tool talks to (LaunchDarkly, Aviator, GitHub)."""
    parts, host = _split(uri, what)
    # The URI is not echoed whole: it could carry user:password@.
    if parts.scheme == "http" and not is_loopback(host):
        raise SettingsError(
            f"{what}: refusing plain http:// to {host}: use https:// "
            "(http is allowed only to loopback: 127.0.0.0/8, ::1, localhost)"
        )
    if parts.username is not None or parts.password is not None:
        raise SettingsError(f"{what}: remove the user:password@ before {host} "
                            "(credentials go in the token variable)")
    if parts.query or parts.fragment or uri.endswith(("?", "#")):
        raise SettingsError(f"{what}: remove the ?query or #fragment after {host}")
    return uri.rstrip("/")


def launchdarkly_base_uri(uri: str, source: str) -> str:
    """LaunchDarkly's base URI, scheme://host[:port]: a trailing /api/v2 is dropped with a
    warning (the client adds it, and twice it is a 404 that blames the project); any other
    path is refused. `source` names the setting in messages."""
    what = source if source in (BASE_URI_FLAG, BASE_URI_VARIABLE) else "LaunchDarkly base URI"
    checked = check_base_uri(uri, what)
    path = urlsplit(checked).path
    if path.rstrip("/") == API_PATH:
        stripped = checked[: -len(path)]
        log.warning("%s ends in %s, which reconciler adds to every route itself: using %s",
                    source, API_PATH, stripped)
        return stripped
    if path:
        raise SettingsError(f"{what} must be scheme://host[:port] with no path, got the "
                            f"path {_shown(path)} (reconciler adds {API_PATH}/... itself)")
    return checked


def _token(environ: Mapping[str, str]) -> tuple[str, str]:
    for name in TOKEN_VARIABLES:
        token = environ.get(name, "").strip()
        if token:
            return check_token(name, token), name
    raise SettingsError(MISSING_TOKEN)


def _seconds(environ: Mapping[str, str], variable: str, low: float = 0.0,
             high: float = math.inf) -> float | None:
    text = environ.get(variable, "").strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds <= 0 or not low <= seconds <= high:
        bounds = (f" from {low:g} to {high:g}" if math.isfinite(high) else "")
        raise SettingsError(f"{variable} must be a positive number of seconds{bounds}, "
                            f"got {_shown(text)}")
    return seconds


def resolve_settings(
    base_uri: str | None, concurrency: int | None, environ: Mapping[str, str]
) -> LaunchDarklySettings:
    if base_uri is not None:
        uri, source = base_uri.strip(), BASE_URI_FLAG
    elif environ.get(BASE_URI_VARIABLE, "").strip():
        uri, source = environ[BASE_URI_VARIABLE].strip(), BASE_URI_VARIABLE
    else:
        uri, source = DEFAULT_BASE_URI, DEFAULT_SOURCE
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
    if (timeout := _seconds(environ, TIMEOUT_VARIABLE)) is not None:
        options["timeout_seconds"] = timeout
    if (cap := _seconds(environ, MAX_WAIT_VARIABLE, *MAX_WAIT_RANGE)) is not None:
        options["max_wait_seconds"] = cap
    token, token_source = _token(environ)
    return LaunchDarklySettings(base_uri=launchdarkly_base_uri(uri, source),
                                base_uri_source=source, token=token,
                                token_source=token_source, **options)


def sandbox_settings(concurrency: int | None) -> LaunchDarklySettings:
    """Settings for `--sandbox`: the in-process emulator needs no token and no network."""
    settings = LaunchDarklySettings(base_uri=SANDBOX_BASE_URI, base_uri_source="--sandbox",
                                    token="sandbox")
    return settings if concurrency is None else replace(settings, concurrency=concurrency)
