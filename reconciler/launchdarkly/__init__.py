"""The LaunchDarkly REST client: auth, LD-API-Version, paging, rate-limit headers and
bounded concurrency over one connection pool (DESIGN.md section 6); retries, pacing and
error wording are the shared HTTP layer's (reconciler.http)."""

from reconciler.launchdarkly.client import LaunchDarklyClient

__all__ = ["LaunchDarklyClient"]
