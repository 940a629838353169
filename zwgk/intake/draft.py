"""The office's edited draft of the annual report (a DOCX), read for its prose."""

from __future__ import annotations

import zipfile
from pathlib import Path

from zwgk.errors import UserError


def read_docx_paragraphs(path: Path) -> list[str]:
    """The text of every paragraph of the document's body, in order (tables' cells are not
    paragraphs of the body). A missing file or one that is not a Word document is refused
    (lxml's XMLSyntaxError, for a damaged part, is a SyntaxError)."""
    from docx import Document
    from docx.opc.exceptions import PackageNotFoundError

    if not path.is_file():
        raise UserError(f"找不到文件 {path}")
    try:
        document = Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, SyntaxError):
        raise UserError(
            f"文件 {path} 不是 Word 文档（.docx）：请在 Word 或 WPS 中另存为“Word 文档（*.docx）”"
        ) from None
    return [p.text for p in document.paragraphs]
