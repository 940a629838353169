"""``python -m deployments`` (from the repository root) or ``python -m zwgk.deployments``:
serve all obligation deployments."""

from zwgk.cli import _prefect_env

_prefect_env()

from zwgk.deployments.serve import serve_all  # noqa: E402

serve_all()
