"""Imports every domain's tables so ``Base.metadata`` is complete (Alembic and the schema check read it)."""

from dispatch import models as dispatch_models
from helpdesk.accounts import models as accounts_models
from helpdesk.canned import models as canned_models
from helpdesk.channels.email import models as mail_models
from helpdesk.core import outbox
from helpdesk.core.db import Base
from helpdesk.customers import models as customers_models
from helpdesk.feedback import models as feedback_models
from helpdesk.notifications import models as notifications_models
from helpdesk.reports import models as reports_models
from helpdesk.tickets import models as tickets_models
from helpdesk.web import models as web_models
from knowledge_base import models as kb_models
from sla import models as sla_models

__all__ = [
    "Base",
    "accounts_models",
    "canned_models",
    "customers_models",
    "dispatch_models",
    "feedback_models",
    "kb_models",
    "mail_models",
    "notifications_models",
    "outbox",
    "reports_models",
    "sla_models",
    "tickets_models",
    "web_models",
]
