"""SQLModel tables of the app database."""

from zwgk.models.annual import AnnualFigure, Application
from zwgk.models.calendar import HolidayOverride
from zwgk.models.checklist import ChecklistItem, ItemStatus, Role
from zwgk.models.outbox import OutboxAttachment, OutboxMessage, OutboxStatus
from zwgk.models.plan import Plan, PlanTask
from zwgk.models.reminder import ItemEvent, ReminderLog
from zwgk.models.unit import DistrictKind, Unit, UnitKind

__all__ = [
    "AnnualFigure",
    "Application",
    "ChecklistItem",
    "DistrictKind",
    "HolidayOverride",
    "ItemStatus",
    "OutboxAttachment",
    "OutboxMessage",
    "ItemEvent",
    "OutboxStatus",
    "Plan",
    "PlanTask",
    "ReminderLog",
    "Role",
    "Unit",
    "UnitKind",
]
