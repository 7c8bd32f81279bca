"""LaunchDarkly release pipelines as code."""

__version__ = "0.2.0"
USER_AGENT = f"reconciler/{__version__} (release-pipelines-as-code)"
