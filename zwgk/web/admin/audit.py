"""The audit log page (/admin/audit): newest first, 100 a page."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from zwgk.access.audit import ACTION_LABELS, entries
from zwgk.access.audit_view import actor_label, target_label, value_lines
from zwgk.db import session_scope
from zwgk.web.admin.common import Principal, page, view
from zwgk.web.limits import small_int

PAGE_SIZE = 100


def audit_page(request: Request, who: Principal) -> Response:
    """操作日志. An account limited to a district sees that district's entries only."""
    before_id = small_int(request.query_params.get("before"))
    action = request.query_params.get("action", "")
    action = action if action in ACTION_LABELS else ""
    with session_scope() as s:
        rows = entries(
            session=s,
            district=who.district,
            limit=PAGE_SIZE + 1,
            before_id=before_id,
            action=action or None,
        )
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return page(
        "admin/audit.html",
        who=who,
        rows=[
            {
                "entry": e,
                "user": actor_label(e.user),
                "target": target_label(e.target),
                "before": value_lines(e.before, e.action),
                "after": value_lines(e.after, e.action),
            }
            for e in rows
        ],
        labels=ACTION_LABELS,
        older=rows[-1].id if more and rows else None,
        first_page=before_id is None,
        action=action,
    )


routes = [Route("/audit", view(audit_page), methods=["GET"])]
