"""The numbers in an annual report's prose (section 一) read against its tables: the extractor
on real published wording (seed 003, 长宁区 2024; 平潭综合实验区 2021–2023), and
``zwgk annual check --docx`` on the office's edited draft."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli import Result, run_inprocess
from tests.seeds import seed_text
from tests.test_annual_printed import FIXTURE as CHANGNING_2024
from tests.test_annual_printed import _carry_2023
from zwgk.reports.annual_check_prose import extract_claims

PINGTAN = Path(__file__).parent / "fixtures" / "annual"
UNIT = "区政府办公室"

# 平潭综合实验区's reports, section 一（二）依申请公开方面, as published (sources in the
# fixtures' headers). 2022 states 75 received and 72 from 自然人 where its table 三 has 74 new
# (71 自然人) and 1 carried over: a real disagreement a reviewer would raise.
PINGTAN_2021 = "本年度全区共收到70件申请，及时依法依规办结69件，1件结转下年度继续办理。"
PINGTAN_2022 = (
    "2022年，全区收到政府信息公开申请75件，涉及自然人72件、商业企业3件，均在法定期限内予以答复，"
    "办结率100%。三是加强行政复议、行政诉讼案件的处理工作。2022年，全区政府信息公开工作方面共有"
    "行政诉讼案件1件、行政复议案件2件，均已结案。"
)
PINGTAN_2023 = (
    "2023年全区接收通过邮寄、网络提交的各类政府信息公开申请共计81件，涉及自然人80件、商业企业1件。"
    "办结依申请公开81件，其中：予以公开及部分公开42件，占51.85%；不予公开5件，占6.17%；无法提供31件，"
    "占38.27%；不予处理1件，占1.23%；其他处理2件，占2.47%；因政府信息公开引起的行政复议案件2件、"
    "行政诉讼案件7件。"
)


def _pairs(paragraphs: list[str], year: int) -> list[tuple[str, float, int]]:
    return [(c.key, c.value, c.year) for c in extract_claims(paragraphs, year)]


def _seed_paragraphs() -> list[str]:
    return [line for line in seed_text("003").splitlines() if line.strip()]


def test_seed_003_claims_are_read_and_nothing_else() -> None:
    got = _pairs(_seed_paragraphs(), 2024)
    assert got == [
        ("change", 31.37, 2024),
        ("new", 1026, 2024),
        ("handled", 1016, 2024),
        ("carried_in", 32, 2024),  # 「含上年度转结 32 件」, the report's own typo
        ("carried_out", 42, 2024),
        ("group:予以公开及部分公开", 297, 2024),
        ("share:予以公开及部分公开", 29.23, 2024),
        ("group:不予公开", 80, 2024),
        ("share:不予公开", 7.87, 2024),
        ("group:无法提供", 420, 2024),
        ("share:无法提供", 41.34, 2024),
        ("group:不予处理", 26, 2024),
        ("share:不予处理", 2.56, 2024),
        ("group:其他处理", 193, 2024),  # not 「其中申请人主动撤销 153 件」
        ("share:其他处理", 19, 2024),
        ("review", 56, 2024),
        ("review:corrected", 10, 2024),
        ("suit", 50, 2024),
        ("suit:corrected", 1, 2024),
    ]


def test_published_phrasings_of_another_district() -> None:
    assert _pairs([PINGTAN_2021], 2021) == [
        ("new", 70, 2021),
        ("handled", 69, 2021),
        ("carried_out", 1, 2021),
    ]
    assert _pairs([PINGTAN_2022], 2022) == [
        ("new", 75, 2022),
        ("new:自然人", 72, 2022),
        ("new:商业企业", 3, 2022),
        ("suit", 1, 2022),
        ("review", 2, 2022),
    ]
    got = _pairs([PINGTAN_2023], 2023)
    assert got[:4] == [
        ("new", 81, 2023),
        ("new:自然人", 80, 2023),
        ("new:商业企业", 1, 2023),
        ("handled", 81, 2023),
    ]
    assert ("share:予以公开及部分公开", 51.85, 2023) in got
    assert got[-2:] == [("review", 2, 2023), ("suit", 7, 2023)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "2025年，全区共收到政府信息公开申请154件，共办结148件，结转至2026年6件。",
            [("new", 154, 2025), ("handled", 148, 2025), ("carried_out", 6, 2025)],
        ),
        (
            "答复申请805件（含上年度结转申请18件，另有72件申请按照顺延至下年度答复）。",
            [("handled", 805, 2025), ("carried_in", 18, 2025)],
        ),
        (
            "未发生信息公开类行政复议；未发生信息公开类行政诉讼。",
            [("review", 0, 2025), ("suit", 0, 2025)],
        ),
        (
            "信息公开类行政诉讼50件，结果纠正1件（2024年分别为行政复议40件、行政诉讼0件）。",
            [
                ("suit", 50, 2025),
                ("suit:corrected", 1, 2025),
                ("review", 40, 2024),
                ("suit", 0, 2024),
            ],
        ),
        (
            "申请数量较2024年下降19.44%（2024年为72件）。",
            [("change", -19.44, 2025), ("new", 72, 2024)],
        ),
        ("主动公开区政府及区府办文件100件，发布办理复文3件，全年依申请转主动公开3件。", []),
        ("行政复议36起，行政诉讼9起。", [("review", 36, 2025), ("suit", 9, 2025)]),
        # Published openings of other reports (崇明区 2022, 长宁区新泾镇 2023, 长宁区规划资源局
        # 2023), years set to 2025 here.
        (
            "区政府全年共受理信息公开申请97件，上年结转申请1件，答复97件，结转下年度办理1件，"
            "所有答复均在法定期限内做出。",
            [
                ("new", 97, 2025),
                ("carried_in", 1, 2025),
                ("handled", 97, 2025),
                ("carried_out", 1, 2025),
            ],
        ),
        (
            "本镇共受理政府信息公开申请58件，答复信息公开申请72件（含上年度结转17件，另有3件申请"
            "顺延至下年度答复），均在法定期限内予以答复。信息公开行政复议2件，尚未审结。"
            "无信息公开诉讼。本年度收到2件区政府的信息公开征询单。",
            [
                ("new", 58, 2025),
                ("handled", 72, 2025),
                ("carried_in", 17, 2025),
                ("carried_out", 3, 2025),
                ("review", 2, 2025),
                ("suit", 0, 2025),
            ],
        ),
        (
            "本行政机关收到政府信息公开申请共101件，办结97件（含上年结转），结转下年度继续办理5件。"
            "本行政机关被诉讼的案件共计1件，未被纠错；复议案件共计1件，尚未审结。",
            [("new", 101, 2025), ("handled", 97, 2025), ("carried_out", 5, 2025)],
        ),
    ],
    ids=[
        "carried-to-next-year",
        "old-wording",
        "none",
        "last-year-in-brackets",
        "change",
        "not-about-requests",
        "qi",
        "chongming",
        "xinjing",
        "planning-bureau",
    ],
)
def test_phrasings(text: str, expected: list[tuple[str, float, int]]) -> None:
    assert _pairs([text], 2025) == expected


def test_only_section_one_is_read() -> None:
    paragraphs = [
        "一、总体情况",
        "共收到政府信息公开申请5件。",
        "二、主动公开政府信息情况",
        "共收到政府信息公开申请9件。",
    ]
    assert _pairs(paragraphs, 2024) == [("new", 5, 2024)]


def _docx(path: Path, paragraphs: list[str]) -> Path:
    from docx import Document

    d = Document()
    for p in paragraphs:
        d.add_paragraph(p)
    d.save(str(path))
    return path


def _check(capsys: pytest.CaptureFixture[str], year: int, docx: Path) -> Result:
    return run_inprocess(
        capsys, "annual", "check", "--year", str(year), "--unit", UNIT, "--docx", str(docx)
    )


def test_seed_003_prose_agrees_with_its_own_tables(
    directory: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert run_inprocess(capsys, "annual", "import", str(CHANGNING_2024)).code == 0
    draft = _docx(tmp_path / "seed.docx", _seed_paragraphs())
    r = _check(capsys, 2024, draft)
    assert r.code == 0, r.out + r.err
    assert (
        "注意：正文第9段「申请数量较2023年上升31.37%」：与2023年的比较未核对（系统中没有2023年的表三数据）。"
        in r.out
    )
    assert "seed.docx 总体情况中的 18 个数字与表格一致。" in r.out
    # With 2023 loaded (781 requests, as the 2024 report implies) the change is checked too.
    assert run_inprocess(capsys, "annual", "import", str(_carry_2023(tmp_path))).code == 0
    r = _check(capsys, 2024, draft)
    assert r.code == 0, r.out
    assert "seed.docx 总体情况中的 19 个数字与表格一致。" in r.out


def test_edited_numbers_that_disagree_are_named_with_their_words_and_cell(
    directory: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert run_inprocess(capsys, "annual", "import", str(CHANGNING_2024)).code == 0
    paragraphs = [
        p.replace("结转下年度继续办理 42 件", "结转下年度继续办理 41 件").replace(
            "占 7.87%", "占 7.78%"
        )
        for p in _seed_paragraphs()
    ]
    r = _check(capsys, 2024, _docx(tmp_path / "edited.docx", paragraphs))
    assert r.code == 1
    assert "区政府办公室 2024 年年报表格校验通过" in r.out  # the tables themselves are fine
    assert "edited.docx 正文与表格不一致 2 处：" in r.out
    assert (
        "- 正文第9段「结转下年度继续办理41件」：41件，"
        "但表三「四、结转下年度继续办理」行「总计」列为 42" in r.out
    )
    assert (
        "- 正文第9段「不予公开80件，占7.78%」：占7.78%，但按表三「（三）不予公开」1至8项「总计」列之和"
        " 80 与表三「（七）总计」行「总计」列 1016 计算为 7.87%" in r.out
    )
    assert r.out.count("\n- ") == 2


def test_a_real_report_whose_prose_counts_the_carried_over_request_as_received(
    directory: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for year in (2021, 2022):
        path = PINGTAN / f"pingtan_{year}_as_printed.csv"
        assert run_inprocess(capsys, "annual", "import", str(path)).code == 0
    r = _check(capsys, 2022, _docx(tmp_path / "pingtan2022.docx", ["一、总体情况", PINGTAN_2022]))
    assert r.code == 1
    assert "区政府办公室 2022 年年报表格校验通过" in r.out
    assert (
        "- 正文第2段「全区收到政府信息公开申请75件」：75件，"
        "但表三「一、本年新收政府信息公开申请数量」行「总计」列为 74" in r.out
    )
    assert (
        "- 正文第2段「涉及自然人72件」：72件，"
        "但表三「一、本年新收政府信息公开申请数量」行「自然人」列为 71" in r.out
    )
    assert r.out.count("\n- ") == 2


def test_the_drafted_report_agrees_with_itself(
    directory: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert run_inprocess(capsys, "annual", "import", str(_carry_2023(tmp_path))).code == 0
    assert run_inprocess(capsys, "annual", "import", str(CHANGNING_2024)).code == 0
    out = tmp_path / "draft.docx"
    made = run_inprocess(
        capsys,
        "report",
        "annual",
        "--year",
        "2024",
        "--unit",
        UNIT,
        "--format",
        "docx",
        "--out",
        str(out),
    )
    assert made.code == 0, made.err
    r = _check(capsys, 2024, out)
    assert r.code == 0, r.out
    assert "与表格一致" in r.out and "不一致" not in r.out


def _damaged_docx() -> bytes:
    """A real DOCX whose document.xml is cut short."""
    import io
    import zipfile

    from docx import Document

    buf = io.BytesIO()
    Document().save(buf)
    src, out = zipfile.ZipFile(io.BytesIO(buf.getvalue())), io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for info in src.infolist():
            data = src.read(info.filename)
            z.writestr(info, data[:200] if info.filename == "word/document.xml" else data)
    return out.getvalue()


@pytest.mark.parametrize("kind", ["text", "broken-zip", "damaged-xml"])
def test_a_draft_that_is_not_a_docx_is_refused(
    directory: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, kind: str
) -> None:
    assert run_inprocess(capsys, "annual", "import", str(CHANGNING_2024)).code == 0
    path = tmp_path / "draft.docx"
    content = {"text": b"not a document", "broken-zip": b"PK\x03\x04broken"}
    path.write_bytes(content[kind] if kind in content else _damaged_docx())
    r = _check(capsys, 2024, path)
    assert r.code != 0
    assert f"文件 {path} 不是 Word 文档（.docx）" in r.err
    assert "Traceback" not in r.err
    missing = _check(capsys, 2024, tmp_path / "nope.docx")
    assert missing.code != 0 and "找不到文件" in missing.err
