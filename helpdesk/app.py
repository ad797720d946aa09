"""``create_app()``: wires routers, error mapping, templates and the runtime. Nothing happens at import time."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from pathlib import Path

from litestar import Litestar, get
from litestar.config.compression import CompressionConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from helpdesk.core.clock import Clock
from helpdesk.core.http import EXCEPTION_HANDLERS
from helpdesk.core.queue import InProcessJobQueue
from helpdesk.core.settings import Settings
from helpdesk.runtime import Runtime, start_runtime, stop_runtime

WEB_DIR = Path(__file__).parent / "web"


@get("/healthz", include_in_schema=False, sync_to_thread=False)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    in_process_jobs: bool | None = None,
    run_crons: bool = True,
) -> Litestar:
    """Build the ASGI application; the database, Redis and the job queue are connected at start-up."""
    from helpdesk.accounts.dependencies import provide_principal
    from helpdesk.routes import api_router, web_routes
    from helpdesk.web.i18n import configure_jinja
    from helpdesk.web.live import connect_publisher, live_channels
    from knowledge_base.live_index import close_live_index, live_index

    channels, close_channels = live_channels(settings or Settings.from_env())

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        runtime = await start_runtime(
            settings or Settings.from_env(), clock=clock, in_process_jobs=in_process_jobs
        )
        app.state.runtime = runtime
        connect_publisher(channels, runtime)
        live_index(runtime)  # the knowledge-base index builds in the background, answering meanwhile
        # What start-up built (routes, mappers, templates, catalogs) lives as long as the process: out of the
        # collector's scans, collections cost half (intake benchmark: GC 4 % -> 2 % of the server's CPU).
        gc.freeze()
        stop = asyncio.Event()
        cron_task = None
        if run_crons and isinstance(runtime.queue, InProcessJobQueue):
            from helpdesk.worker import run_crons_in_process

            cron_task = asyncio.create_task(run_crons_in_process({"runtime": runtime}, stop))
        try:
            yield
        finally:
            stop.set()
            if cron_task is not None:
                await cron_task
            await close_live_index(runtime)
            await stop_runtime(runtime)

    def provide_runtime(state: State) -> Runtime:
        runtime: Runtime = state.runtime
        return runtime

    return Litestar(
        route_handlers=[
            healthz,
            api_router(),
            *web_routes(),
            create_static_files_router(
                path="/static", directories=[WEB_DIR / "static"], include_in_schema=False
            ),
        ],
        lifespan=[lifespan],
        dependencies={
            "runtime": Provide(provide_runtime, sync_to_thread=False),
            "principal": Provide(provide_principal),
        },
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        template_config=TemplateConfig(
            directory=WEB_DIR / "templates", engine=JinjaTemplateEngine, engine_callback=configure_jinja
        ),
        plugins=[channels],
        on_shutdown=[close_channels],
        compression_config=CompressionConfig(backend="gzip", minimum_size=1024),
        openapi_config=OpenAPIConfig(
            title="Help desk API",
            version="1.0.0",
            description="Tickets, customers, SLA, knowledge base and field service. Authenticate with "
            "`Authorization: Bearer <token>` (API tokens) or the session cookie plus `X-CSRF-Token`.",
            path="/schema",
            render_plugins=[ScalarRenderPlugin()],
            # Examples come from the schemas (msgspec.Meta); generated ones can fail a struct's own validation
            # (e.g. an SLA warning needs one of two fields) and turned /schema/openapi.json into an error.
            create_examples=False,
            components=Components(
                security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer")},
            ),
        ),
        request_max_body_size=60 * 1024 * 1024,
    )
