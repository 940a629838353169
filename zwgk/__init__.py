"""zwgk: 政务公开 (government transparency) obligations as Prefect flows."""

__version__ = "0.1.0"
