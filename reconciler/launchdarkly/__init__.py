"""The LaunchDarkly REST client: auth, LD-API-Version, paging, retries, rate limits and
bounded concurrency over one connection pool (DESIGN.md section 6)."""

from reconciler.launchdarkly.client import LaunchDarklyClient

__all__ = ["LaunchDarklyClient"]
