"""The one HTTP layer under every service the tool calls (LaunchDarkly, GitHub, Aviator):
retries with backoff, pacing, redaction and error wording. Each service supplies only a
`Service`: its address, auth headers, rate-limit headers and error body."""

from reconciler.http.pacing import Backoff, Wait
from reconciler.http.requester import AmbiguousFailure, AsyncRequester, SyncRequester, gave_up
from reconciler.http.service import RetryAfterLimits, Service, message_field

__all__ = ["AmbiguousFailure", "AsyncRequester", "Backoff", "RetryAfterLimits", "Service",
           "SyncRequester", "Wait", "gave_up", "message_field"]
