"""The floors: the same end state as the real code, written with plain DBAPI and the stdlib.

Each floor does what the real stage must persist, no more, with the least machinery:

* **expansion** — per district, in one transaction: read the district's units, plan and
  tasks; ``executemany`` the checklist items; read their ids back (one SELECT); build the
  assignment mails (same key, recipient, subject; bodies by plain string formatting, the
  same facts as the templates) and ``executemany`` them into the outbox. It does no
  idempotence lookups (the database starts without items) and knows only one-off tasks
  (``M月D日前``), which is all the benchmark's plans contain.
* **sweep** — in one transaction: one SELECT of the open items joined to their units, one of
  the reminder log and one of the offices; the latest rung per item (memoised per due
  date, as many items share one); one digest per unit (same key, recipient, subject; plain
  bodies, overdue items apart from the rest); the overdue items per unit, and, when a
  non-lead unit is late, one SELECT of the lead items of those obligations; one overdue
  summary per district's office and one per coordinating lead (same key, recipient,
  subject; plain bodies listing every late item); ``executemany`` of the digests and
  summaries, one SELECT for their ids, ``executemany`` of the reminder log rows (the
  skipped rungs, then the sent).
* **dispatch** — claim every pending row with one UPDATE, then over one ``smtplib.SMTP``
  connection send each message built with ``email.message.EmailMessage`` from the stored
  subject/text/html and record it as sent with its own UPDATE and commit right after the
  server accepted it (the durability the outbox promises: a sent mail is never sent again).
"""

from __future__ import annotations

import hashlib
import json
import smtplib
import sqlite3
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from html import escape
from typing import Any

from bench.data import ISSUED, YEAR

WEEKDAYS = "一二三四五六日"
ROLE_LABELS = {"lead": "牵头", "responsible": "负责", "cooperating": "配合"}
MAIL_CHUNK = 100  # assignment mails per executemany
FOOTER = "本邮件由区政府办公室（政务公开办）政务公开事项管理系统自动发送。"


class Db:
    """A plain DBAPI connection to the app database (sqlite3 or psycopg)."""

    def __init__(self, url: str) -> None:
        if url.startswith("sqlite"):
            self.kind = "sqlite"
            self.path = url.split("///", 1)[1]
        elif url.startswith("postgresql"):
            self.kind = "pg"
            self.dsn = "postgresql://" + url.split("://", 1)[1]
        else:
            raise ValueError(f"unsupported database URL {url}")

    def connect(self) -> Any:
        if self.kind == "sqlite":
            conn = sqlite3.connect(self.path, timeout=30)
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=30000")
            return conn
        import psycopg

        return psycopg.connect(self.dsn)

    def q(self, sql: str) -> str:
        return sql if self.kind == "sqlite" else sql.replace("?", "%s")

    # Python value -> what SQLAlchemy would have stored
    def bind_date(self, d: date | None) -> Any:
        if d is None or self.kind == "pg":
            return d
        return d.isoformat()

    def ts(self, dt: datetime) -> Any:
        return dt.strftime("%Y-%m-%d %H:%M:%S.%f") if self.kind == "sqlite" else dt

    def bool(self, b: bool) -> Any:
        return int(b) if self.kind == "sqlite" else b

    # stored value -> Python
    @staticmethod
    def to_date(v: Any) -> Any:  # date or None
        if v is None or isinstance(v, date):
            return v
        return date.fromisoformat(v)

    @staticmethod
    def to_list(v: Any) -> list[Any]:
        return json.loads(v) if isinstance(v, str) else list(v or [])


def cn_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日（星期{WEEKDAYS[d.weekday()]}）"


def cn_period(p: str) -> str:
    """2026-11 → 2026年11月, 2026-Q4 → 2026年第四季度, 2026 → 2026年度, a date → 2026年11月5日."""
    if len(p) == 4:
        return f"{p}年度"
    if p[5:6] in "Qq":
        return f"{p[:4]}年第{'一二三四'[int(p[6]) - 1]}季度"
    if len(p) == 7:
        return f"{p[:4]}年{int(p[5:7])}月"
    return f"{p[:4]}年{int(p[5:7])}月{int(p[8:10])}日"


def _signature(office: Any, today: date) -> list[str]:
    """The 落款 of a digest: the office, its contact, the date."""
    lines = ["区政府办公室（政务公开办）"]
    if office and office[2]:
        lines.append(f"联系人：{office[2]}" + (f"，{office[3]}" if office[3] else ""))
    return [*lines, f"{today.year}年{today.month}月{today.day}日"]


def _seq_key(seq: str) -> tuple[int, str]:
    digits = "".join(ch for ch in seq if ch.isdigit())
    return (int(digits) if digits else 10**6, seq)


def _detail(content: str, lead: list[str], coop: list[str], deadline_text: str) -> str:
    parts = []
    if content:
        c = content.replace("\n", "")
        parts.append(c if len(c) <= 120 else c[:118] + "……")
    if lead:
        parts.append(f"牵头单位：{'、'.join(lead)}")
    if coop:
        parts.append(f"配合单位：{'、'.join(coop)}")
    parts.append(f"时间节点：{deadline_text.replace(chr(10), '')}")
    return "；".join(parts)


def _quarter_end(year: int, quarter: int) -> date:
    return date(year, 3 * quarter + 1, 1) - timedelta(days=1) if quarter < 4 else date(year, 12, 31)


def _greeting(name: str, contact: str) -> str:
    return f"{name} {contact} 同志：" if contact else f"{name}："


# --------------------------------------------------------------------------- expansion


def expansion(url: str, settings: Any, districts: list[str], today: date = ISSUED) -> None:
    from notifications.links import unit_link
    from workflows.registry import WORK_PLAN as ob
    from workflows.workcal import WorkCalendar

    db = Db(url)
    q = db.q
    period = str(YEAR)
    label = f"{YEAR}年度"
    conn = db.connect()
    try:
        for district in districts:
            cur = conn.cursor()
            units = cur.execute(
                q(
                    "SELECT id, name, email, contact FROM unit WHERE district = ? AND active = ? ORDER BY id"
                ),
                (district, db.bool(True)),
            ).fetchall()
            plan_id, issued = cur.execute(
                q("SELECT id, issued FROM plan WHERE district = ? AND year = ?"), (district, YEAR)
            ).fetchone()
            tasks = cur.execute(
                q(
                    "SELECT id, seq, sub, name, content, deadline_text, due, window_start, "
                    "lead_units, units, cooperating_units, recurrence FROM plantask "
                    "WHERE plan_id = ? AND retired = ?"
                ),
                (plan_id, db.bool(False)),
            ).fetchall()
            overrides = {
                db.to_date(d): k for d, k in cur.execute("SELECT day, kind FROM holidayoverride")
            }
            earliest = _Days(WorkCalendar(overrides)).add(db.to_date(issued), 10)
            by_name = {u[1]: u[0] for u in units}
            now = db.ts(datetime.now(UTC))
            assigned = db.bind_date(today)
            rows = []
            per_unit: dict[int, list[tuple[str, str, str, date, date | None, str]]] = defaultdict(
                list
            )
            for tid, seq, _sub, name, content, dl_text, due, ws, lead, resp, coop, rec in sorted(
                tasks, key=lambda t: (_seq_key(t[1]), t[2])
            ):
                lead, resp, coop = db.to_list(lead), db.to_list(resp), db.to_list(coop)
                roles: dict[str, str] = {}
                for n in coop:
                    roles[n] = "cooperating"
                for n in resp:
                    roles[n] = "responsible"
                for n in lead:
                    roles[n] = "lead"
                detail = _detail(content, lead, coop, dl_text)
                if rec == "year-round":  # a progress check per quarter end after `earliest`
                    checks = [
                        (f"-q{k}", f"（第{'一二三四'[k - 1]}季度进展）", end, None)
                        for k in range(1, 5)
                        if (end := _quarter_end(YEAR, k)) >= earliest
                    ]
                else:
                    checks = [("", "", db.to_date(due), db.to_date(ws))]
                for suffix, title_suffix, due, ws in checks:
                    step, title = f"task-{tid}{suffix}", f"第{seq}项 {name}{title_suffix}"
                    for n, role in roles.items():
                        uid = by_name.get(n)
                        if uid is None:
                            continue
                        rows.append(
                            (
                                ob.slug,
                                period,
                                uid,
                                step,
                                title,
                                role,
                                db.bind_date(due),
                                db.bind_date(ws),
                                db.bool(False),
                                "pending",
                                now,
                                assigned,
                            )
                        )
                        per_unit[uid].append((step, title, role, due, ws, detail))
            cur.executemany(
                q(
                    "INSERT INTO checklistitem (obligation, period, unit_id, step, step_title, "
                    "role, due, window_start, provisional, status, created_at, assigned_on) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                ),
                rows,
            )
            ids = {
                (uid, step): iid
                for iid, uid, step in cur.execute(
                    q(
                        "SELECT i.id, i.unit_id, i.step FROM checklistitem i "
                        "JOIN unit u ON u.id = i.unit_id "
                        "WHERE i.obligation = ? AND i.period = ? AND u.district = ?"
                    ),
                    (ob.slug, period, district),
                )
            }
            insert = q(
                "INSERT INTO outboxmessage (key, recipient, cc, unit_id, obligation, period, "
                "kind, subject, body_text, body_html, status, attempts, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            )
            messages = []
            for uid, name, email, contact in units:
                entries = per_unit.get(uid)
                if not entries or not email:
                    continue
                items = sorted(
                    ((ids[(uid, e[0])], *e[1:]) for e in entries), key=lambda e: (e[3], e[0])
                )
                link = unit_link(uid, settings)
                subject = f"【政务公开】{ob.title}（{label}）任务通知 — {name}"
                text, html = _assignment_bodies(ob, label, name, contact, items, link, subject)
                messages.append(
                    (
                        f"assignment:{ob.slug}:{period}:unit={uid}",
                        email,
                        "[]",
                        uid,
                        ob.slug,
                        period,
                        "assignment",
                        subject,
                        text,
                        html,
                        "pending",
                        0,
                        now,
                    )
                )
                if len(messages) == MAIL_CHUNK:  # a large district's bodies: hundreds of MB
                    cur.executemany(insert, messages)
                    messages = []
            cur.executemany(insert, messages)
            conn.commit()
    finally:
        conn.close()


def _assignment_bodies(ob, label, name, contact, items, link, subject):  # type: ignore[no-untyped-def]
    text = [
        _greeting(name, contact),
        "",
        f"根据{ob.basis}，请你单位按时完成「{ob.title}（{label}）」的以下事项：",
        "",
    ]
    html = [
        f'<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(subject)}</title>\n</head>\n<body>\n"
        f"<p>{escape(_greeting(name, contact))}</p>\n"
        f"<p>根据{escape(ob.basis)}，请你单位按时完成<strong>{escape(ob.title)}（{label}）</strong>"
        '的以下事项：</p>\n<table border="1" cellspacing="0" cellpadding="6">\n'
        "<tr><th>事项编号</th><th>工作内容</th><th>角色</th><th>完成时限</th></tr>\n"
    ]
    for iid, title, role, due, ws, detail in items:
        when = (f"{cn_date(ws)} 至 " if ws else "") + cn_date(due)
        text.append(f"[{iid}] {title}\n    角色：{ROLE_LABELS[role]}\n    完成时限：{when}\n")
        if detail:
            text.append(f"    说明：{detail}\n")
        html.append(
            f"<tr>\n<td>{iid}</td>\n<td>{escape(title)}<br><span>{escape(detail)}</span></td>\n"
            f"<td>{ROLE_LABELS[role]}</td>\n<td>{when}</td>\n</tr>\n"
        )
    text += ["完成后请打开以下链接登记完成情况（填写公开网址）：", link, "", "——", FOOTER]
    html.append(
        f'</table>\n<p>完成后请点击以下链接登记完成情况（填写公开网址）：<br><a href="{escape(link)}">'
        f"{escape(link)}</a></p>\n<p>{FOOTER}</p>\n</body>\n</html>"
    )
    return "\n".join(text), "".join(html)


# --------------------------------------------------------------------------- sweep


class _Days:
    """Working-day arithmetic over the app's calendar, each date looked up once."""

    def __init__(self, cal: Any) -> None:
        self.cal = cal
        self.memo: dict[date, bool] = {}

    def work(self, d: date) -> bool:
        w = self.memo.get(d)
        if w is None:
            w = self.memo[d] = self.cal.is_workday(d)
        return w

    def add(self, d: date, n: int) -> date:
        step = 1 if n >= 0 else -1
        left = abs(n)
        while left:
            d += timedelta(days=step)
            if self.work(d):
                left -= 1
        return d

    def between(self, a: date, b: date) -> int:
        if a == b:
            return 0
        sign = 1 if b > a else -1
        lo, hi = (a, b) if sign > 0 else (b, a)
        count = 0
        while lo < hi:
            lo += timedelta(days=1)
            count += self.work(lo)
        return sign * count


def sweep(url: str, settings: Any, today: date) -> None:
    from notifications.links import unit_link
    from workflows.obligation import DEFAULT_LADDER
    from workflows.registry import item_ladders, item_titles
    from workflows.workcal import WorkCalendar

    db = Db(url)
    q = db.q
    conn = db.connect()
    try:
        cur = conn.cursor()
        overrides = {
            db.to_date(d): k for d, k in cur.execute("SELECT day, kind FROM holidayoverride")
        }
        days = _Days(WorkCalendar(overrides))
        if not days.work(today):
            return
        ladders, titles = item_ladders(), item_titles()
        rows = cur.execute(
            q(
                "SELECT i.id, i.obligation, i.period, i.step, i.step_title, i.role, i.due, "
                "i.provisional, i.assigned_on, u.id, u.name, u.contact, u.email, u.district "
                "FROM checklistitem i JOIN unit u ON u.id = i.unit_id "
                "WHERE i.status = 'pending' AND u.active = ?"
            ),
            (db.bool(True),),
        ).fetchall()
        logged: dict[int, set[str]] = defaultdict(set)
        for item_id, rung in cur.execute("SELECT item_id, rung FROM reminderlog"):
            logged[item_id].add(rung)
        office = {
            d: (oid, name, contact, email)
            for d, oid, name, contact, email in cur.execute(
                q(
                    "SELECT district, id, name, contact, email FROM unit "
                    "WHERE kind = 'office' AND active = ?"
                ),
                (db.bool(True),),
            )
        }
        office_ids = {v[0] for v in office.values()}

        memo: dict[tuple[int, date, date | None], Any] = {}

        def ladder_at(ladder: Any, due: date, after: date | None) -> Any:
            key = (id(ladder), due, after)
            hit = memo.get(key)
            if hit is None:
                fixed = [(i, r.slug, days.add(due, r.offset)) for i, r in enumerate(ladder.rungs)]
                best = None
                for i, r in enumerate(ladder.rungs):
                    on = fixed[i][2]
                    if on <= today and (after is None or on > after):
                        best = (r.slug, i, r.title, r.escalate)
                last_fixed = fixed[-1][2] if fixed else None
                if ladder.weekly_days and last_fixed is not None and today > last_fixed:
                    n = (today - last_fixed).days // ladder.weekly_days
                    on = last_fixed + timedelta(days=n * ladder.weekly_days)
                    if n >= 1 and (after is None or on > after):
                        best = (
                            f"weekly-{n}",
                            len(ladder.rungs) + n,
                            f"逾期第{n}周催办",
                            ladder.weekly_escalate,
                        )
                order = {r.slug: i for i, r in enumerate(ladder.rungs)}
                hit = memo[key] = (best, fixed, order)
            return hit

        when_memo: dict[date, tuple[str, int]] = {}
        now = db.ts(datetime.now(UTC))
        on_today = db.bind_date(today)
        skipped_rows = []
        digest: dict[int, list[Any]] = defaultdict(list)
        units: dict[int, Any] = {}
        late: dict[int, list[Any]] = defaultdict(list)  # unit -> (row, due) past due
        for row in rows:
            iid, ob, _p, _s, _t, _r, due, _pv, after, uid = row[:10]
            due, after = db.to_date(due), db.to_date(after)
            if due < today:
                late[uid].append((row, due))
            ladder = ladders.get(ob, DEFAULT_LADDER)
            best, fixed, order = ladder_at(ladder, due, after)
            if best is None:
                continue
            done = logged.get(iid)
            last = -1
            if done:
                orders = [
                    order.get(r, len(order) + int(r[7:]) if r.startswith("weekly-") else -1)
                    for r in done
                ]
                if best[0] in done or max(orders) >= best[1]:
                    continue
                last = max(orders)
            for i, slug, on in fixed:
                if last < i < best[1] and (after is None or on > after):
                    skipped_rows.append((iid, slug, on_today, db.bool(True), None, now))
            digest[uid].append((row, due, best))
            units[uid] = row

        def when_of(due: date) -> tuple[str, int]:
            hit = when_memo.get(due)
            if hit is None:
                left = days.between(today, due)
                if due >= today:
                    hit = ("今日截止" if due == today else f"还剩 {left} 个工作日", 0)
                else:
                    hit = (f"已逾期 {-left} 个工作日" if left < 0 else "已逾期", max(-left, 0))
                when_memo[due] = hit
            return hit

        unit_of = {row[9]: row for entries in late.values() for row, _ in entries[:1]}
        unit_of.update(units)
        # Leads of the steps a non-lead unit is late on, per (district, obligation, period,
        # step); not the office, and only those with a mailbox get a summary.
        wanted = {
            (unit_of[uid][13], row[1], row[2], row[3])
            for uid, entries in late.items()
            for row, _ in entries
            if row[5] != "lead"
        }
        leads: dict[tuple[str, str, str, str], list[int]] = defaultdict(list)
        lead_units: dict[int, tuple[str, str, str, str]] = {}
        if wanted:
            obs = sorted({k[1] for k in wanted})
            for ob, period, step, lid, lname, lcontact, lemail, ldistrict in cur.execute(
                q(
                    "SELECT i.obligation, i.period, i.step, u.id, u.name, u.contact, u.email, "
                    "u.district FROM checklistitem i JOIN unit u ON u.id = i.unit_id "
                    "WHERE i.role = 'lead' AND u.active = ? AND i.obligation IN ("
                    + ", ".join("?" * len(obs))
                    + ") ORDER BY u.id"
                ),
                (db.bool(True), *obs),
            ):
                k = (ldistrict, ob, period, step)
                if k in wanted and lid not in office_ids and lemail and lid not in leads[k]:
                    leads[k].append(lid)
                    lead_units[lid] = (lname, lcontact, lemail, ldistrict)
        by_lead: dict[int, dict[int, list[Any]]] = defaultdict(lambda: defaultdict(list))
        leads_of: dict[int, set[int]] = defaultdict(set)
        for uid, entries in late.items():
            for row, due in entries:
                if row[5] == "lead":
                    continue
                for lid in leads.get((unit_of[uid][13], row[1], row[2], row[3]), ()):
                    if lid != uid:
                        by_lead[lid][uid].append((row, due))
                        leads_of[uid].add(lid)
        reported = {d for d, o in office.items() if o[3]}

        messages = []
        sent: list[tuple[str, list[tuple[int, str]]]] = []
        for uid, entries in digest.items():
            _, _, _, _, _, _, _, _, _, _, name, contact, email, district = units[uid]
            if not email:
                continue
            entries.sort(key=lambda e: (e[1], e[0][0]))
            escalation = any(b[3] for _, _, b in entries)
            pairs = sorted(f"{row[0]}:{b[0]}" for row, _, b in entries)
            key = (
                f"reminder:unit={uid}:{today.isoformat()}:"
                + hashlib.sha1("|".join(pairs).encode()).hexdigest()[:12]
            )
            n_over = sum(1 for _, due, _ in entries if due < today)
            n_up = len(entries) - n_over
            subject = (
                "【政务公开·逾期催办】"
                if escalation
                else "【政务公开·催办】"
                if n_over
                else "【政务公开·提醒】"
            ) + (
                f"{name}有 {n_over} 项事项已逾期" + (f"、{n_up} 项即将到期" if n_up else "")
                if n_over
                else f"{name}有 {n_up} 项事项即将到期"
            )
            groups: list[tuple[str, list[str], list[str]]] = []
            for heading, chosen in (
                ("已逾期", [e for e in entries if e[1] < today]),
                ("即将到期", [e for e in entries if e[1] >= today]),
            ):
                if not chosen:
                    continue
                lines, cells = [], []
                for row, due, _b in chosen:
                    when = when_of(due)[0]
                    ob_title = titles.get(row[1], row[1])
                    mark = "（暂定）" if row[7] else ""
                    period = cn_period(row[2])
                    lines.append(
                        f"\n[{row[0]}] {ob_title}（{period}）：{row[4]}\n    角色：{ROLE_LABELS[row[5]]}\n"
                        f"    截止：{cn_date(due)}{mark}，{when}"
                    )
                    cells.append(
                        f"<tr>\n<td>{row[0]}</td>\n<td>{escape(ob_title)}（{escape(period)}）</td>\n"
                        f"<td>{escape(row[4])}</td>\n<td>{ROLE_LABELS[row[5]]}</td>\n"
                        f"<td>{cn_date(due)}{mark}</td>\n<td>{escape(when)}</td>\n</tr>\n"
                    )
                groups.append(
                    (f"{'一二'[len(groups)]}、{heading}（{len(chosen)} 项）", lines, cells)
                )
            link = unit_link(uid, settings)
            note = "请你单位抓紧办理已逾期事项，办结后及时登记。"
            if district in reported and uid not in office_ids:
                names = "、".join(lead_units[i][0] for i in sorted(leads_of.get(uid, ())))
                note += "逾期情况已列入今日报送区政府办公室（政务公开办）" + (
                    f"和牵头单位（{names}）" if names else ""
                )
                note += "的逾期汇总。"
            intro = f"截至{cn_date(today)}，你单位以下事项尚未登记完成" + (
                f"，其中 {n_over} 项已逾期。" if n_over else "。"
            )
            text = "\n".join(
                [
                    _greeting(name, contact),
                    "",
                    intro,
                    *(["", note, ""] if escalation else []),
                    *(x for h, lines, _ in groups for x in ("", h, *lines)),
                    "",
                    "完成后请打开以下链接登记完成情况（填写公开网址）：",
                    link,
                    "",
                    *_signature(office.get(district), today),
                    "",
                    "——",
                    FOOTER,
                ]
            )
            html = (
                f'<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
                f"<title>{escape(subject)}</title>\n</head>\n<body>\n"
                f"<p>{escape(_greeting(name, contact))}</p>\n<p>{intro}</p>\n"
                + (f"<p><strong>{escape(note)}</strong></p>\n" if escalation else "")
                + "".join(
                    f"<p><strong>{h}</strong></p>\n<table>\n<tr><th>事项编号</th><th>事项</th>"
                    "<th>工作内容</th><th>角色</th><th>截止日期</th><th>状态</th></tr>\n"
                    + "".join(cells)
                    + "</table>\n"
                    for h, _, cells in groups
                )
                + f'<p>完成后请点击以下链接登记完成情况（填写公开网址）：<br><a href="{escape(link)}">'
                f"{escape(link)}</a></p>\n<p>{'<br>'.join(escape(x) for x in _signature(office.get(district), today))}</p>\n"
                f"<p>{FOOTER}</p>\n</body>\n</html>"
            )
            messages.append(
                (
                    key,
                    email,
                    "[]",
                    uid,
                    "reminders",
                    today.isoformat(),
                    "escalation" if escalation else "reminder",
                    subject,
                    text,
                    html,
                    "pending",
                    0,
                    now,
                )
            )
            sent.append((key, [(row[0], b[0]) for row, _, b in entries]))

        # The summaries: each office (every unit of its district behind), each lead.
        def summary(
            kind: str, to: tuple[int, str, str, str, str], behind: dict[int, list[Any]]
        ) -> tuple[Any, ...]:
            rid, rname, rcontact, remail, rdistrict = to
            blocks = []
            for uid in sorted(behind):
                entries = sorted(behind[uid], key=lambda e: (e[1], e[0][0]))
                blocks.append((uid, entries, max(when_of(due)[1] for _, due in entries)))
            blocks.sort(key=lambda b: (-len(b[1]), -b[2]))
            n_items = sum(len(b[1]) for b in blocks)
            stamp = f"（截至{today.year}年{today.month}月{today.day}日）"
            if kind == "lead-summary":
                subject = f"【政务公开·牵头事项逾期汇总】{rname}牵头事项：{len(blocks)} 个单位 {n_items} 项逾期{stamp}"
                intro = f"截至{cn_date(today)}，你单位牵头的事项中，以下 {len(blocks)} 个单位的 {n_items} 项工作逾期未登记完成（逾期天数按工作日计）。请督促相关单位抓紧办理："
            else:
                subject = f"【政务公开·逾期汇总】{rdistrict}：{len(blocks)} 个单位 {n_items} 项事项逾期{stamp}"
                intro = f"截至{cn_date(today)}，{rdistrict}有 {len(blocks)} 个单位的 {n_items} 项事项逾期未登记完成（逾期天数按工作日计），按逾期事项数排列如下："
            lines, cells = [_greeting(rname, rcontact), "", intro], []
            for n, (uid, entries, _) in enumerate(blocks, 1):
                u = unit_of[uid]
                who = (f"联络员：{u[11]}，" if u[11] else "") + (
                    u[12] or "未登记邮箱，未能发送催办邮件"
                )
                lines += ["", f"{n}. {u[10]}（{who}）：逾期 {len(entries)} 项"]
                for i, (row, due) in enumerate(entries, 1):
                    when = when_of(due)[0]
                    ob_title = titles.get(row[1], row[1])
                    mark = "（暂定）" if row[7] else ""
                    period = cn_period(row[2])
                    lines.append(
                        f"   （{i}）{ob_title}（{period}）：{row[4]}\n        角色：{ROLE_LABELS[row[5]]}；"
                        f"截止：{cn_date(due)}{mark}；{when}"
                    )
                    head = (
                        f'<td rowspan="{len(entries)}">{n}</td>\n<td rowspan="{len(entries)}">{escape(u[10])}'
                        f'<br>逾期 {len(entries)} 项</td>\n<td rowspan="{len(entries)}">{escape(u[11])}'
                        f"<br>{escape(u[12])}</td>\n"
                        if i == 1
                        else ""
                    )
                    cells.append(
                        f"<tr>\n{head}<td>{escape(ob_title)}（{escape(period)}）</td>\n"
                        f"<td>{escape(row[4])}</td>\n<td>{ROLE_LABELS[row[5]]}</td>\n"
                        f"<td>{cn_date(due)}{mark}</td>\n<td>{escape(when)}</td>\n</tr>\n"
                    )
            lines += [
                "",
                "本汇总每个工作日发送一次；事项登记完成或经批准免办后，不再列入。",
                "",
                "——",
                FOOTER,
            ]
            html = (
                f'<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
                f"<title>{escape(subject)}</title>\n</head>\n<body>\n"
                f"<p>{escape(_greeting(rname, rcontact))}</p>\n<p>{escape(intro)}</p>\n<table>\n"
                "<tr><th>序号</th><th>单位</th><th>联络员</th><th>事项</th><th>工作内容</th>"
                "<th>角色</th><th>截止日期</th><th>逾期情况</th></tr>\n"
                + "".join(cells)
                + f"</table>\n<p>{FOOTER}</p>\n</body>\n</html>"
            )
            return (
                f"{kind}:unit={rid}:{today.isoformat()}",
                remail,
                "[]",
                rid,
                "reminders",
                today.isoformat(),
                kind,
                subject,
                "\n".join(lines),
                html,
                "pending",
                0,
                now,
            )

        for d in sorted({unit_of[uid][13] for uid in late}):
            o = office.get(d)
            if o and o[3]:
                behind = {uid: e for uid, e in late.items() if unit_of[uid][13] == d}
                messages.append(summary("overdue-summary", (*o, d), behind))
        for lid, behind in by_lead.items():
            messages.append(summary("lead-summary", (lid, *lead_units[lid]), behind))
        cur.executemany(
            q(
                "INSERT INTO outboxmessage (key, recipient, cc, unit_id, obligation, period, "
                "kind, subject, body_text, body_html, status, attempts, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            ),
            messages,
        )
        outbox_ids = dict(
            cur.execute(
                q(
                    "SELECT key, id FROM outboxmessage WHERE obligation = 'reminders' AND period = ?"
                ),
                (today.isoformat(),),
            ).fetchall()
        )
        log_rows = skipped_rows + [
            (iid, rung, on_today, db.bool(False), outbox_ids[key], now)
            for key, pairs in sent
            for iid, rung in pairs
        ]
        cur.executemany(
            q(
                'INSERT INTO reminderlog (item_id, rung, "on", skipped, outbox_id, created_at) '
                "VALUES (?, ?, ?, ?, ?, ?)"
            ),
            log_rows,
        )
        conn.commit()
    finally:
        conn.close()


# --------------------------------------------------------------------------- dispatch


def dispatch(url: str, settings: Any) -> int:
    db = Db(url)
    q = db.q
    conn = db.connect()
    try:
        cur = conn.cursor()
        rows = cur.execute(
            "SELECT id, key, recipient, cc, subject, body_text, body_html FROM outboxmessage "
            "WHERE status = 'pending' ORDER BY id"
        ).fetchall()
        cur.execute(
            q(
                "UPDATE outboxmessage SET status = 'sending', claimed_at = ? WHERE status = 'pending'"
            ),
            (db.ts(datetime.now(UTC)),),
        )
        conn.commit()
        from_addr = parseaddr(settings.mail_from)[1]
        domain = from_addr.rsplit("@", 1)[-1] or "zwgk.local"
        sent = 0
        with smtplib.SMTP(
            settings.effective_smtp_host,
            settings.effective_smtp_port,
            timeout=settings.smtp_timeout,
        ) as smtp:
            for mid, key, recipient, cc, subject, text, html in rows:
                cc = db.to_list(cc)
                msg = EmailMessage()
                msg["Subject"] = subject
                msg["From"] = settings.mail_from
                msg["To"] = recipient
                if cc:
                    msg["Cc"] = ", ".join(cc)
                msg["Date"] = formatdate(localtime=True)
                digest = hashlib.sha1(key.encode()).hexdigest()[:16]
                msg["Message-ID"] = f"<zwgk-{mid}-{digest}@{domain}>"
                msg.set_content(text)
                msg.add_alternative(html, subtype="html")
                smtp.send_message(msg, from_addr, [recipient, *cc])
                cur.execute(
                    q(
                        "UPDATE outboxmessage SET status = 'sent', attempts = attempts + 1, "
                        "sent_at = ?, claimed_at = NULL, last_error = NULL WHERE id = ?"
                    ),
                    (db.ts(datetime.now(UTC)), mid),
                )
                conn.commit()
                sent += 1
        return sent
    finally:
        conn.close()


# --------------------------------------------------------------------------- progress


def progress_artifact(url: str, *, district: str, today: date) -> None:
    """The run's progress as Prefect artifacts: counts per status from one GROUP BY, a
    Markdown table of them and a progress figure."""
    from prefect.artifacts import create_markdown_artifact, create_progress_artifact

    db = Db(url)
    conn = db.connect()
    try:
        counts = (
            conn.cursor()
            .execute(
                db.q(
                    "SELECT i.status, i.due < ?, COUNT(*) FROM checklistitem i "
                    "JOIN unit u ON u.id = i.unit_id WHERE i.obligation = 'work-plan' "
                    "AND i.period = ? AND u.district = ? GROUP BY 1, 2"
                ),
                (db.bind_date(today), str(YEAR), district),
            )
            .fetchall()
        )
    finally:
        conn.close()
    by: dict[str, int] = defaultdict(int)
    for status, late, n in counts:
        by["overdue" if status == "pending" and late else status] += n
    done, counted = by["done"], sum(by.values()) - by["waived"]
    table = "\n".join(f"| {k} | {v} |" for k, v in sorted(by.items()))
    create_markdown_artifact(markdown=f"| 状态 | 数量 |\n| --- | ---: |\n{table}\n", key="floor")
    create_progress_artifact(progress=100.0 * done / counted if counted else 100.0, key="floor-p")
