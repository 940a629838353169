"""Fuzzing the importers with hypothesis (issue #6): whatever file an administrator gives us,
an importer returns a result or raises the documented :class:`~zwgk.errors.UserError` — one
Chinese message naming the file (and, where there is one, the row and field) — and never a
traceback. When it refuses a file inside ``session_scope()`` the database is exactly as
before (every table's rows compared); when it accepts one, importing the same file again
changes nothing.

Importers: the unit directory (``import_units``), work plans (``import_plan`` from CSV/TSV,
XLSX and DOCX), the application register (``import_register`` from CSV and XLSX), annual
figures (``import_figures``) and holiday overrides (``import_overrides``).

Inputs are raw bytes and, mostly, *structured but wrong* files: a valid header with cells
drawn from valid values, nasty values (empty, huge, control characters, NUL, formulas,
impossible dates, huge numbers, unknown units, BOM in the middle, quotes, CR/CRLF) and random
text, written in odd encodings and sometimes damaged (truncated, bytes inserted); real
XLSX/DOCX files written with openpyxl/python-docx (random merges, typed cells), plus
truncated or corrupt zips with those extensions.

The cell parsers behind the plan importer (完成时间 → due date, 责任单位 → roles) are also
fuzzed directly from the tokens their phrases are made of, and the nastiest inputs found go
through the real ``zwgk`` command: a non-zero exit, one ``错误：…`` message, no traceback.

Reproducible: every test runs with ``derandomize=True`` (examples derived from the test
itself, the same on every run and in CI) and ``database=None`` (nothing read from or saved to
``.hypothesis/``); every example starts from the same database (the fixtures' rows are put
back), so a failure replays and shrinks. ``ZWGK_FUZZ_EXAMPLES=3000 pytest
tests/test_fuzz_importers.py`` runs more examples per test (the default, 200 per importer,
keeps the module around 30 s on SQLite, 40 s with ``--db postgresql``).
"""

from __future__ import annotations

import csv
import io
import itertools
import os
import re
import zipfile
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st
from sqlalchemy import select as sa_select
from sqlmodel import SQLModel

from tests.cli import run_subprocess
from zwgk.db import get_engine, session_scope
from zwgk.errors import UserError

EXAMPLES = int(os.environ.get("ZWGK_FUZZ_EXAMPLES", "0") or 0)


def fuzz(default: int) -> Callable[[Any], Any]:
    return settings(
        max_examples=EXAMPLES or default,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )


# --------------------------------------------------------------------------- the property


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every app table, in primary-key order."""
    with get_engine().connect() as conn:
        return {
            t.name: [tuple(r) for r in conn.execute(sa_select(t).order_by(*t.primary_key.columns))]
            for t in SQLModel.metadata.sorted_tables
        }


def restore(rows: dict[str, list[tuple[Any, ...]]]) -> None:
    """Put every table back as ``rows`` has it (examples start alike, so failures replay)."""
    tables = SQLModel.metadata.sorted_tables
    with get_engine().begin() as conn:
        for t in reversed(tables):
            conn.execute(t.delete())
        for t in tables:
            if rows[t.name]:
                conn.execute(
                    t.insert(), [dict(zip(t.columns.keys(), r, strict=True)) for r in rows[t.name]]
                )


class Workspace:
    """Per example: the database as the fixtures left it, and a fresh subdirectory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.counter = itertools.count()
        self.baseline: dict[str, list[tuple[Any, ...]]] | None = None

    def write(self, name: str, data: bytes) -> Path:
        if self.baseline is None:  # first example: every fixture (units…) is in place by now
            self.baseline = snapshot()
        restore(self.baseline)
        d = self.root / f"ex{next(self.counter)}"
        d.mkdir(parents=True)
        path = d / name
        path.write_bytes(data)
        return path


@pytest.fixture
def ws(env: Path, tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "fuzz")


def describe(path: Path) -> str:
    """The file as a person would see it, for the report of a failing example."""
    try:
        if path.suffix == ".xlsx":
            from openpyxl import load_workbook

            wb = load_workbook(path, data_only=True)
            return "\n".join(
                f"{ws.title}: {list(ws.iter_rows(values_only=True))!r} merged {ws.merged_cells.ranges}"
                for ws in wb.worksheets
            )
        if path.suffix == ".docx":
            from docx import Document

            return "\n".join(
                repr([[c.text for c in r.cells] for r in t.rows])
                for t in Document(str(path)).tables
            )
        return repr(path.read_bytes().decode("utf-8", errors="replace"))
    except Exception as exc:  # noqa: BLE001 - only a description
        return f"(unreadable: {exc!r})"


def attempt(run: Callable[[Any, Path], Any], path: Path) -> Any | None:
    """Import ``path`` in one transaction: the result, or None after a clean refusal.

    Anything but a UserError propagates (hypothesis then shrinks and reports it).
    """
    before = snapshot()
    try:
        with session_scope() as s:
            result = run(s, path)
    except UserError as exc:
        event("refused: " + exc.message.splitlines()[-1].split("：")[-1][:30])
        assert exc.message.strip(), "empty error message"
        assert path.name in exc.message, f"message does not name the file: {exc.message}"
        after = snapshot()
        changed = [t for t in before if before[t] != after[t]]
        assert not changed, f"refused import changed tables {changed}: {exc.message}"
        return None
    except BaseException:
        note(f"{path.name}: {describe(path)}")
        raise
    event("accepted")
    return result


def assert_idempotent(
    run: Callable[[Any, Path], Any], path: Path, *, ignore: tuple[str, ...] = ()
) -> Any:
    """Import ``path`` again: it must be accepted and leave every table as it was."""
    before = snapshot()
    with session_scope() as s:
        again = run(s, path)
    after = snapshot()
    changed = [t for t in before if t not in ignore and before[t] != after[t]]
    if changed:
        note(f"{path.name}: {describe(path)}")
        for t in changed:
            note(f"{t} before: {before[t]!r}\n{t} after: {after[t]!r}")
    assert not changed, f"re-importing the same file changed {changed}"
    return again


# --------------------------------------------------------------------------- cell values

HUGE = "长" * 100_000
NASTY = [
    "",
    " ",
    "\x00",
    "区教育局\x00",
    "\x00\x00\x00\x00",
    "\x01\x02\x1b\x7f",
    "\x0b\x0c",
    "=1+1",
    '=HYPERLINK("http://evil.example","x")',
    "+1",
    "-1",
    "@SUM(A1)",
    "\ufeff",
    "a\ufeffb",
    '"',
    '""',
    '"a,b"',
    'a"b',
    "\r",
    "\n",
    "\r\n",
    "a\rb",
    "a\nb",
    "\t",
    ",",
    ",,,,",
    "|",
    "｜｜",
    "  padded  ",
    "\u3000",
    "\u200b",
    "\u2028",
    "\x85",
    "0",
    "-0",
    "NaN",
    "nan",
    "inf",
    "-inf",
    "1e309",
    "-1e309",
    "1,000",
    "1_000",
    "０",
    "9" * 25,
    "9" * 5000,
    "-" + "9" * 30,
    "2026-02-30",
    "2026-13-01",
    "2026-00-10",
    "0000-01-01",
    "0001-01-01",
    "9999-12-31",
    "99999999999999999999-01-01",
    "2026-01-99999999999999999999",
    "2026-1-1-1",
    "2026/02/29",
    "2024-02-29",
    "2026-1-1",
    "2026.01.01",
    "2026-01-01 12:00:00",
    "2026-01-01T12:00",
    "20260101",
    "２０２６-０１-０１",
    "2099-12-31",
    "2100-01-01",
    "1899-12-31",
    "None",
    "null",
    "true",
    "是",
    "𠮷野家",
    "\U0001f600",
    "区" * 3000,
    "和" * 300,
    "（" * 300,
    "）（" * 100,
    "、" * 300,
    "区教育局和" * 60,
    HUGE,
]

UNIT_NAMES = [
    "区政府办公室",
    "区政府办",
    "区发展改革委",
    "区发改委",
    "区教育局",
    "华阳路街道",
    "新泾镇",
]
UNKNOWN_UNITS = [
    "区不存在局",
    "区教育局（",
    "上海市长宁区教育局",
    "由区教育局",
    "相关单位",
    "区教育局等",
]
GOOD_DATES = [
    "2026-03-01",
    "2026-11-25",
    "2025-12-31",
    "2026/02/28",
    "2024-02-29",
    "2027-01-04",
    "2000-01-01",
    "2026-03-01 00:00:00",
]
BAD_DATES = [
    "2026-02-30",
    "2026-02-29",
    "2099-12-31",
    "2098-12-31",
    "1999-12-31",
    "26-3-1",
    "2026年3月1日",
]


def nasty() -> st.SearchStrategy[str]:
    """A bad value: from the list above, random text, or a valid-looking value spliced with one."""
    return st.one_of(
        st.sampled_from(NASTY),
        st.text(max_size=20),
        st.builds(lambda a, b: a + b, st.text(max_size=5), st.sampled_from(NASTY)),
    )


# A column: (valid values, values wrong for this column); valid may be a strategy.
Column = tuple[list[str] | st.SearchStrategy[str], list[str]]


def cell(column: Column, noise: float = 0.1) -> st.SearchStrategy[str]:
    """A cell: valid except with probability ``noise`` (wrong for the column, nasty, spliced)."""
    valid, wrong = column
    good = valid if isinstance(valid, st.SearchStrategy) else st.sampled_from(valid)
    bad = st.one_of(
        st.sampled_from(wrong or NASTY),
        nasty(),
        st.builds(lambda a, b: a + b, good, st.sampled_from(NASTY)),
        st.builds(lambda a, b: a + b, st.sampled_from(NASTY), good),
    )
    if noise <= 0:
        return good
    if noise >= 1:
        return bad
    return st.randoms(use_true_random=True).flatmap(
        lambda rnd: bad if rnd.random() < noise else good
    )


def text_cell(*valid: str) -> st.SearchStrategy[str]:
    return cell((list(valid), []))


def rng(draw: st.DrawFn) -> Any:
    """A random.Random seeded by hypothesis: honest odds for the structural choices below
    (hypothesis's own draws favour boundary values and first choices), still reproducible."""
    return draw(st.randoms(use_true_random=True))


# Per file: the share of wrong cells. Often none, so that whole files get through.
NOISES = [0, 0, 0, 0, 0.02, 0.05, 0.1, 0.3, 0.8]
NO_COLUMN: Column = ([""], [])

ENCODINGS = (
    ["utf-8"] * 20 + ["utf-8-sig"] * 8 + ["gb18030"] * 8 + ["utf-16", "utf-16-le", "big5", "cp1252"]
)


RowFix = Callable[[st.DrawFn, dict[str, Any]], dict[str, Any]]  # makes related cells agree


@st.composite
def delimited_bytes(
    draw: st.DrawFn,
    header: list[str],
    columns: dict[str, Column],
    *,
    tsv: bool = False,
    fix: RowFix | None = None,
    unique: str | None = None,
) -> bytes:
    """A CSV/TSV file: a header and rows of cells, encoded, in one of three moods.

    ``clean``: every cell valid (the file should import); ``one-bad``: one cell wrong;
    ``noisy``: the header may be damaged, a share of the cells wrong, odd encodings, the
    bytes mangled.
    """
    r = rng(draw)
    mood = r.choice(["clean", "one-bad", "noisy", "noisy"])
    header = list(header)
    if mood == "noisy" and r.random() < 0.2:  # drop, shuffle or add header columns
        r.shuffle(header)
        if r.random() < 0.5:
            del header[r.randrange(len(header))]
        if r.random() < 0.5:
            header.append(r.choice(["extra", "", "NAME", " kind ", "\ufeffname"]))
    noise = r.choice(NOISES) if mood == "noisy" else 0
    rows = draw(
        st.lists(
            st.fixed_dictionaries(
                {h: cell(columns.get(h.strip().lower(), NO_COLUMN), noise) for h in header}
            ),
            min_size=1 if mood != "noisy" else 0,
            max_size=8,
            # Outside the noisy mood, the column that must be unique is (duplicates: noisy).
            unique_by=(lambda row: row.get(unique)) if unique and mood != "noisy" else None,
        )
    )
    if fix is not None:
        rows = [fix(draw, row) for row in rows]
    if mood == "one-bad":
        h = r.choice(header)
        rows[r.randrange(len(rows))][h] = draw(cell(columns.get(h.strip().lower(), NO_COLUMN), 1))
    lines = [header] + [[row[h] for h in header] for row in rows]
    if mood == "noisy" and lines[1:] and r.random() < 0.2:  # duplicate a row
        lines.append(list(r.choice(lines[1:])))
    if mood == "noisy" and r.random() < 0.1:  # ragged rows
        lines = [ln[: r.randint(0, len(ln))] + [""] * r.randint(0, 2) for ln in lines]
    terminator = r.choice(["\n", "\r\n", "\r", "\n\n"])
    delimiter = "\t" if tsv else r.choice([","] * 8 + ["\t", ";"] * (mood == "noisy"))
    style = r.choice(["minimal", "minimal", "all"] + ["raw"] * (mood == "noisy"))
    if style == "raw":  # no quoting at all: cells with quotes and separators break the grid
        text = terminator.join(delimiter.join(ln) for ln in lines)
    else:
        buf = io.StringIO()
        quoting = csv.QUOTE_ALL if style == "all" else csv.QUOTE_MINIMAL
        csv.writer(buf, delimiter=delimiter, lineterminator=terminator, quoting=quoting).writerows(
            lines
        )
        text = buf.getvalue()
    encoding = r.choice(ENCODINGS if mood == "noisy" else ["utf-8", "utf-8-sig", "gb18030"])
    errors = "surrogatepass" if encoding.startswith("utf-8") else "replace"
    data = text.encode(encoding, errors=errors)
    return draw(mangled(data)) if mood == "noisy" else data


@st.composite
def mangled(draw: st.DrawFn, data: bytes) -> bytes:
    """Mostly the bytes as they are; sometimes truncated, spliced with junk or a mid-file BOM."""
    r = rng(draw)
    how = r.choice(["as-is"] * 16 + ["truncate", "insert", "bom", "flip"])
    if how == "as-is" or not data:
        return data
    at = r.randint(0, len(data))
    if how == "truncate":
        return data[:at]
    if how == "insert":
        return data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
    if how == "bom":
        return data[:at] + b"\xef\xbb\xbf" + data[at:]
    i = min(at, len(data) - 1)
    return data[:i] + bytes([data[i] ^ r.randint(1, 255)]) + data[i + 1 :]


def mostly(
    structured: st.SearchStrategy[Any], raw: st.SearchStrategy[Any]
) -> st.SearchStrategy[Any]:
    """Structured files four times in five, raw garbage otherwise."""
    return st.randoms(use_true_random=True).flatmap(
        lambda rnd: raw if rnd.random() < 0.2 else structured
    )


def raw_bytes() -> st.SearchStrategy[bytes]:
    return st.one_of(
        st.binary(max_size=300),
        st.sampled_from(
            [
                b"",
                b"\xef\xbb\xbf",
                b"\xff\xfe",
                b"\x00" * 50,
                b"PK\x03\x04",
                b"PK\x05\x06" + b"\x00" * 18,
                b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100,  # an old .xls/.doc
                b"<html><body>not a spreadsheet</body></html>",
                b'"unterminated,quote\n',
            ]
        ),
    )


XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """What openpyxl/python-docx can store: no control characters (XML 1.0 forbids them)."""
    return XML_ILLEGAL.sub("", text)


def typed_cell(column: Column, noise: float) -> st.SearchStrategy[Any]:
    """An XLSX cell value: text (formulas included) or a number, date, bool or nothing."""
    text = cell(column, noise).map(xml_safe).map(lambda s: s[:32767])
    typed = st.one_of(
        st.none(),
        st.integers(-(2**40), 2**40),
        st.floats(allow_nan=False, allow_infinity=False),
        st.datetimes(min_value=datetime(1900, 3, 1), max_value=datetime(9999, 1, 1)),
        st.dates(min_value=date(1900, 3, 1)),
        st.booleans(),
    )
    if noise <= 0:
        return text
    return st.randoms(use_true_random=True).flatmap(
        lambda rnd: typed if rnd.random() < noise else text
    )


@st.composite
def xlsx_bytes(
    draw: st.DrawFn, header: list[str], columns: dict[str, Column], fix: RowFix | None = None
) -> bytes:
    from openpyxl import Workbook

    r = rng(draw)
    wb = Workbook()
    if r.random() < 0.3:  # the table on another sheet, or a sheet after it
        wb.create_sheet(r.choice(["Sheet2", "说明", "任务分解表"]))
    target = r.choice(wb.worksheets)
    if r.random() < 0.2:  # a title row above the header
        target.append([xml_safe(draw(text_cell("2026年政务公开工作要点任务分解表", "")))])
    target.append(header)
    noise = r.choice(NOISES)
    for _ in range(draw(st.integers(0, 8))):
        row = {h: draw(typed_cell(columns.get(h, NO_COLUMN), noise)) for h in header}
        if fix is not None:
            row = fix(draw, row)
        target.append([row[h] for h in header])
    if r.random() < 0.25:  # random merges, possibly over the header
        for _ in range(r.randint(1, 3)):
            r1, c1 = r.randint(1, 10), r.randint(1, len(header) + 1)
            r2, c2 = r1 + r.randint(0, 3), c1 + r.randint(0, 3)
            if all(
                r2 < m.min_row or r1 > m.max_row or c2 < m.min_col or c1 > m.max_col
                for m in target.merged_cells.ranges
            ):
                target.merge_cells(start_row=r1, start_column=c1, end_row=r2, end_column=c2)
    buf = io.BytesIO()
    wb.save(buf)
    return draw(zip_damage(buf.getvalue()))


@st.composite
def zip_damage(draw: st.DrawFn, data: bytes) -> bytes:
    """The zip as it is, or truncated, or with one member's bytes cut or replaced."""
    r = rng(draw)
    how = r.choice(["as-is"] * 12 + ["truncate", "flip", "member"])
    if how == "as-is":
        return data
    if how == "truncate":
        return data[: r.randrange(len(data))]
    if how == "flip":
        i = r.randrange(len(data))
        return data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1 :]
    src = zipfile.ZipFile(io.BytesIO(data))
    names = src.namelist()
    victim = r.choice(names)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for n in names:
            body = src.read(n)
            if n == victim:
                body = r.choice([b"", body[: len(body) // 2], b"<x>", b"\x00\xff"])
            dst.writestr(n, body)
    return out.getvalue()


@st.composite
def docx_bytes(draw: st.DrawFn, header: list[str], columns: dict[str, Column]) -> bytes:
    from docx import Document

    r = rng(draw)
    doc = Document()
    doc.add_paragraph(xml_safe(draw(text_cell("关于印发2026年工作要点的通知", ""))))
    for _ in range(r.choice([0, 0, 0, 1, 2])):  # tables before (a signature block…)
        t = doc.add_table(rows=1, cols=2)
        t.cell(0, 0).text = xml_safe(draw(text_cell("联系人", "序号")))
    noise = r.choice(NOISES)
    nrows = draw(st.integers(0, 7))
    table = doc.add_table(rows=nrows + 1, cols=len(header))
    for j, h in enumerate(header):
        table.cell(0, j).text = h
    for i in range(1, nrows + 1):
        for j, h in enumerate(header):
            table.cell(i, j).text = xml_safe(draw(cell(columns.get(h, NO_COLUMN), noise)))
    if nrows and r.random() < 0.25:  # vertical and horizontal merges
        for _ in range(r.randint(1, 2)):
            i, j = r.randint(1, nrows), r.randrange(len(header))
            i2 = min(nrows, i + r.randint(0, 2))
            j2 = min(len(header) - 1, j + r.randint(0, 2))
            try:
                table.cell(i, j).merge(table.cell(i2, j2))
            except Exception:  # noqa: BLE001 - overlapping merges are not allowed; skip
                pass
    buf = io.BytesIO()
    doc.save(buf)
    return draw(zip_damage(buf.getvalue()))


# --------------------------------------------------------------------------- units directory

UNIT_HEADER = ["name", "aliases", "kind", "email", "contact", "groups"]
UNIT_COLUMNS: dict[str, Column] = {
    "name": (
        st.one_of(
            st.sampled_from(["区政府办公室", "区教育局", "江苏路街道", "虹桥镇", "临空园区"]),
            st.integers(1, 10**6).map(lambda n: f"区第{n}局"),
        ),
        ["", "区新设局\x00", "区" * 101, "区教育局", "区第1局"],
    ),
    "aliases": (
        st.one_of(st.just(""), st.integers(1, 10**6).map(lambda n: f"区别名{n}|区又名{n}")),
        ["区教育局", "区发改委", "区审计局|区教育局", "区府办", "||", "委" * 120],
    ),
    "kind": (
        ["office", "department", "street", "town", "park", "部门", "街道", "OFFICE", "委办局"],
        ["bureau", "", "镇街"],
    ),
    "email": (
        ["a@test.example.gov.cn", "jyj@test.example.gov.cn", "kw@test.example.gov.cn"],
        ["x@y", "a@b.c", "a @b.cn", "a@b.cn\n", "", "a@b.cn,c@d.cn"],
    ),
    "contact": (["王静", "", "李明 021-12345678"], ["联" * 201]),
    "groups": (["", "", "各委办局", "重点部门|窗口单位"], ["|"]),
}


def _units(s: Any, path: Path) -> Any:
    from zwgk.intake.directory import import_units

    return import_units(session=s, path=path, district="测试区")


@fuzz(200)
@given(data=mostly(delimited_bytes(UNIT_HEADER, UNIT_COLUMNS, unique="name"), raw_bytes()))
def test_units_import_never_crashes(directory: str, ws: Workspace, data: bytes) -> None:
    path = ws.write("units.csv", data)
    result = attempt(_units, path)
    if result is not None:
        again = assert_idempotent(_units, path)
        assert (again.created, again.updated) == (0, 0)


# --------------------------------------------------------------------------- holiday overrides

HOLIDAY_HEADER = ["date", "kind", "name"]
HOLIDAY_COLUMNS: dict[str, Column] = {
    "date": (
        st.one_of(
            st.sampled_from(GOOD_DATES), st.dates(date(2000, 1, 1), date(2098, 12, 31)).map(str)
        ),
        BAD_DATES,
    ),
    "kind": (["holiday", "workday", "放假", "上班", "HOLIDAY", "班"], ["vacation", ""]),
    "name": (["元旦", "春节调休", ""], []),
}


def _holidays(s: Any, path: Path) -> Any:
    from zwgk.intake.holidays import import_overrides

    return import_overrides(session=s, path=path)


@fuzz(200)
@given(data=mostly(delimited_bytes(HOLIDAY_HEADER, HOLIDAY_COLUMNS, unique="date"), raw_bytes()))
def test_holiday_overrides_import_never_crashes(env: Path, ws: Workspace, data: bytes) -> None:
    path = ws.write("holidays.csv", data)
    if attempt(_holidays, path) is not None:
        assert_idempotent(_holidays, path)


# --------------------------------------------------------------------------- annual figures

FIGURE_HEADER = ["unit", "year", "table", "row", "column", "value"]
FIGURE_COLUMNS: dict[str, Column] = {
    "unit": (UNIT_NAMES, UNKNOWN_UNITS),
    "year": (
        ["2026", "2025", "2024"],
        ["0", "-1", "2026.0", "99999999999999999999", "20260", "２０２６"],
    ),
    "table": (["table2", "table2", "table3", "table4"], ["table5", "TABLE2"]),
    "row": (["规章", "行政规范性文件", "行政许可", "本年新收", "行政复议"], ["不存在"]),
    "column": (["本年制发件数", "本年废止件数", "自然人", "结果维持", "总计"], ["不存在"]),
    "value": (["0", "3", "2.5", "1,200", "1e6"], ["-1", "nan", "inf", "1e309", "1e308", "9" * 400]),
}


CELLS = [
    ("table2", "规章", "本年制发件数"),
    ("table2", "行政事业性收费", "本年收费金额（万元）"),
    ("table3", "本年新收", "自然人"),
    ("table3", "不予公开/属于国家秘密", "总计"),
    ("table4", "行政复议", "结果维持"),
]


def figure_cell(draw: st.DrawFn, row: dict[str, Any]) -> dict[str, Any]:
    """Mostly a cell that exists (table, row and column agree)."""
    r = rng(draw)
    if r.random() < 0.97:
        table, name, column = r.choice(CELLS)
        row = {**row, "table": table, "row": name, "column": column}
    return row


def _figures(s: Any, path: Path) -> Any:
    from zwgk.intake.figures import import_figures

    return import_figures(session=s, path=path, district=None)


@fuzz(200)
@given(data=mostly(delimited_bytes(FIGURE_HEADER, FIGURE_COLUMNS, fix=figure_cell), raw_bytes()))
def test_annual_figures_import_never_crashes(directory: str, ws: Workspace, data: bytes) -> None:
    path = ws.write("figures.csv", data)
    if attempt(_figures, path) is not None:
        assert_idempotent(_figures, path)


# --------------------------------------------------------------------------- register

REGISTER_HEADER = ["unit", "received", "applicant_type", "outcome", "replied", "ref", "extended"]
REGISTER_COLUMNS: dict[str, Column] = {
    "unit": (UNIT_NAMES, UNKNOWN_UNITS),
    "received": (GOOD_DATES, BAD_DATES),
    "applicant_type": (["自然人", "商业企业", "法人", "其他", "科研机构"], ["个体户", ""]),
    "outcome": (
        ["", "", "", ""],
        ["予以公开", "不予公开/属于国家秘密", "部分予以公开", "不予公开"],
    ),
    "replied": ([""], BAD_DATES),
    "ref": (["", "YSQ-00001", "YSQ-00002", "长教〔2026〕1号"], []),
    "extended": (["", "yes", "是", "no", "1"], []),
}
OUTCOMES = [
    "予以公开",
    "不予公开/属于国家秘密",
    "属于国家秘密",
    "无法提供-本机关不掌握相关政府信息",
    "其他处理/其他",
]


def answered(draw: st.DrawFn, row: dict[str, Any]) -> dict[str, Any]:
    """Half the time, a request answered 0–60 days after it came in (outcome and reply agree)."""
    received = row.get("received")
    try:
        day = date.fromisoformat(str(received).replace("/", "-")[:10])
    except ValueError:
        return row
    if day.year > 9000:
        return row
    r = rng(draw)
    if r.random() < 0.5:
        reply = day + timedelta(days=r.randint(0, 60))
        row = {**row, "outcome": draw(st.sampled_from(OUTCOMES)), "replied": reply.isoformat()}
    return row


def _register(s: Any, path: Path) -> Any:
    from zwgk.config import get_settings
    from zwgk.intake.register import import_register

    return import_register(
        session=s, path=path, district=None, settings=get_settings(), today=date(2026, 11, 18)
    )


@fuzz(200)
@given(
    name_data=mostly(
        st.one_of(
            st.tuples(
                st.just("register.csv"),
                delimited_bytes(REGISTER_HEADER, REGISTER_COLUMNS, fix=answered),
            ),
            st.tuples(
                st.just("register.xlsx"),
                xlsx_bytes(REGISTER_HEADER, REGISTER_COLUMNS, fix=answered),
            ),
        ),
        st.tuples(st.sampled_from(["register.csv", "register.xlsx", "register.xls"]), raw_bytes()),
    )
)
def test_register_import_never_crashes(
    directory: str, ws: Workspace, name_data: tuple[str, bytes]
) -> None:
    name, data = name_data
    path = ws.write(name, data)
    if attempt(_register, path) is not None:
        again = assert_idempotent(_register, path)
        assert (again.created, again.updated) == (0, 0)


# --------------------------------------------------------------------------- work plans

PLAN_HEADERS = {
    "序号": ["序号", "编号"],
    "任务名称": ["任务名称", "工作重点", "主要任务"],
    "任务类别": ["任务类别", "类别"],
    "具体内容": ["具体内容", "任务内容"],
    "责任单位": ["责任单位", "牵头单位"],
    "完成时间": ["完成时间", "时间节点"],
}
DEADLINES: Column = (
    [
        "全年",
        "8月",
        "6月底前",
        "3月中旬前",
        "2月20日前",
        "年底前",
        "次年一季度",
        "本文印发30日内",
        "印发后10个工作日内",
        "每季度",
        "每月25日",
        "6月底前、12月底前",
        "2月29日",
        "2027年3月底前",
        "2026-12-31",
        "十二月底前",
    ],
    [
        "2月30日前",
        "13月",
        "0000年3月底前",
        "9999年12月底前",
        "9999-12-31",
        "0000-01-01",
        "2098年12月20日前",
        "次年12月底",
        "二十十月底",
        "十十月",
        "印发后99999999999个工作日内",
        "印发后9999个工作日内",
        "印发后99999999999日内",
        "印发后" + "9" * 5000 + "日内",
        "9" * 5000 + "月",
        "每月99999999999999999999日",
        "每月31日",
        "3月1日至2月1日",
        "30日内",
        "",
    ],
)
PLAN_UNITS: Column = (
    [
        "区教育局",
        "区政府办公室牵头，区发改委配合",
        "区政府各部门、各街镇",
        "牵头单位：区发改委；责任单位：各单位",
        "相关单位",
        "区教育局（牵头）、新泾镇",
        "区教育局和区发改委",
        "上海市长宁区教育局",
        "区政府办公室（政务公开办）",
    ],
    [
        "区不存在局",
        "由区教育局",
        "区新设局、区另一局牵头",
        "区教育局（区不存在局）",
        "区" * 150,
        "和" * 200,
        "区教育局和" * 80,
        "区教育局 " * 200,
    ],
)
PLAN_COLUMNS: dict[str, Column] = {
    "序号": (["1", "2", "2", "3", "", "4"], ["一、", "（一）", "1.1"]),
    "任务名称": (["推进决策公开", "", "加强政策解读"], ["一、重点领域信息公开"]),
    "任务类别": (["决策公开", ""], []),
    "具体内容": (["按要求公开重大行政决策事项目录。", "", "做好政策解读。"], ["（二）平台建设"]),
    "责任单位": PLAN_UNITS,
    "完成时间": DEADLINES,
}


@st.composite
def plan_header(draw: st.DrawFn) -> list[str]:
    keys = list(PLAN_HEADERS)
    r = rng(draw)
    if r.random() < 0.15:
        r.shuffle(keys)
        if r.random() < 0.5:
            del keys[r.randrange(len(keys))]
    return keys


@st.composite
def plan_file(draw: st.DrawFn) -> tuple[str, bytes]:
    keys = draw(plan_header())
    header = [draw(st.sampled_from(PLAN_HEADERS[k])) for k in keys]
    columns = {h: PLAN_COLUMNS[k] for h, k in zip(header, keys, strict=True)}
    fmt = rng(draw).choice(["csv", "csv", "tsv", "xlsx", "xlsx", "docx", "docx", "raw"])
    if fmt == "csv":
        return "plan.csv", draw(delimited_bytes(header, columns))
    if fmt == "tsv":
        return "plan.tsv", draw(delimited_bytes(header, columns, tsv=True))
    if fmt == "xlsx":
        return "plan.xlsx", draw(xlsx_bytes(header, columns))
    if fmt == "docx":
        return "plan.docx", draw(docx_bytes(header, columns))
    name = draw(
        st.sampled_from(["plan.xlsx", "plan.docx", "plan.csv", "plan.xls", "plan.pdf", "plan"])
    )
    return name, draw(raw_bytes())


@fuzz(200)
@given(
    name_data=plan_file(),
    options=st.fixed_dictionaries(
        {
            "lenient": st.booleans(),
            "create_unknown": st.booleans(),
            "dry_run": st.sampled_from([False, False, True]),
            "table": st.sampled_from([None, None, None, 1, 2, 0, -1]),
        }
    ),
)
def test_plan_import_never_crashes(
    directory: str, ws: Workspace, name_data: tuple[str, bytes], options: dict[str, Any]
) -> None:
    from workflows.workcal import load_calendar
    from zwgk.intake.plan.importer import import_plan

    def run(s: Any, path: Path) -> Any:
        return import_plan(
            session=s,
            path=path,
            district=directory,
            year=2026,
            issued=date(2026, 3, 30),
            cal=load_calendar(s),
            **options,
        )

    name, data = name_data
    path = ws.write(name, data)
    before = snapshot()
    report = attempt(run, path)
    if report is None:
        return
    if options["dry_run"]:
        assert snapshot() == before, "a dry run wrote to the database"
        return
    if report.created_units:
        # The first import notes "已自动新增" on the tasks naming a unit it created; the
        # second finds those units in the directory and drops the note. Then it is stable.
        with session_scope() as s:
            run(s, path)
    # Plan.revision and imported_at record every import; the tasks must not change.
    again = assert_idempotent(run, path, ignore=("plan",))
    assert (again.created, again.updated, again.retired) == (0, 0, 0)
    assert again.created_units == []


# --------------------------------------------------------------------------- the real CLI


def assert_clean_failure(args: list[str], *fragments: str) -> None:
    r = run_subprocess(*args)
    assert r.code != 0, r.out
    assert "Traceback" not in r.err, r.err
    lines = [ln for ln in r.err.splitlines() if ln.strip()]
    assert lines and lines[0].startswith("错误："), r.err
    assert len([ln for ln in lines if ln.startswith("错误：")]) == 1, r.err
    for f in fragments:
        assert f in r.err, (f, r.err)


def test_cli_units_utf16_file(directory: str, tmp_path: Path) -> None:
    """Notepad's "Unicode" is UTF-16: without a BOM, it decodes as UTF-8 full of NULs."""
    path = tmp_path / "units.csv"
    path.write_bytes(
        "name,aliases,kind,email,contact,groups\n区教育局,,department,a@b.cn,,\n".encode(
            "utf-16-le"
        )
    )
    assert_clean_failure(["units", "import", str(path), "--district", directory], str(path))


def test_cli_holidays_huge_year(env: Path, tmp_path: Path) -> None:
    path = tmp_path / "holidays.csv"
    path.write_text("date,kind,name\n99999999999999999999-01-01,holiday,元旦\n", encoding="utf-8")
    assert_clean_failure(
        ["calendar", "holidays", "import", str(path)], str(path), "第 2 行", "date"
    )


def test_cli_annual_figures_huge_year_and_nan(directory: str, tmp_path: Path) -> None:
    path = tmp_path / "figures.csv"
    path.write_text(
        "unit,year,table,row,column,value\n"
        "区教育局,99999999999999999999,table2,规章,本年制发件数,1\n"
        "区教育局,2026,table2,规章,本年制发件数,nan\n",
        encoding="utf-8",
    )
    assert_clean_failure(
        ["annual", "import", str(path)], str(path), "第 2 行", "year", "第 3 行", "value"
    )


def test_cli_register_date_beyond_calendar(directory: str, tmp_path: Path) -> None:
    path = tmp_path / "register.csv"
    path.write_text(
        "unit,received,applicant_type,outcome,replied\n区教育局,2099-12-31,自然人,,\n",
        encoding="utf-8",
    )
    assert_clean_failure(["applications", "import", str(path)], str(path), "第 2 行", "received")


def test_cli_register_nul_in_ref(directory: str, tmp_path: Path) -> None:
    path = tmp_path / "register.csv"
    path.write_bytes(
        "unit,received,applicant_type,outcome,replied,ref\n区教育局,2026-03-02,自然人,,,A\x00B\n".encode()
    )
    assert_clean_failure(["applications", "import", str(path)], str(path), "第 2 行", "ref")


@pytest.mark.parametrize(
    ("deadline", "fragment"),
    [("印发后99999999999个工作日内", "99999999999"), ("0000年3月底前", "0000")],
)
def test_cli_plan_absurd_deadline(
    directory: str, tmp_path: Path, deadline: str, fragment: str
) -> None:
    path = tmp_path / "plan.csv"
    path.write_text(
        f"序号,任务名称,责任单位,完成时间\n1,推进决策公开,区教育局,{deadline}\n", encoding="utf-8"
    )
    assert_clean_failure(
        [
            "plan",
            "import",
            str(path),
            "--district",
            directory,
            "--year",
            "2026",
            "--issued",
            "2026-03-30",
        ],
        str(path),
        fragment,
    )


def test_cli_plan_truncated_xlsx(directory: str, tmp_path: Path) -> None:
    src = Path(__file__).parent / "fixtures" / "plans" / "changning-2022.xlsx"
    path = tmp_path / "plan.xlsx"
    path.write_bytes(src.read_bytes()[:2000])
    assert_clean_failure(
        [
            "plan",
            "import",
            str(path),
            "--district",
            directory,
            "--year",
            "2026",
            "--issued",
            "2026-03-30",
        ],
        str(path),
    )


# --------------------------------------------------------------------------- the cell parsers

# The pieces deadline and unit phrases are made of, for phrases the seed tables never had.
DEADLINE_TOKENS = [
    *"0123456789０１２一二三十两〇月日号年前底末内旬上中下季度半、，,;；和及（）()",
    "2026",
    "2098",
    "2099",
    "0000",
    "9999",
    "99999",
    "次年",
    "明年",
    "印发后",
    "本文印发",
    "个工作日",
    "工作日",
    "天",
    "每月",
    "每季度",
    "全年",
    "年底前",
    "上半年",
    "至",
    "-",
    "~",
    "月底前",
    "中旬",
    "第",
    "季度",
    "完成",
    "。",
    " ",
    "\n",
    "\u3000",
]
UNIT_TOKENS = [
    "区教育局",
    "区发改委",
    "区政府办公室",
    "新泾镇",
    "华阳路街道",
    "区政府各部门",
    "各街镇",
    "各单位",
    "相关单位",
    "牵头",
    "负责",
    "配合",
    "牵头单位：",
    "责任单位：",
    "配合单位：",
    "（",
    "）",
    "(",
    ")",
    "、",
    "，",
    "；",
    "和",
    "及",
    "与",
    "等",
    "由",
    "区",
    "各",
    "镇",
    "街道",
    "办事处",
    "人民政府",
    "上海市长宁区",
    " ",
    "\n",
    "/",
    "：",
    "部门",
    "单位",
]


@fuzz(400)
@given(tokens=st.lists(st.sampled_from(DEADLINE_TOKENS), max_size=12))
def test_deadline_phrases_parse_or_refuse(tokens: list[str]) -> None:
    """Any 完成时间 cell gives a due date in the calendar's years or a DeadlineError."""
    from workflows.workcal import WorkCalendar
    from zwgk.intake.plan.deadlines import DeadlineError, parse_deadline
    from zwgk.intake.tabular import FIRST_YEAR, LAST_YEAR

    cal = WorkCalendar()
    try:
        spec = parse_deadline(
            "".join(tokens),
            year=2026,
            issued=date(2026, 3, 30),
            add_workdays=lambda d, n: cal.add_workdays(d, n).date,
        )
    except DeadlineError as exc:
        assert str(exc).strip()
        return
    assert spec.due is not None and FIRST_YEAR <= spec.due.year <= LAST_YEAR + 1


@fuzz(300)
@given(tokens=st.lists(st.sampled_from(UNIT_TOKENS), max_size=40))
def test_unit_phrases_never_raise(tokens: list[str]) -> None:
    """Any 责任单位 cell resolves to roles and unknown names; it never raises."""
    from zwgk.intake.plan.unitphrases import parse_units
    from zwgk.intake.plan.unitresolve import DirectoryEntry

    directory = [
        DirectoryEntry("区政府办公室", ("区政府办",), "office"),
        DirectoryEntry("区发展改革委", ("区发改委",), "department"),
        DirectoryEntry("区教育局", (), "department"),
        DirectoryEntry("华阳路街道", (), "street"),
        DirectoryEntry("新泾镇", (), "town"),
    ]
    result = parse_units("".join(tokens), directory)
    assert set(result.cooperating_units).isdisjoint(result.units)


@pytest.mark.parametrize(
    "text",
    [
        "和" * 2000,
        "区教育局和" * 400,
        "区教育局 " * 1000,
        "（" * 2000,
        "区教育局、" * 1000,
        "等" * 2000,
    ],
)
@pytest.mark.timeout(60)
def test_unit_phrases_long_cells_end(text: str) -> None:
    """A pasted paragraph in the 责任单位 column is parsed, not backtracked through for ever.
    Its cost is the benchmark's business; this only guards against a pattern that never ends
    (pytest-timeout fails the test after a minute, far beyond any sane parse) and checks the
    one name in it is found once."""
    from zwgk.intake.plan.unitphrases import parse_units
    from zwgk.intake.plan.unitresolve import DirectoryEntry

    result = parse_units(text, [DirectoryEntry("区教育局", (), "department")])
    assert set(result.units) <= {"区教育局"}
    if "区教育局" in text:
        assert list(result.units) == ["区教育局"]


def test_create_unknown_never_adds_a_unit_twice(env: Path, tmp_path: Path) -> None:
    """A directory name the phrase parser cannot reach (由… is read as a preposition) comes back
    as "unknown"; --create-unknown must refuse it, not insert a second 由新局 (IntegrityError)."""
    from tests.factories import write_units_csv
    from workflows.workcal import load_calendar
    from zwgk.intake.directory import import_units
    from zwgk.intake.plan.importer import import_plan

    units = write_units_csv(
        tmp_path / "units.csv", [["由新局", "", "department", "yxj@test.example.gov.cn", "", ""]]
    )
    with session_scope() as s:
        import_units(session=s, path=units, district="测试区")
    plan = tmp_path / "plan.csv"
    plan.write_text(
        "序号,任务名称,责任单位,完成时间\n1,推进决策公开,由新局,年底前\n", encoding="utf-8"
    )

    def run(s: Any, path: Path) -> Any:
        return import_plan(
            session=s,
            path=path,
            district="测试区",
            year=2026,
            issued=date(2026, 3, 30),
            cal=load_calendar(s),
            create_unknown=True,
        )

    before = snapshot()
    with pytest.raises(UserError, match="由新局"), session_scope() as s:
        run(s, plan)
    assert snapshot() == before
