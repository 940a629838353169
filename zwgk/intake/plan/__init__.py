"""Work plans (工作要点任务分解表): table reading, deadline and responsible-unit phrases, import.

Only the standard-library phrase parsers are re-exported here, so importing ``zwgk.intake.plan``
stays cheap; import ``zwgk.intake.plan.importer`` / ``zwgk.intake.plan.tables`` explicitly.
"""

from zwgk.intake.plan.deadlines import DeadlineError, DueSpec, parse_deadline
from zwgk.intake.plan.unitphrases import UnitAssignment, parse_units
from zwgk.intake.plan.unitresolve import DirectoryEntry

__all__ = [
    "DeadlineError",
    "DirectoryEntry",
    "DueSpec",
    "UnitAssignment",
    "parse_deadline",
    "parse_units",
]
