"""Composition root for the web process: the one place that wires every area into one Litestar app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import httpx
from arq import create_pool as create_arq_pool
from arq.connections import ArqRedis, RedisSettings
from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, YamlRenderPlugin
from litestar.plugins.prometheus import PrometheusConfig

from backend.access_log import citizen_routes, contest_routes
from backend.access_log.receipt_routes import RECEIPT_ROUTES
from backend.access_log.receipts import load_service_key
from backend.access_log.routes import ReportedAccessController
from backend.core.auth.cross_site import CrossSiteGuard
from backend.core.auth.middleware import SessionMiddleware
from backend.core.auth.oidc import OidcClient, OidcConfig
from backend.core.auth.routes import InstitutionController
from backend.core.db import ConnectionSource, create_pool, pool_source
from backend.core.errors import make_exception_handler
from backend.core.health import MetricsController, healthz, readyz
from backend.core.http_middleware import RequestContext
from backend.core.log_setup import configure_logging
from backend.core.request_metrics import RequestMetrics
from backend.core.request_transaction import (
    TransactionMiddleware,
    provide_connection,
    provide_read_connection,
    provide_subject_connection,
)
from backend.core.settings import Settings, SettingsError
from backend.records.citizen_routes import ROUTES as CITIZEN_RECORD_ROUTES
from backend.records.institution_error_routes import ROUTES as INSTITUTION_ERROR_REPORT_ROUTES
from backend.records.routes import ROUTES as RECORD_ROUTES
from backend.records.service import on_records_accepted
from consent.acting import may_act_for
from consent.receipt_routes import MANDATE_RECEIPT_ROUTES
from consent.routes import ROUTES as MANDATE_ROUTES
from frontend.assets import serve_static
from frontend.pages import access_log as access_log_pages
from frontend.pages import (
    access_log_contest,
    agent_clients,
    desk_help,
    desk_mandates,
    desk_review,
    desk_session,
    organisation_clients,
    review,
    staff_notifications,
)
from frontend.pages import desk as desk_pages
from frontend.pages import helpers as helpers_pages
from frontend.pages import helping as helping_pages
from frontend.pages import inbox as inbox_pages
from frontend.pages import my_data as my_data_pages
from frontend.pages import push_devices as push_device_pages
from frontend.pages.account import my_overview, switch_acting_context
from frontend.pages.dev_sign_in import dev_sign_in, dev_sign_in_page
from frontend.pages.general import accessibility_statement, choose_language, home
from frontend.pages.sign_in import oidc_callback, oidc_start, sign_in_page, sign_out
from frontend.rendering import render_error_page, template_config
from notifications.flexi import evaluate_flexi_after_ingest
from notifications.push_keys import vapid_private_key
from notifications.push_routes import ROUTES as PUSH_ROUTES
from notifications.routes import ROUTES as NOTIFICATION_ROUTES

on_records_accepted(evaluate_flexi_after_ingest)

API_VERSION = "0.1.0"
# Paths that never carry a form: machine clients authenticate with signed assertions, not cookies.
CSRF_EXEMPT = [r"^/api/", r"^/healthz$", r"^/readyz$", r"^/metrics$", r"^/schema"]


def oidc_config(settings: Settings) -> OidcConfig:
    """The relying-party configuration for the federal authentication service."""
    assert settings.oidc_issuer is not None
    assert settings.oidc_client_id is not None
    assert settings.oidc_client_secret is not None
    return OidcConfig(
        issuer=settings.oidc_issuer,
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        redirect_uri=f"{settings.base_url.rstrip('/')}/auth/oidc/callback",
    )


def create_app(
    settings: Settings,
    *,
    connection_source: ConnectionSource | None = None,
    redis: ArqRedis | None = None,
    oidc: OidcClient | None = None,
    configure_logs: bool = True,
) -> Litestar:
    """Build the web app. Tests pass their own connection source and Redis instead of the real pools."""
    if configure_logs:
        configure_logging(settings.log_level)

    # Read the Web Push key now: a bad VAPID_PRIVATE_KEY stops start-up, not the first settings page.
    vapid_private_key(settings)
    state = State(
        {
            "settings": settings,
            "service_key": load_service_key(settings.local_path, settings.service_signing_key),
            # The mandates area decides, on every request, whether a helper may still act for someone.
            "acting_for_check": may_act_for,
        }
    )
    if connection_source is not None:
        state.connection_source = connection_source
    if redis is not None:
        state.redis = redis
    if oidc is not None:
        state.oidc = oidc

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        """Open the pools this app owns (none when the caller passed its own, as tests do)."""
        pool: asyncpg.Pool | None = None
        own_redis: ArqRedis | None = None
        oidc_http: httpx.AsyncClient | None = None
        try:
            if connection_source is None:
                if settings.database_url is None:
                    raise SettingsError("DATABASE_URL: not set (`make run` starts an embedded database)")
                pool = await create_pool(
                    settings.database_url, min_size=settings.db_pool_min, max_size=settings.db_pool_max
                )
                app.state.connection_source = pool_source(pool)
            if redis is None:
                if settings.redis_url is None:
                    raise SettingsError("REDIS_URL: not set (`make run` starts an embedded Redis)")
                own_redis = await create_arq_pool(RedisSettings.from_dsn(settings.redis_url))
                app.state.redis = own_redis
            if settings.oidc_enabled and getattr(app.state, "oidc", None) is None:
                oidc_http = httpx.AsyncClient(timeout=10)
                app.state.oidc = OidcClient(oidc_config(settings), oidc_http)
            yield
        finally:
            if oidc_http is not None:
                await oidc_http.aclose()
            if own_redis is not None:
                await own_redis.aclose()
            if pool is not None:
                await pool.close()

    prometheus = PrometheusConfig(
        app_name="vitrine",
        prefix="vitrine",
        group_path=True,
        exclude=[r"^/metrics$", r"^/static/"],
        middleware_class=RequestMetrics,
    )
    route_handlers: list[Any] = [
        home,
        accessibility_statement,
        choose_language,
        serve_static,
        healthz,
        readyz,
        MetricsController,
        InstitutionController,
        ReportedAccessController,
        *RECEIPT_ROUTES,
        *citizen_routes.ROUTES,
        *access_log_pages.ROUTES,
        *RECORD_ROUTES,
        *INSTITUTION_ERROR_REPORT_ROUTES,
        *contest_routes.ROUTES,
        *access_log_contest.ROUTES,
        *review.ROUTES,
        *MANDATE_ROUTES,
        *NOTIFICATION_ROUTES,
        *PUSH_ROUTES,
        *push_device_pages.ROUTES,
        *inbox_pages.ROUTES,
        *staff_notifications.ROUTES,
        *CITIZEN_RECORD_ROUTES,
        *my_data_pages.ROUTES,
        *helpers_pages.ROUTES,
        *helping_pages.ROUTES,
        *organisation_clients.ROUTES,
        *agent_clients.ROUTES,
        *desk_pages.ROUTES,
        *desk_session.ROUTES,
        *desk_mandates.ROUTES,
        *desk_review.ROUTES,
        *desk_help.ROUTES,
        *MANDATE_RECEIPT_ROUTES,
        sign_in_page,
        oidc_start,
        oidc_callback,
        sign_out,
        my_overview,
        switch_acting_context,
    ]
    if settings.is_development:
        # The demo sign-in must not exist anywhere else: not hidden, not guarded, absent.
        route_handlers += [dev_sign_in_page, dev_sign_in]

    app = Litestar(
        route_handlers=route_handlers,
        dependencies={
            "conn": Provide(provide_connection),
            "read_conn": Provide(provide_read_connection),
            "subject_conn": Provide(provide_subject_connection),
        },
        lifespan=[lifespan],
        # TransactionMiddleware wraps SessionMiddleware: the session read borrows the request's connection.
        # Cross-site refusals come first: nothing of a forged request should reach the database.
        middleware=[prometheus.middleware, CrossSiteGuard(), TransactionMiddleware(), SessionMiddleware()],
        csrf_config=CSRFConfig(
            secret=settings.secret_key,
            # Over https the prefix binds the cookie to this exact host, as for the session cookie.
            cookie_name="__Host-vitrine_csrf" if settings.secure_cookies else "vitrine_csrf",
            cookie_secure=settings.secure_cookies,
            cookie_httponly=True,
            cookie_samesite="lax",
            exclude=CSRF_EXEMPT,
        ),
        template_config=template_config(auto_reload=settings.is_development),
        exception_handlers={Exception: make_exception_handler(render_error_page)},
        openapi_config=OpenAPIConfig(
            title="Vitrine API",
            version=API_VERSION,
            path="/schema",
            render_plugins=[JsonRenderPlugin(path=["/openapi.json", "/"]), YamlRenderPlugin()],
        ),
        state=state,
        debug=False,
        logging_config=None,  # our JSON logging (configure_logging) owns the handlers
    )
    # Wrap the whole handler, not just matched routes, so 404s get headers, a request id and a language.
    app.asgi_handler = RequestContext(app.asgi_handler, hsts=settings.secure_cookies)
    return app
