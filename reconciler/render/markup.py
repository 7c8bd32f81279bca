"""Safe Markdown pieces for GitHub: escaped text, code, fences, collapsible sections."""

import html
import re
from collections.abc import Sequence

from reconciler.graph import printable

# Markdown punctuation that could start emphasis, code, a link, a table cell, strikethrough
# or an issue reference; '<', '>' and '&' are HTML-escaped instead.
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_\[\]|~#])")
_BACKTICKS = re.compile("`+")


def text(value: str) -> str:
    """Plain text that Markdown and HTML show as it is, in Markdown: a paragraph, a list
    item, a heading or a table cell."""
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", html_text(value))


def code(value: str) -> str:
    """Code in Markdown (see `text`); raw HTML's contents are still Markdown there."""
    return f"<code>{text(value)}</code>"


def html_text(value: str) -> str:
    """Plain text inside an HTML block (a line that starts with <details>): CommonMark
    reads such a block as raw HTML and never removes a Markdown backslash there, so only
    HTML escaping applies."""
    return html.escape(printable(value), quote=False)


def html_code(value: str) -> str:
    """Code inside an HTML block (see `html_text`)."""
    return f"<code>{html_text(value)}</code>"


def fence(body: str, language: str = "") -> str:
    """A fenced block that `body` cannot close: longer than any run of backticks in it."""
    longest = max((len(run) for run in _BACKTICKS.findall(body)), default=0)
    marks = "`" * max(3, longest + 1)
    return f"{marks}{language}\n{body.rstrip(chr(10))}\n{marks}\n"


def details(summary_html: str, body: str) -> str:
    """A collapsible section; the blank lines let GitHub render Markdown inside it. The
    summary is in an HTML block: build it with `html_text` and `html_code`."""
    return f"<details><summary>{summary_html}</summary>\n\n{body}\n</details>\n\n"


def table(header: Sequence[str], rows: Sequence[Sequence[str]], numeric: int = 0) -> list[str]:
    """Table lines (each ending in a newline); the last `numeric` columns align right."""
    align = ["---"] * (len(header) - numeric) + ["---:"] * numeric
    return [
        f"| {' | '.join(header)} |\n",
        f"| {' | '.join(align)} |\n",
        *(f"| {' | '.join(row)} |\n" for row in rows),
    ]
