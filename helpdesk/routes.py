"""Every router of the application, in one list."""

from __future__ import annotations

from litestar import Router
from litestar.types import ControllerRouterHandler


def api_router() -> Router:
    from helpdesk.accounts.api import ApiTokenController, AuthController, GroupController, UserController
    from helpdesk.channels.email.api import InboundMailController
    from helpdesk.customers.api import CustomerController, OrganisationController
    from helpdesk.field.api import dispatch_router
    from helpdesk.reports.api import SlaReportController
    from helpdesk.tickets.api import TicketController, download_attachment, track_ticket
    from knowledge_base.api import ArticleController, KnowledgeSearchController
    from sla.api import CalendarController, ContractController, PolicyController, recompute_policy

    return Router(
        path="/api/v1",
        route_handlers=[
            AuthController,
            ApiTokenController,
            UserController,
            GroupController,
            OrganisationController,
            CustomerController,
            TicketController,
            download_attachment,
            track_ticket,
            CalendarController,
            PolicyController,
            ContractController,
            recompute_policy,
            SlaReportController,
            InboundMailController,
            dispatch_router(),
            ArticleController,
            KnowledgeSearchController,
        ],
    )


def web_routes() -> list[ControllerRouterHandler]:
    from helpdesk.core.errors import DomainError
    from helpdesk.field.api import ical_router
    from helpdesk.web.admin import AdminPages
    from helpdesk.web.admin_field import FieldAdminPages
    from helpdesk.web.admin_sla import SlaAdminPages
    from helpdesk.web.agent import AgentConsole
    from helpdesk.web.agent_ticket import AgentTicketPages
    from helpdesk.web.auth import AuthPages
    from helpdesk.web.canned import CannedPages
    from helpdesk.web.dispatcher import DispatcherPages
    from helpdesk.web.inbound_mail import InboundMailPages, count_flagged_mail
    from helpdesk.web.kb import KnowledgePages
    from helpdesk.web.kb_admin import KnowledgeCategoryPages
    from helpdesk.web.live import ticket_events
    from helpdesk.web.manager import ManagerDashboard
    from helpdesk.web.portal import PortalController
    from helpdesk.web.render import web_error_handler
    from helpdesk.web.settings_page import SettingsPages
    from helpdesk.web.technician import TechnicianPages
    from helpdesk.web.tracking import TrackingPages
    from helpdesk.web.work_orders import WorkOrderPages

    # Pages answer errors with pages (sign-in, a short explanation), not the API's JSON.
    pages = Router(
        path="/",
        route_handlers=[
            PortalController,
            TrackingPages,
            AuthPages,
            SettingsPages,
            AgentConsole,
            AgentTicketPages,
            ManagerDashboard,
            TechnicianPages,
            AdminPages,
            SlaAdminPages,
            WorkOrderPages,
            DispatcherPages,
            CannedPages,
            FieldAdminPages,
            KnowledgePages,
            KnowledgeCategoryPages,
            InboundMailPages,
        ],
        exception_handlers={DomainError: web_error_handler},
        # The console navigation shows how many inbound mails wait for review.
        before_request=count_flagged_mail,
    )
    return [pages, ticket_events, ical_router()]
