"""The ``zwgk`` command (管理命令), one module per command group. Messages to users are
Chinese; logs are English. ``zwgk.cli:main`` is the installed entry point."""

from zwgk.cli.root import app, main

__all__ = ["app", "main"]
