"""The root ``zwgk`` command: the command modules put together, and how errors end a run."""

from __future__ import annotations

import sys

import typer

from zwgk.cli import (
    annual,
    applications,
    audit,
    calendar,
    db,
    deployments,
    events,
    init,
    items,
    outbox,
    plan,
    report,
    run,
    services,
    units,
    users,
)
from zwgk.cli.help import chinese_help
from zwgk.errors import UserError

chinese_help()

app = typer.Typer(
    help="政务公开事项管理：单位名录、工作日历、事项清单、通知与完成登记。",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
# Commands of the root itself (merged, in this order), then the command groups.
app.add_typer(init.app)
app.add_typer(run.app)
app.add_typer(items.app)
app.add_typer(services.app)
app.add_typer(units.app, name="units")
app.add_typer(calendar.app, name="calendar")
app.add_typer(outbox.app, name="outbox")
app.add_typer(services.mail_app, name="mail")
app.add_typer(plan.app, name="plan")
app.add_typer(events.app, name="event")
app.add_typer(report.app, name="report")
app.add_typer(applications.app, name="applications")
app.add_typer(annual.app, name="annual")
app.add_typer(db.app, name="db")
app.add_typer(users.app, name="users")
app.add_typer(audit.app, name="audit")
app.add_typer(deployments.app, name="deployments")


def main(argv: list[str] | None = None) -> None:
    """Entry point: user errors become one Chinese line and a non-zero exit, never a traceback;
    usage errors the usage line and one Chinese sentence, exit 2."""
    import logging

    from zwgk.cli import usage

    # Our English log lines go to Prefect's handlers inside flows; on the command line the
    # Chinese messages say it, so keep Python's last-resort handler quiet.
    logging.getLogger("zwgk").addHandler(logging.NullHandler())
    usage_error, click_error = usage.click_classes()
    try:
        _prefect_home()
        rc = app(args=argv, standalone_mode=False)
        if isinstance(rc, int) and rc:
            sys.exit(rc)
    except UserError as exc:
        typer.echo(f"错误：{exc.message}", err=True)
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("已取消。", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        typer.echo("已中断。", err=True)
        sys.exit(130)
    except usage_error as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # `zwgk units`: the group's help
            exc.show()  # type: ignore[attr-defined]
        else:
            usage.show(exc)
        sys.exit(2)
    except click_error as exc:  # e.g. a file typer could not open
        typer.echo(f"错误：{exc.format_message()}", err=True)  # type: ignore[attr-defined]
        sys.exit(1)
    except _db_errors() as exc:
        typer.echo(
            f"错误：无法访问数据库（{exc.__class__.__name__}: {str(exc).splitlines()[0]}）",
            err=True,
        )
        sys.exit(3)


def _prefect_home() -> None:
    """Prefect's home before anything imports Prefect (it reads the home on import)."""
    from deployments.prefect_api import default_home
    from zwgk.config import get_settings

    default_home(get_settings())


def _db_errors():  # type: ignore[no-untyped-def]
    from sqlalchemy.exc import OperationalError

    return OperationalError
