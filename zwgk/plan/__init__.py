"""Work plans (工作要点任务分解表): table reading, deadline and responsible-unit phrases, import.

Only the standard-library phrase parsers are re-exported here, so importing ``zwgk.plan``
stays cheap; import ``zwgk.plan.importer`` / ``zwgk.plan.tables`` explicitly.
"""

from zwgk.plan.deadlines import DeadlineError, DueSpec, parse_deadline
from zwgk.plan.unitphrases import DirectoryEntry, UnitAssignment, parse_units

__all__ = [
    "DeadlineError",
    "DirectoryEntry",
    "DueSpec",
    "UnitAssignment",
    "parse_deadline",
    "parse_units",
]
