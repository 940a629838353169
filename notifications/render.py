"""Render notification templates (Jinja2, autoescaped HTML, StrictUndefined)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import markupsafe
from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, select_autoescape

from zwgk.clock import SHANGHAI, as_utc
from zwgk.config import Office, get_settings
from zwgk.periods import QUARTER_NUMERALS

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


@lru_cache(maxsize=4096)
def cn_day(d: Any) -> str:
    """2026-11-25 → 2026年11月25日 (a subject line or a 落款: no weekday)."""
    return f"{d.year}年{d.month}月{d.day}日"


def cn_time(when: Any, seconds: bool = False) -> str:
    """A moment in Shanghai time: 2026-11-30T06:05Z → 2026年11月30日 14:05 (with ``seconds``,
    14:05:00); "" for None."""
    when = as_utc(when)
    if when is None:
        return ""
    t = when.astimezone(SHANGHAI)
    return (
        f"{t.year}年{t.month}月{t.day}日 {t:%H:%M:%S}"
        if seconds
        else f"{t.year}年{t.month}月{t.day}日 {t:%H:%M}"
    )


_PERIOD_RE = re.compile(r"^([0-9]{4})(?:-(?:([0-9]{2})(?:-([0-9]{2}))?|[Qq]([1-4])))?$")


@lru_cache(maxsize=4096)
def cn_period(period: str) -> str:
    """A stored period written out: ``2026-11`` → 2026年11月, ``2026-Q4`` → 2026年第四季度,
    ``2026`` → 2026年度, and an event's date ``2026-11-05`` → 2026年11月5日. Anything else
    (a form this does not know) is returned as it is."""
    m = _PERIOD_RE.match(period.strip())
    if not m:
        return period
    year, month, day, quarter = m.groups()
    if quarter:
        return f"{year}年第{QUARTER_NUMERALS[int(quarter) - 1]}季度"
    if day:
        return f"{year}年{int(month)}月{int(day)}日"
    if month:
        return f"{year}年{int(month)}月"
    return f"{year}年度"


# markupsafe's C escaper of a str (``markupsafe.escape`` is it wrapped in a ``Markup``).
_escape_inner = getattr(markupsafe, "_escape_inner", None)


def _escape_output(value: Any) -> str:
    """What an autoescaped ``{{ … }}`` writes: ``markupsafe.escape``'s text, without making
    each piece a ``Markup`` first. A city's reminder sweep writes ~1.5 million such pieces
    into its digests and summaries, and building the ``Markup`` (a Python ``__new__``) was
    half of the HTML's rendering time or more. Output pieces are only ever joined into the page
    (Jinja emits ``escape(…)`` for nothing else), so plain text is enough."""
    kind = type(value)
    if kind is str:
        return _escape_inner(value)  # type: ignore[misc]
    if kind is int:  # digits and a sign: nothing to escape
        return str(value)
    return markupsafe.escape(value)


class _Template(Template):
    """Our templates' compiled code writes its output through ``_escape_output``."""

    @classmethod
    def _from_namespace(cls, environment: Environment, namespace: Any, globals: Any) -> Template:
        if _escape_inner is not None:  # a markupsafe without it: its own escape, same text
            namespace["escape"] = _escape_output
        return super()._from_namespace(environment, namespace, globals)  # type: ignore[misc]


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
    env.template_class = _Template
    env.filters["cn_date"] = cn_date
    env.filters["cn_day"] = cn_day
    env.filters["cn_period"] = cn_period
    return env


@lru_cache(maxsize=256)
def _template(template_dir: str, name: str) -> Template:
    """The compiled template: the obligation's own, else the shared one (looked up once;
    a city run renders thousands of mails from the same few templates)."""
    return environment().select_template([f"{template_dir}/{name}", name])


def sender_for(district: str | None, office_unit: Any = None) -> Office:
    """Who signs a mail to ``district``'s units (the 落款): the office's name, contact and
    phone from the settings (``ZWGK_OFFICES`` for the district, else ``ZWGK_OFFICE_*``);
    with no contact configured, the contact of the district's office unit in the
    directory, when the caller has it."""
    office = get_settings().office_for(district)
    contact = getattr(office_unit, "contact", "") or ""
    if not office.contact and contact:
        office = replace(office, contact=contact)
    return office


def render(kind: str, template_dir: str, **context: Any) -> Rendered:
    """Render ``<kind>.subject.txt``, ``<kind>.html`` and ``<kind>.txt``.

    An obligation's own folder (``templates/<template_dir>/``) is tried first, then the
    shared templates at the root, so an obligation only writes what differs. Templates
    are read once per process.

    Every mail is addressed to ``unit`` and signed (``_signoff.*``) by ``sender`` dated
    ``today``; ``sender`` defaults to :func:`sender_for` the unit's district (with the
    ``office`` unit, when given, as the contact of last resort).
    """
    if "sender" not in context:
        unit = context.get("unit")
        context["sender"] = sender_for(getattr(unit, "district", None), context.get("office"))
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
