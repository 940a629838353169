"""What the Chromium tests share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def page_left(page: Any) -> Callable[[Any], bool]:
    """A wait condition: ``page`` (an element of the page shown before a click) is gone.

    Like selenium's ``staleness_of``, but chromedriver sometimes reports a node whose
    document is being replaced as "Node with given id does not belong to the document"
    (a plain WebDriverException) rather than as stale: that also means the page was left."""
    from selenium.common.exceptions import WebDriverException

    def gone(_driver: Any) -> bool:
        try:
            page.is_enabled()
        except WebDriverException:  # stale, or its document already replaced
            return True
        return False

    return gone
