"""Renderings of a plan or a drift report: text for the terminal, Markdown for GitHub,
JSON for machines (and for `apply PLAN_FILE`)."""

from typing import Any

from reconciler.plan import Plan
from reconciler.render.text import render_text


def render_json(plan: Plan) -> str:
    """The Plan itself: digest, formatVersion, per-project live fingerprints, steps with
    before/after/changes. Stable: field order is the model's, projects come sorted."""
    return plan.model_dump_json(indent=2)


def __getattr__(name: str) -> Any:
    # The Markdown renderings load when first asked for: a plan shown on a terminal needs
    # the text alone (not html, nor the layout budget), and GitHub is where Markdown goes.
    if name == "render_markdown":
        from reconciler.render.markdown import render_markdown

        return render_markdown
    if name == "render_drift_markdown":
        from reconciler.render.drift import render_drift_markdown

        return render_drift_markdown
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["render_drift_markdown", "render_json", "render_markdown", "render_text"]
