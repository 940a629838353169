"""The floors: the same end state as the real code, written with plain DBAPI and the stdlib.

Each floor does what the real stage must persist, no more, with the least machinery:

* **expansion** — per district, in one transaction: read the district's units, plan and
  tasks; ``executemany`` the checklist items; read their ids back (one SELECT); build the
  assignment mails (same key, recipient, subject; bodies by plain string formatting, the
  same facts as the templates) and ``executemany`` them into the outbox. It does no
  idempotence lookups (the database starts without items) and knows only one-off tasks
  (``M月D日前``), which is all the benchmark's plans contain.
* **sweep** — in one transaction: one SELECT of the open items joined to their units, one of
  the reminder log, the steps with non-lead units, one of the lead units and one of the
  offices; the latest rung per item
  (memoised per due date, as many items share one); one digest per unit (same key,
  recipient, cc, subject; plain bodies), ``executemany`` of the digests, one SELECT for
  their ids, ``executemany`` of the reminder log rows (the skipped rungs, then the sent).
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


def _greeting(name: str, contact: str) -> str:
    return f"{name} {contact} 同志：" if contact else f"{name}："


# --------------------------------------------------------------------------- expansion


def expansion(url: str, settings: Any, districts: list[str]) -> None:
    from zwgk.web.tokens import unit_link
    from zwgk.workflows.registry import WORK_PLAN as ob

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
            plan_id = cur.execute(
                q("SELECT id FROM plan WHERE district = ? AND year = ?"), (district, YEAR)
            ).fetchone()[0]
            tasks = cur.execute(
                q(
                    "SELECT id, seq, sub, name, content, deadline_text, due, window_start, "
                    "lead_units, units, cooperating_units FROM plantask "
                    "WHERE plan_id = ? AND retired = ?"
                ),
                (plan_id, db.bool(False)),
            ).fetchall()
            by_name = {u[1]: u[0] for u in units}
            now = db.ts(datetime.now(UTC))
            assigned = db.bind_date(ISSUED)
            rows = []
            per_unit: dict[int, list[tuple[str, str, str, date, date | None, str]]] = defaultdict(
                list
            )
            for tid, seq, _sub, name, content, dl_text, due, ws, lead, resp, coop in sorted(
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
                due, ws = db.to_date(due), db.to_date(ws)
                step, title = f"task-{tid}", f"第{seq}项 {name}"
                detail = _detail(content, lead, coop, dl_text)
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
                    per_unit[uid].append((step, title, role, due, ws, detail))  # type: ignore[arg-type]
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
            cur.executemany(
                q(
                    "INSERT INTO outboxmessage (key, recipient, cc, unit_id, obligation, period, "
                    "kind, subject, body_text, body_html, status, attempts, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                ),
                messages,
            )
            conn.commit()
    finally:
        conn.close()


def _assignment_bodies(ob, label, name, contact, items, link, subject):  # type: ignore[no-untyped-def]
    text = [
        _greeting(name, contact),
        "",
        f"根据{ob.basis}，请贵单位按时完成「{ob.title}（{label}）」的以下事项：",
        "",
    ]
    html = [
        f'<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(subject)}</title>\n</head>\n<body>\n"
        f"<p>{escape(_greeting(name, contact))}</p>\n"
        f"<p>根据{escape(ob.basis)}，请贵单位按时完成<strong>{escape(ob.title)}（{label}）</strong>"
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
    from zwgk.obligation import DEFAULT_LADDER
    from zwgk.web.tokens import unit_link
    from zwgk.workcal import WorkCalendar
    from zwgk.workflows.registry import item_ladders, item_titles

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
        # Leads are copied only on steps where they coordinate someone (a non-lead unit).
        coordinated = set(
            cur.execute(
                "SELECT DISTINCT obligation, period, step FROM checklistitem WHERE role <> 'lead'"
            )
        )
        leads: dict[tuple[str, str, str], list[str]] = defaultdict(list)
        for ob, period, step, email in cur.execute(
            "SELECT i.obligation, i.period, i.step, u.email FROM checklistitem i "
            "JOIN unit u ON u.id = i.unit_id WHERE i.role = 'lead' ORDER BY i.id"
        ):
            if email and (ob, period, step) in coordinated:
                leads[(ob, period, step)].append(email)
        office = {
            d: e
            for d, e in cur.execute(
                q("SELECT district, email FROM unit WHERE kind = 'office' AND active = ?"),
                (db.bool(True),),
            )
        }

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

        when_memo: dict[date, str] = {}
        now = db.ts(datetime.now(UTC))
        on_today = db.bind_date(today)
        skipped_rows = []
        digest: dict[int, list[Any]] = defaultdict(list)
        units: dict[int, Any] = {}
        for row in rows:
            iid, ob, _p, _s, _t, _r, due, _pv, after, uid = row[:10]
            due, after = db.to_date(due), db.to_date(after)
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
        messages = []
        sent: list[tuple[str, list[tuple[int, str]]]] = []
        for uid, entries in digest.items():
            _, _, _, _, _, _, _, _, _, _, name, contact, email, district = units[uid]
            if not email:
                continue
            entries.sort(key=lambda e: (e[1], e[0][0]))
            escalation = any(b[3] for _, _, b in entries)
            cc: list[str] = []
            if escalation:
                found = []
                for row, _, b in entries:
                    if b[3]:
                        found += leads.get((row[1], row[2], row[3]), [])
                if office.get(district):
                    found.append(office[district])
                for e in found:
                    if e and e != email and e not in cc:
                        cc.append(e)
            pairs = sorted(f"{row[0]}:{b[0]}" for row, _, b in entries)
            key = (
                f"reminder:unit={uid}:{today.isoformat()}:"
                + hashlib.sha1("|".join(pairs).encode()).hexdigest()[:12]
            )
            overdue = any(due < today for _, due, _ in entries)
            subject = (
                "【政务公开·逾期催办】" if escalation else "【政务公开·提醒】"
            ) + f"{name}有 {len(entries)} 项事项{'已逾期或' if overdue else ''}即将到期"
            lines, cells = [], []
            for row, due, _b in entries:
                when = when_memo.get(due)
                if when is None:
                    left = days.between(today, due)
                    if due >= today:
                        when = "今日截止" if due == today else f"还剩 {left} 个工作日"
                    else:
                        when = f"已逾期 {-left} 个工作日" if left < 0 else "已逾期"
                    when_memo[due] = when
                ob_title = titles.get(row[1], row[1])
                mark = "（暂定）" if row[7] else ""
                lines.append(
                    f"[{row[0]}] {ob_title}（{row[2]}）：{row[4]}\n    角色：{ROLE_LABELS[row[5]]}\n"
                    f"    截止：{cn_date(due)}{mark}，{when}\n"
                )
                cells.append(
                    f"<tr>\n<td>{row[0]}</td>\n<td>{escape(ob_title)}（{escape(row[2])}）</td>\n"
                    f"<td>{escape(row[4])}</td>\n<td>{ROLE_LABELS[row[5]]}</td>\n"
                    f"<td>{cn_date(due)}{mark}</td>\n<td>{escape(when)}</td>\n</tr>\n"
                )
            link = unit_link(uid, settings)
            note = "以下事项已逾期，本邮件同时抄送牵头单位和区政府办公室（政务公开办）。"
            text = "\n".join(
                [
                    _greeting(name, contact),
                    "",
                    *([note, ""] if escalation else []),
                    f"截至 {cn_date(today)}，贵单位以下事项尚未登记完成：",
                    "",
                    *lines,
                    "完成后请打开以下链接登记完成情况（填写公开网址）：",
                    link,
                    "",
                    "——",
                    FOOTER,
                ]
            )
            html = (
                f'<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
                f"<title>{escape(subject)}</title>\n</head>\n<body>\n"
                f"<p>{escape(_greeting(name, contact))}</p>\n"
                + (f"<p><strong>{note}</strong></p>\n" if escalation else "")
                + f"<p>截至 {cn_date(today)}，贵单位以下事项尚未登记完成：</p>\n<table>\n"
                "<tr><th>事项编号</th><th>事项</th><th>工作内容</th><th>角色</th><th>截止日期</th>"
                "<th>状态</th></tr>\n" + "".join(cells) + "</table>\n"
                f'<p>完成后请点击以下链接登记完成情况（填写公开网址）：<br><a href="{escape(link)}">'
                f"{escape(link)}</a></p>\n<p>{FOOTER}</p>\n</body>\n</html>"
            )
            messages.append(
                (
                    key,
                    email,
                    json.dumps(cc),
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
