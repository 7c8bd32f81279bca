"""Aviator settings from the environment, and the client they open.

AVIATOR_API_TOKEN, AVIATOR_PROJECT and AVIATOR_ENVIRONMENT turn reporting on; all three
or none. AVIATOR_BASE_URL is optional. An empty variable counts as unset: GitHub Actions
passes `${{ vars.NAME }}` of an undefined variable as "".
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.aviator.client import AviatorClient
from reconciler.errors import SettingsError
from reconciler.http.pacing import OnWait, ignore_wait
from reconciler.settings import check_base_uri, check_token

DEFAULT_BASE_URL = "https://api.aviator.co"
SANDBOX_BASE_URL = "http://sandbox"  # never resolved: the sandbox runs in process
REQUIRED = ("AVIATOR_API_TOKEN", "AVIATOR_PROJECT", "AVIATOR_ENVIRONMENT")


@dataclass(frozen=True, kw_only=True)
class AviatorSettings:
    project: str
    environment: str
    token: str = field(repr=False)
    base_url: str | None = None  # None: AVIATOR_BASE_URL unset


def settings_from_environ(environ: Mapping[str, str]) -> AviatorSettings | None:
    """None when Aviator is not configured; SettingsError when it is half configured or a
    value is unusable."""
    values = {name: environ.get(name, "").strip() for name in REQUIRED}
    if not any(values.values()):
        return None
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise SettingsError(f"Aviator is partly configured: {', '.join(missing)} not set "
                            f"(set all of {', '.join(REQUIRED)}, or none)")
    token = check_token("AVIATOR_API_TOKEN", values["AVIATOR_API_TOKEN"])
    base_url = environ.get("AVIATOR_BASE_URL", "").strip()
    return AviatorSettings(project=values["AVIATOR_PROJECT"],
                           environment=values["AVIATOR_ENVIRONMENT"], token=token,
                           base_url=check_base_uri(base_url, "AVIATOR_BASE_URL") if base_url
                           else None)


def open_client(settings: AviatorSettings, sandbox: Path | None,
                on_wait: OnWait = ignore_wait) -> AviatorClient:
    """A client for AVIATOR_BASE_URL; without one, the in-process sandbox over the state
    file `sandbox` (apply --sandbox), else Aviator itself. Long waits go to `on_wait`."""
    if settings.base_url is None and sandbox is not None:
        from reconciler.sandbox import create_app, transport

        return AviatorClient(SANDBOX_BASE_URL, settings.token,
                             transport=transport(create_app(sandbox)), on_wait=on_wait)
    return AviatorClient(settings.base_url or DEFAULT_BASE_URL, settings.token,
                         on_wait=on_wait)
