"""Renderings of a plan or a drift report: text for the terminal, Markdown for GitHub,
JSON for machines (and for `apply PLAN_FILE`)."""

from reconciler.plan import Plan
from reconciler.render.drift import render_drift_markdown
from reconciler.render.markdown import render_markdown
from reconciler.render.text import render_text


def render_json(plan: Plan) -> str:
    """The Plan itself: digest, formatVersion, per-project live fingerprints, steps with
    before/after/changes. Stable: field order is the model's, projects come sorted."""
    return plan.model_dump_json(indent=2)


__all__ = ["render_drift_markdown", "render_json", "render_markdown", "render_text"]
