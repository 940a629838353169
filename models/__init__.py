"""SQLModel tables of the app database."""

from models.account import AuditEntry, User, UserRole
from models.annual import AnnualFigure, Application
from models.calendar import HolidayOverride
from models.checklist import ChecklistItem, ItemStatus, Role
from models.outbox import OutboxAttachment, OutboxMessage, OutboxStatus
from models.plan import Plan, PlanTask
from models.reminder import ItemEvent, ReminderLog
from models.submission import Attachment, ReviewState, Submission
from models.unit import DistrictKind, Unit, UnitKind

__all__ = [
    "Attachment",
    "AuditEntry",
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
    "ReviewState",
    "Role",
    "Submission",
    "Unit",
    "UnitKind",
    "User",
    "UserRole",
]
