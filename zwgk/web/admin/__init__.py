"""The office's workbench (政务公开工作台) under /admin: accounts, dashboard, audit log.

One module per area (auth, dashboard, audit, imports, review, reports, runs, outbox);
:func:`mount` puts them under ``/admin`` with the session middleware, which only this part
of the site uses.
"""

from __future__ import annotations

import logging

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import Mount

from zwgk.config import get_settings
from zwgk.web.admin import audit, auth, dashboard, imports, outbox, reports, review, runs
from zwgk.web.admin.common import SESSION_COOKIE, session_secret

# The cookie's own lifetime; inactivity ends a session much sooner (common.current).
COOKIE_MAX_AGE = 12 * 3600


def _log_to_stderr() -> None:
    """Lockouts and other account events reach the server's log (``var/log/web.log`` under
    ``make run``): the CLI quiets the ``zwgk`` loggers, the web server wants these."""
    log = logging.getLogger("zwgk.access")
    if not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)


def mount() -> Mount:
    _log_to_stderr()
    settings = get_settings()
    app = Starlette(
        routes=[
            *auth.routes,
            *dashboard.routes,
            *audit.routes,
            *imports.routes,
            *review.routes,
            *reports.routes,
            *runs.routes,
            *outbox.routes,
        ],
        middleware=[
            Middleware(
                SessionMiddleware,
                secret_key=session_secret(settings),
                session_cookie=SESSION_COOKIE,
                max_age=COOKIE_MAX_AGE,
                path="/admin",
                same_site="lax",
                https_only=settings.web_base_url.lower().startswith("https://"),
            )
        ],
    )
    return Mount("/admin", app=app)
