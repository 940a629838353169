"""``python -m deployments`` (from the repository root) or ``python -m deployments``:
serve all obligation deployments (needs a running Prefect server, as ``zwgk serve``)."""

from zwgk.cli import main

main(["serve"])
