"""Request input read with bounds: numbers in the address, and bodies with a ceiling.

A number in a path or query (an item's id, a page) is :func:`small_int`: ASCII digits
only and at most ``2**31 - 1``, else ``None``, which the caller shows as its 404 page or
treats as page 1; never a 500.

Bodies are read with a ceiling, whether or not the client said how long they are.

A ``Content-Length`` over the limit is refused before reading; a chunked body (no length)
is counted as it arrives and refused the moment it passes the limit, so neither fills the
disk or the memory first. The callers turn :class:`BodyTooLarge` into a Chinese 413 page
and :class:`BadBody` (a malformed form, too many parts or fields) into a Chinese 400 page,
never Starlette's English text or a 500.
"""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import ClientDisconnect, Request
from starlette.types import Message

MAX_ID = 2**31 - 1  # PostgreSQL's integer; no row id or page number comes near it


def small_int(text: str | None, *, hi: int = MAX_ID) -> int | None:
    """``text`` as a whole number from 0 to ``hi`` written in ASCII digits, else ``None``.

    ``str.isdigit`` alone lets ``²`` through (which ``int`` refuses) and ``int`` alone takes
    ``٣``, ``" 3 "``, ``"+3"`` and ``"1_000"``; a number past 64 bits overflows SQLite, and one
    past 4,300 digits makes ``int`` raise."""
    if not text or not text.isascii() or not text.isdigit() or len(text) > len(str(hi)):
        return None
    value = int(text)
    return value if value <= hi else None


class BodyTooLarge(Exception):
    """The request body is over the limit (HTTP 413)."""


class BadBody(Exception):
    """The request body is not a form we can read (HTTP 400)."""


def declared_too_large(request: Request, limit: int) -> bool:
    """The body's declared length (``Content-Length``) is over ``limit``."""
    length = request.headers.get("content-length", "")
    if not (length.isascii() and length.isdigit()):
        return False
    return len(length) > 18 or int(length) > limit


def limited(request: Request, limit: int) -> Request:
    """The same request, whose body raises :class:`BodyTooLarge` once more than ``limit``
    bytes have arrived."""
    receive = request.receive
    received = 0

    async def counting() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge
        return message

    return Request(request.scope, counting)


async def read_form(request: Request, *, limit: int, max_files: int, max_fields: int) -> FormData:
    """The multipart (or urlencoded) form, its body at most ``limit`` bytes. The caller
    closes the form (uploaded files are spooled to temporary files)."""
    if declared_too_large(request, limit):
        raise BodyTooLarge
    try:
        return await limited(request, limit).form(max_files=max_files, max_fields=max_fields)
    except (MultiPartException, HTTPException, ClientDisconnect) as exc:
        raise BadBody(str(exc)) from exc


async def read_body(request: Request, *, limit: int) -> bytes:
    """The raw body, at most ``limit`` bytes."""
    if declared_too_large(request, limit):
        raise BodyTooLarge
    try:
        return await limited(request, limit).body()
    except ClientDisconnect as exc:
        raise BadBody(str(exc)) from exc
