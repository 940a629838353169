"""Imports from the workbench (/admin/import/{units,plan,holidays,register}).

Upload a file → a preview that writes nothing → 确认导入, which writes. The preview runs the
CLI's own intake function (``import_units``, ``import_plan``, ``import_overrides``,
``import_register``) in a transaction that is rolled back, as ``zwgk plan import --dry-run``
does; the confirm runs it again in one that commits, with one audit entry (who, file, counts).

The uploaded file waits between the two under ``var/uploads/imports/`` with a random name;
its token is bound to the session that uploaded it (a sidecar JSON names the account, the
session's CSRF token and the form's parameters). A confirm claims the file by renaming it
(atomic), so a double-submitted confirm writes once; the second sees the first's result.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from models.annual import Application
from models.calendar import HolidayOverride
from models.directory import declared_kinds, districts, kind_label
from models.unit import Unit
from notifications.render import cn_day
from workflows.workcal import load_calendar
from zwgk.access.audit import record
from zwgk.config import get_settings
from zwgk.db import get_engine, session_scope
from zwgk.errors import UserError
from zwgk.intake.directory import import_units
from zwgk.intake.holidays import import_overrides
from zwgk.intake.plan.importer import import_plan
from zwgk.intake.register import import_register
from zwgk.intake.tabular import FIRST_YEAR, LAST_YEAR, parse_date
from zwgk.web.admin.common import Principal, action, csrf_ok, current, page, refusal, view
from zwgk.web.limits import BadBody, BodyTooLarge, read_form, small_int

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_PENDING = 5  # previews a session keeps open at once
MAX_AGE_SECONDS = 24 * 3600  # a preview older than this is stale; its files are removed
ZIP_MAGIC = b"PK\x03\x04"


@dataclass
class Outcome:
    """What an import did (or would do): the CLI's counts, changed rows, warnings."""

    summary: str
    counts: dict[str, int]
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    before: dict[str, Any] | None = None  # the audit entry's before/after, when not the counts
    after: dict[str, Any] | None = None


@dataclass(frozen=True)
class Kind:
    slug: str
    title: str
    exts: tuple[str, ...]
    columns_hint: str
    run: Callable[[Session, Path, dict[str, str], Principal], Outcome]
    district_of: Callable[[dict[str, str], Principal], str | None]


def _labelled(before: dict[Any, tuple], after: dict[Any, tuple]) -> list[tuple[str, Any]]:
    """Keys new or changed between two snapshots, labelled 新增/更新, in ``after``'s order."""
    out = []
    for key, values in after.items():
        if key not in before:
            out.append(("新增", key))
        elif before[key] != values:
            out.append(("更新", key))
    return out


# ---------------------------------------------------------------------------- units


def _units_district(params: dict[str, str], who: Principal) -> str | None:
    return who.district or params.get("district") or get_settings().default_district or None


def _unit_snapshot(s: Session, district: str) -> dict[str, tuple]:
    return {
        u.name: (str(u.kind), u.email, u.contact, tuple(u.aliases), tuple(u.groups))
        for u in s.exec(select(Unit).where(Unit.district == district).order_by(col(Unit.id)))
    }


def _run_units(s: Session, path: Path, params: dict[str, str], who: Principal) -> Outcome:
    district = _units_district(params, who)
    if not district:
        known = districts(session=s)
        if len(known) != 1:
            raise UserError("请填写区名（如 长宁区）")
        district = str(known[0])
    before = _unit_snapshot(s, district)
    r = import_units(session=s, path=path, district=district)
    s.flush()
    after = _unit_snapshot(s, district)
    declared = declared_kinds(session=s, district=district)
    changes: dict[str, list[str]] = {}
    for c in r.changes:
        changes.setdefault(c.unit, []).append(str(c))
    rows = [
        [
            label,
            name,
            kind_label(after[name][0], declared),
            after[name][1],
            after[name][2],
            "、".join(after[name][3]),
            "；".join(changes.get(name, [])),
        ]
        for label, name in _labelled(before, after)
    ]
    audit_before, audit_after = r.audit_values()
    return Outcome(
        f"{district}：新增 {r.created} 个单位，更新 {r.updated} 个，未变 {r.unchanged} 个。",
        r.counts,
        ["变动", "单位", "类别", "邮箱", "联络员", "又称", "改动内容（原 → 新）"],
        rows,
        before=audit_before,
        after=audit_after,
    )


# ---------------------------------------------------------------------------- holidays


def _holiday_snapshot(s: Session) -> dict[date, tuple]:
    return {
        h.day: (h.kind, h.name)
        for h in s.exec(select(HolidayOverride).order_by(col(HolidayOverride.day)))
    }


def _run_holidays(s: Session, path: Path, params: dict[str, str], who: Principal) -> Outcome:
    before = _holiday_snapshot(s)
    n = import_overrides(session=s, path=path)
    s.flush()
    after = _holiday_snapshot(s)
    kinds = {"holiday": "放假", "workday": "调休上班"}
    rows = [
        [label, cn_day(day), kinds.get(after[day][0], after[day][0]), after[day][1]]
        for label, day in _labelled(before, after)
    ]
    return Outcome(
        f"节假日安排：共 {n} 条（新增或变动 {len(rows)} 条）。",
        {"rows": n, "changed": len(rows)},
        ["变动", "日期", "安排", "名称"],
        rows,
    )


# ---------------------------------------------------------------------------- register


def _app_snapshot(s: Session) -> dict[str, tuple]:
    stmt = (
        select(Application, Unit)
        .join(Unit, col(Unit.id) == col(Application.unit_id))
        .order_by(col(Application.received), col(Application.id))
    )
    return {
        a.fingerprint: (
            u.name,
            a.ref,
            cn_day(a.received),
            a.applicant_type,
            a.outcome or "（办理中）",
            cn_day(a.replied) if a.replied else "",
            "是" if a.extended else "",
        )
        for a, u in s.exec(stmt)
    }


def _optional_district(params: dict[str, str], who: Principal) -> str | None:
    return who.district or params.get("district") or None


def _run_register(s: Session, path: Path, params: dict[str, str], who: Principal) -> Outcome:
    before = _app_snapshot(s)
    r = import_register(
        session=s, path=path, district=_optional_district(params, who), settings=get_settings()
    )
    s.flush()
    after = _app_snapshot(s)
    rows = [[label, *after[fp]] for label, fp in _labelled(before, after)]
    return Outcome(
        f"依申请公开登记：新增 {r.created} 件，更新 {r.updated} 件，未变 {r.unchanged} 件。",
        {"created": r.created, "updated": r.updated, "unchanged": r.unchanged},
        ["变动", "单位", "编号", "收到日期", "申请人类型", "办理结果", "答复日期", "延期"],
        rows,
    )


# ---------------------------------------------------------------------------- plan


def _plan_district(params: dict[str, str], who: Principal) -> str | None:
    return who.district or params.get("district") or None


def _plan_params(params: dict[str, str], who: Principal) -> tuple[str, int, date]:
    district = _plan_district(params, who)
    if not district:
        raise UserError("请填写区名（如 长宁区）")
    year_text = params.get("year", "").strip()
    year = small_int(year_text, hi=LAST_YEAR)
    if year is None or year < FIRST_YEAR:
        raise UserError(f"年度「{year_text}」无效（应在 {FIRST_YEAR}–{LAST_YEAR} 年之间）")
    try:
        issued = parse_date(params.get("issued", ""))
    except ValueError as exc:
        raise UserError(f"印发日期：{exc}") from None
    if issued is None:
        raise UserError("请填写印发日期（YYYY-MM-DD）")
    return district, year, issued


def _run_plan(s: Session, path: Path, params: dict[str, str], who: Principal) -> Outcome:
    district, year, issued = _plan_params(params, who)
    report = import_plan(
        session=s,
        path=path,
        district=district,
        year=year,
        issued=issued,
        cal=load_calendar(s),
        dry_run=params.get("_dry_run") == "1",
        lenient=params.get("lenient") == "1",
        default_deadline=params.get("default_deadline", "").strip() or None,
    )
    rows = [
        [
            t.seq,
            t.name,
            t.deadline_text,
            cn_day(t.due) if t.due else "（未定）",
            "、".join(t.lead_units),
            "、".join(t.units),
            "、".join(t.cooperating_units),
        ]
        for t in report.tasks
    ]
    summary = (
        f"{district} {year} 年工作要点：{len(report.tasks)} 项任务（新增 {report.created}，"
        f"更新 {report.updated}，未变 {report.unchanged}，撤销 {report.retired}）。"
    )
    return Outcome(
        summary,
        {
            "tasks": len(report.tasks),
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "retired": report.retired,
        },
        ["序号", "任务", "完成时间", "截止日期", "牵头单位", "责任单位", "配合单位"],
        rows,
        report.warnings,
    )


KINDS = {
    k.slug: k
    for k in (
        Kind(
            "units",
            "单位名录",
            (".csv",),
            "CSV：name,aliases,kind,email,contact,groups",
            _run_units,
            _units_district,
        ),
        Kind(
            "plan",
            "年度工作要点任务分解表",
            (".xlsx", ".docx", ".csv", ".tsv"),
            "任务分解表：.xlsx、.docx、.csv 或 .tsv",
            _run_plan,
            _plan_district,
        ),
        Kind(
            "holidays",
            "节假日安排",
            (".csv",),
            "CSV：date,kind,name（kind 为 holiday 或 workday）",
            _run_holidays,
            lambda params, who: None,
        ),
        Kind(
            "register",
            "依申请公开登记",
            (".csv", ".xlsx"),
            "CSV 或 XLSX：unit,received,applicant_type,outcome,replied[,ref,extended]",
            _run_register,
            _optional_district,
        ),
    )
}
PARAMS = ("district", "year", "issued", "lenient", "default_deadline")


# ---------------------------------------------------------------------------- storage


def _folder() -> Path:
    folder = get_settings().var_dir / "uploads" / "imports"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def _sweep(now: float) -> None:
    """Remove what previews older than :data:`MAX_AGE_SECONDS` left (files never confirmed,
    results already shown)."""
    for path in _folder().iterdir():
        try:
            if now - path.stat().st_mtime > MAX_AGE_SECONDS:
                path.unlink()
        except OSError:
            pass  # another request removed it first


def _fresh(sidecar: Path) -> bool:
    try:
        return time.time() - sidecar.stat().st_mtime <= MAX_AGE_SECONDS
    except OSError:
        return False


def _paths(token: str, ext: str) -> tuple[Path, Path, Path, Path]:
    """The waiting file, its sidecar, the file once claimed by a confirm, and the result.
    The intake reads by suffix (.xlsx vs .csv): both files keep the upload's."""
    folder = _folder()
    return (
        folder / f"{token}{ext}",
        folder / f"{token}.json",
        folder / f"{token}.claimed{ext}",
        folder / f"{token}.done",
    )


def _kind(request: Request) -> Kind:
    """The kind of import a path names (the routes admit only known slugs)."""
    return KINDS[request.url.path.split("/import/", 1)[1].split("/")[0]]


def _valid_token(token: str) -> bool:
    return 20 <= len(token) <= 64 and all(c.isalnum() or c in "-_" for c in token)


def _content_ok(ext: str, head: bytes) -> bool:
    """The type by content: Office files are zip archives; text files have no NUL byte and
    decode as UTF-8 (with or without a BOM) or GB18030."""
    if ext in (".xlsx", ".docx"):
        return head.startswith(ZIP_MAGIC)
    if head.startswith(ZIP_MAGIC) or b"\x00" in head:
        return False
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            head.decode(encoding)
            return True
        except UnicodeDecodeError as exc:
            if encoding == "utf-8-sig" and exc.start >= len(head) - 3:
                return True  # a character cut at the end of the sample
    return False


def _shown(message: str, path: Path, name: str) -> str:
    """The intake's message with the upload's temporary path replaced by the file's name."""
    return message.replace(str(path), name).replace(path.name, name)


# ---------------------------------------------------------------------------- pages


def _not_for(kind: Kind, who: Principal) -> Response | None:
    """A viewer imports nothing; the holidays apply to every district, so only an account
    not limited to one imports them."""
    if not who.is_admin:
        return refusal(
            403, "无权操作", "您的账号为只读账号，可以查看但不能修改，未作任何改动。", who
        )
    if kind.slug == "holidays" and who.district:
        return refusal(
            403,
            "无权操作",
            "节假日安排适用于所有区，须由不限区的管理员导入；您的账号限于"
            f"{who.district}，未作任何改动。",
            who,
        )
    return None


def _form_page(kind: Kind, who: Principal, status: int = 200, **ctx: Any) -> Response:
    if (refused := _not_for(kind, who)) is not None:
        return refused
    settings = get_settings()
    defaults = {
        "district": who.district or settings.default_district or "",
        "year": str(date.today().year),
        "issued": "",
        "lenient": "",
        "default_deadline": "",
    }
    defaults.update(ctx.pop("params", {}))
    return page(
        "admin/import.html",
        status,
        who=who,
        kind=kind,
        kinds=KINDS,
        params=defaults,
        limit_mb=MAX_UPLOAD_BYTES // (1024 * 1024),
        **ctx,
    )


def import_form(request: Request, who: Principal) -> Response:
    """导入页面: choose a file (and, for the plan, the district, year and issue date)."""
    return _form_page(_kind(request), who)


def _preview(kind: Kind, who: Principal, path: Path, name: str, params: dict[str, str]) -> Any:
    """Run the import in a transaction that is rolled back: the CLI's --dry-run."""
    with Session(get_engine(), expire_on_commit=False) as s:
        try:
            return kind.run(s, path, {**params, "_dry_run": "1"}, who)
        except UserError as exc:
            return _shown(exc.message, path, name)
        finally:
            s.rollback()


async def upload(request: Request) -> Response:
    """The upload: checks, then the preview page (nothing written)."""
    kind = _kind(request)
    who = await run_in_threadpool(current, request)
    if isinstance(who, Response):
        return who
    too_large = refusal(
        413,
        "文件过大",
        f"上传的文件超过 {MAX_UPLOAD_BYTES // (1024 * 1024)} MB 的上限，未作任何改动。",
        who,
        back=f"/admin/import/{kind.slug}",
    )
    # The role first: a viewer is refused (403) whatever the body, before it is read.
    if (refused := _not_for(kind, who)) is not None:
        return refused
    ctype = request.headers.get("content-type", "")
    if not ctype.startswith("multipart/form-data"):
        return refusal(400, "无法处理的请求", "请用页面上的表单选择文件上传。", who)
    try:
        # With or without a Content-Length: a chunked body is counted as it arrives.
        form = await read_form(
            request, limit=MAX_UPLOAD_BYTES + 64 * 1024, max_files=1, max_fields=20
        )
    except BodyTooLarge:
        return too_large
    except BadBody:
        return refusal(400, "无法处理的请求", "上传内容格式不正确，请重新选择文件上传。", who)
    try:
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        if not csrf_ok(request, fields):
            return refusal(
                403,
                "请求已失效",
                "页面已过期或请求来源不明（缺少有效的校验码），未作任何改动。请返回并刷新页面后重试。",
                who,
            )
        if (refused := _not_for(kind, who)) is not None:
            return refused
        upload_file = form.get("file")
        params = {k: fields.get(k, "").strip()[:200] for k in PARAMS}
        if not isinstance(upload_file, UploadFile) or not upload_file.filename:
            return _form_page(kind, who, 400, error="请选择要导入的文件。", params=params)
        name = Path(upload_file.filename).name[:120]
        ext = Path(name).suffix.lower()
        if ext not in kind.exts:
            return _form_page(
                kind,
                who,
                415,
                error=f"文件「{name}」的类型不对：{kind.title}应为 {'、'.join(kind.exts)} 文件。",
                params=params,
            )
        data = await upload_file.read(MAX_UPLOAD_BYTES + 1)
    finally:
        await form.close()
    if len(data) > MAX_UPLOAD_BYTES:
        return too_large
    if not data:
        return _form_page(kind, who, 400, error=f"文件「{name}」是空的。", params=params)
    if not _content_ok(ext, data[:4096]):
        return _form_page(
            kind,
            who,
            415,
            error=f"文件「{name}」的内容与扩展名 {ext} 不符（不是 {kind.title}所需的文件），未作任何改动。",
            params=params,
        )
    return await run_in_threadpool(_store_and_preview, request, kind, who, name, ext, data, params)


def _store_and_preview(
    request: Request,
    kind: Kind,
    who: Principal,
    name: str,
    ext: str,
    data: bytes,
    params: dict[str, str],
) -> Response:
    _sweep(time.time())
    token = secrets.token_urlsafe(24)
    waiting, sidecar, _claimed, _done = _paths(token, ext)
    fd = os.open(waiting, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    outcome = _preview(kind, who, waiting, name, params)
    if isinstance(outcome, str):
        waiting.unlink(missing_ok=True)
        return page(
            "admin/import_preview.html",
            422,
            who=who,
            kind=kind,
            file_name=name,
            errors=outcome.splitlines(),
            outcome=None,
            token="",
        )
    sidecar.write_text(
        json.dumps(
            {"uid": who.id, "csrf": who.csrf, "kind": kind.slug, "name": name, "ext": ext}
            | {"params": params}
        ),
        encoding="utf-8",
    )
    pending = [t for t in request.session.get("imports", []) if isinstance(t, str)]
    request.session["imports"] = [*pending, token][-MAX_PENDING:]
    return page(
        "admin/import_preview.html",
        who=who,
        kind=kind,
        file_name=name,
        errors=[],
        outcome=outcome,
        token=token,
    )


def _stale(who: Principal, kind: Kind) -> Response:
    return refusal(
        410,
        "预览已失效",
        "这份预览已失效（已导入、已过期，或不是本次登录上传的文件），未作任何改动。请重新上传文件。",
        who,
        back=f"/admin/import/{kind.slug}",
    )


def confirm(request: Request, who: Principal, form: dict[str, str]) -> Response:
    """确认导入: claim the waiting file (once), import it for real, audit, show the result."""
    kind = _kind(request)
    if (refused := _not_for(kind, who)) is not None:
        return refused
    token = form.get("token", "")
    if not _valid_token(token) or token not in request.session.get("imports", []):
        return _stale(who, kind)
    _w, sidecar, _c, done = _paths(token, "")
    if not _fresh(sidecar):
        return _stale(who, kind)
    try:
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return _stale(who, kind)
    waiting, _s, claimed, _d = _paths(token, meta.get("ext", ""))
    if meta.get("uid") != who.id or meta.get("csrf") != who.csrf or meta.get("kind") != kind.slug:
        return _stale(who, kind)
    if done.exists():
        return RedirectResponse(f"/admin/import/{kind.slug}/done/{token}", status_code=303)
    try:
        os.rename(waiting, claimed)  # atomic: of two confirms, one wins
    except FileNotFoundError:
        if done.exists():
            return RedirectResponse(f"/admin/import/{kind.slug}/done/{token}", status_code=303)
        return refusal(
            409,
            "正在导入",
            "这份文件正在导入（请勿重复提交），请稍后查看操作日志。",
            who,
            back=f"/admin/import/{kind.slug}",
        )
    name, params = meta["name"], meta["params"]
    try:
        with session_scope() as s:
            outcome = kind.run(s, claimed, params, who)
            record(
                session=s,
                user=who.name,
                action=f"import-{kind.slug}",
                target=name,
                district=kind.district_of(params, who),
                detail=f"导入{kind.title}「{name}」：{outcome.summary}",
                before=outcome.before,
                after=outcome.after or outcome.counts,
            )
    except UserError as exc:
        os.rename(claimed, waiting)  # nothing written: the preview may be confirmed again
        return page(
            "admin/import_preview.html",
            422,
            who=who,
            kind=kind,
            file_name=name,
            errors=_shown(exc.message, claimed, name).splitlines(),
            outcome=None,
            token="",
        )
    done.write_text(json.dumps(asdict(outcome), ensure_ascii=False), encoding="utf-8")
    claimed.unlink(missing_ok=True)
    return RedirectResponse(f"/admin/import/{kind.slug}/done/{token}", status_code=303)


def done_page(request: Request, who: Principal) -> Response:
    """The result of a confirmed import (also what a repeated confirm lands on)."""
    kind = _kind(request)
    token = request.path_params["token"]
    if not _valid_token(token) or token not in request.session.get("imports", []):
        return _stale(who, kind)
    _w, sidecar, _c, done = _paths(token, "")
    try:
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
        outcome = Outcome(**json.loads(done.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return _stale(who, kind)
    if meta.get("uid") != who.id:
        return _stale(who, kind)
    return page(
        "admin/import_done.html", who=who, kind=kind, file_name=meta["name"], outcome=outcome
    )


routes = [
    *(
        r
        for slug in KINDS
        for r in (
            Route(f"/import/{slug}", view(import_form), methods=["GET"]),
            Route(f"/import/{slug}", upload, methods=["POST"]),
            Route(f"/import/{slug}/confirm", action(confirm), methods=["POST"]),
            Route(f"/import/{slug}/done/{{token}}", view(done_page), methods=["GET"]),
        )
    ),
]
