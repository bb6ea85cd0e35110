"""SQLModel tables and enums."""

from models.agency import Agency, User
from models.audit import AuditEntry
from models.case import Case, LegalHold, Survivor
from models.consent import ConsentRecord
from models.event import Event
from models.idempotency import IdempotencyKey
from models.notification import Notification
from models.task import Task

__all__ = [
    "Agency",
    "AuditEntry",
    "Case",
    "ConsentRecord",
    "Event",
    "IdempotencyKey",
    "LegalHold",
    "Notification",
    "Survivor",
    "Task",
    "User",
]
