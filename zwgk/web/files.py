"""Serving a stored attachment (附件) to whoever the caller has already let through."""

from __future__ import annotations

from html import escape
from pathlib import PurePath
from urllib.parse import quote

from starlette.responses import HTMLResponse, Response

from models.submission import Attachment
from workflows.submissions import open_attachment
from zwgk.config import get_settings
from zwgk.errors import UserError


def download_response(data: bytes, media_type: str, filename: str, ascii_name: str) -> Response:
    """Bytes as a download: the Chinese ``filename`` for browsers that read RFC 5987's
    ``filename*``, ``ascii_name`` for those that do not (anything but printable ASCII, and
    the quote and backslash, dropped from it: a header is Latin-1 and the name is quoted)."""
    ascii_name = "".join(c for c in ascii_name if " " <= c <= "~" and c not in '"\\') or "download"
    return Response(
        data,
        media_type=media_type,
        headers={
            "Content-Disposition": (
                f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
            ),
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def attachment_response(att: Attachment) -> Response:
    """The stored bytes, as a download named as the unit named the file."""
    try:
        data = open_attachment(att, get_settings())
    except UserError as exc:
        return HTMLResponse(f"<p>{escape(exc.message)}</p>", status_code=404)
    ascii_name = "attachment" + PurePath(att.filename).suffix.lower()
    return download_response(data, att.content_type, att.filename, ascii_name)
