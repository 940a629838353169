"""``python -m deployments`` (from the repository root): serve every obligation's deployment,
as ``zwgk serve`` does (needs a running Prefect server)."""

import sys

from deployments.prefect_api import default_home
from zwgk.config import get_settings
from zwgk.errors import UserError

settings = get_settings()
default_home(settings)  # before Prefect is imported: it reads its home on import

from deployments.serve import serve_registered  # noqa: E402

try:
    serve_registered(settings)
except UserError as exc:
    print(f"错误：{exc.message}", file=sys.stderr)
    sys.exit(exc.exit_code)
