"""The city the benchmark runs on: generated unit directories and work plans, loaded through
the real importers (``import_units``, ``import_plan``), exactly as an administrator would.

Every task's 责任单位 is ``各单位`` (every unit responsible for every task) and its 时间节点 a
``M月D日前`` date, spread evenly from ``FIRST_DUE`` to ``TODAY`` over the plan year, so the
reminder sweep on ``TODAY`` finds every item on some rung: the last tasks are due that day,
the rest 1, 3 or more working days overdue (escalated, weekly chase).
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

YEAR = 2026
ISSUED = date(2026, 1, 5)  # 印发日期; also the as-of date of the expansion (assigned_on)
FIRST_DUE = date(2026, 1, 20)
TODAY = date(2026, 12, 18)  # a Friday and a working day: the sweep's date

DISTRICTS = (
    "黄浦区 徐汇区 长宁区 静安区 普陀区 虹口区 杨浦区 闵行区 "
    "宝山区 嘉定区 浦东新区 金山区 松江区 青浦区 奉贤区 崇明区"
).split()

DEPARTMENTS = (
    "区发展改革委 区教育局 区科委 区民政局 区司法局 区财政局 区人力资源社会保障局 "
    "区规划资源局 区生态环境局 区建设管理委 区房管局 区交通委 区农业农村委 区商务委 "
    "区文化旅游局 区卫生健康委 区退役军人局 区应急管理局 区审计局 区国资委 区市场监管局 "
    "区体育局 区统计局 区医保局 区绿化市容局 区城管执法局 区金融办 区数据局 区信访办 "
    "区民宗办 区投资促进办 区机管局 区档案局 区地区办 区合作交流办"
).split()
PLACES = (
    "华阳路 江苏路 新华路 天山路 周家桥 虹桥 仙霞新村 程家桥 北新泾 新泾 淮海中路 "
    "瑞金二路 打浦桥 五里桥 老西门 豫园 南京东路 外滩 半淞园路 小东门 枫林路 龙华 "
    "斜土路 凌云路 田林 康健新村"
).split()
CONTACTS = "王静 李明 张伟 刘洋 陈丽 杨帆 赵敏 黄磊 周婷 吴刚 徐丽 孙强 马超 朱琳 胡军".split()


def district_names(n: int) -> list[str]:
    return [DISTRICTS[i] if i < len(DISTRICTS) else f"第{i + 1}区" for i in range(n)]


def unit_rows(k: int, n: int) -> list[list[str]]:
    """``n`` units of district number ``k``: the office, departments, streets, towns, parks."""
    rest = n - 1
    n_dept = round(rest * 0.6)
    n_street = round(rest * 0.27)
    n_town = round(rest * 0.08)
    rows = [["区政府办公室", "区政府办|区政务公开办", "office", "", "", ""]]
    for i in range(rest):
        if i < n_dept:
            j = i
            name = DEPARTMENTS[j] if j < len(DEPARTMENTS) else f"区第{j + 1}委办局"
            kind = "department"
        elif i < n_dept + n_street:
            j = i - n_dept
            name = f"{PLACES[j % len(PLACES)]}街道" + (str(j) if j >= len(PLACES) else "")
            kind = "street"
        elif i < n_dept + n_street + n_town:
            j = i - n_dept - n_street
            name = f"{PLACES[-1 - j % len(PLACES)]}镇" + (str(j) if j >= len(PLACES) else "")
            kind = "town"
        else:
            j = i - n_dept - n_street - n_town
            name = f"第{j + 1}园区"
            kind = "park"
        rows.append([name, "", kind, "", "", ""])
    for i, row in enumerate(rows):
        row[3] = f"u{i:03d}@d{k:02d}.bench.example.gov.cn"
        row[4] = CONTACTS[(i + k) % len(CONTACTS)]
    return rows


def due_dates(n: int) -> list[date]:
    """``n`` due dates spread evenly from ``FIRST_DUE`` to ``TODAY`` (the last one)."""
    if n == 1:
        return [TODAY]
    span = (TODAY - FIRST_DUE).days
    return [FIRST_DUE + timedelta(days=round(i * span / (n - 1))) for i in range(n)]


def plan_rows(n: int, *, year_round: bool = False) -> list[list[str]]:
    """``n`` tasks for 各单位: one-off (``M月D日前``, see ``due_dates``) or 全年 (year-round:
    a progress check at each quarter end the plan's issue date leaves time for)."""
    rows = []
    for i, due in enumerate(due_dates(n), start=1):
        rows.append(
            [
                str(i),
                f"政务公开重点任务{i}",
                f"围绕第{i}项重点工作，及时主动公开相关政策文件、执行情况和结果，"
                "做好政策解读和回应关切，并在政府信息公开专栏同步发布。",
                "各单位",
                "全年" if year_round else f"{due.month}月{due.day}日前",
            ]
        )
    return rows


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def load_city(
    *,
    districts: int,
    units: int,
    tasks: int,
    workdir: Path,
    year_round: bool = False,
    issued: date = ISSUED,
) -> list[str]:
    """Create the schema and import every district's directory and plan (real importers)."""
    from workflows.workcal import load_calendar
    from zwgk.db import session_scope
    from zwgk.intake.directory import import_units
    from zwgk.intake.plan.importer import import_plan
    from zwgk.migrations import init_db

    init_db()
    names = district_names(districts)
    plan_csv = write_csv(
        workdir / "plan.csv",
        ["序号", "任务名称", "任务内容", "责任单位", "时间节点"],
        plan_rows(tasks, year_round=year_round),
    )
    for k, name in enumerate(names):
        units_csv = write_csv(
            workdir / f"units-{k:02d}.csv",
            ["name", "aliases", "kind", "email", "contact", "groups"],
            unit_rows(k, units),
        )
        with session_scope() as s:
            import_units(session=s, path=units_csv, district=name)
        with session_scope() as s:
            report = import_plan(
                session=s,
                path=plan_csv,
                district=name,
                year=YEAR,
                issued=issued,
                cal=load_calendar(s),
            )
            if report.created != tasks:
                raise RuntimeError(f"{name}: {report.created} tasks imported, expected {tasks}")
    return names
