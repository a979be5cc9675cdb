"""Markdown written by members (engagement instructions) rendered safely.

markdown-it-py's ``js-default`` preset turns raw HTML off (it is shown as text) and
refuses ``javascript:``/``vbscript:``/``data:`` links, so a member cannot inject script
into another member's browser through its published process.
"""

from markdown_it import MarkdownIt
from markupsafe import Markup

_md = MarkdownIt("js-default")


def render_markdown(text: str | None) -> Markup:
    return Markup(_md.render(text or ""))
