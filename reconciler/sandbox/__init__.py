"""A local emulator of LaunchDarkly's release-pipeline API (and, later, Aviator's), for
tests, demos and reproducing bugs: an ASGI app over a JSON state file, usable in process
through httpx or served over HTTP, with latency, rate-limit and fault knobs."""

from reconciler.sandbox.app import create_app, transport
from reconciler.sandbox.fixture import load_fixture, seed_state

__all__ = ["create_app", "load_fixture", "seed_state", "transport"]
