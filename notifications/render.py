"""Render notification templates (Jinja2, autoescaped HTML, StrictUndefined)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, select_autoescape

TEMPLATE_DIR = Path(__file__).parent / "templates"
WEEKDAYS = "一二三四五六日"


@dataclass(frozen=True)
class Rendered:
    subject: str
    html: str
    text: str


@lru_cache(maxsize=4096)  # a mail of 100 items formats the same few dates again and again
def cn_date(d: Any) -> str:
    """2026-11-25 → 2026年11月25日（星期三）."""
    return f"{d.year}年{d.month}月{d.day}日（星期{WEEKDAYS[d.weekday()]}）"


@lru_cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["cn_date"] = cn_date
    return env


@lru_cache(maxsize=256)
def _template(template_dir: str, name: str) -> Template:
    """The compiled template: the obligation's own, else the shared one (looked up once;
    a city run renders thousands of mails from the same few templates)."""
    return environment().select_template([f"{template_dir}/{name}", name])


def render(kind: str, template_dir: str, **context: Any) -> Rendered:
    """Render ``<kind>.subject.txt``, ``<kind>.html`` and ``<kind>.txt``.

    An obligation's own folder (``templates/<template_dir>/``) is tried first, then the
    shared templates at the root, so an obligation only writes what differs. Templates
    are read once per process.
    """
    subject = " ".join(_template(template_dir, f"{kind}.subject.txt").render(**context).split())
    html = _template(template_dir, f"{kind}.html").render(**context)
    text = _template(template_dir, f"{kind}.txt").render(**context)
    return Rendered(subject=subject, html=html, text=text)


def template_names(kind: str, template_dir: str) -> list[str]:
    """Which files would render ``kind`` for an obligation (for the registry smoke test)."""
    env = environment()
    return [
        env.select_template([f"{template_dir}/{kind}{ext}", f"{kind}{ext}"]).name or ""
        for ext in (".subject.txt", ".html", ".txt")
    ]
