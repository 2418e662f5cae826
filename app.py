"""Voice Doctor's composition root: settings -> storage -> sources -> engine -> dialogs -> bot -> routes.

Run with `python app.py` (or `make run`). Routes:
- `POST /api/messages`: Bot Framework activities. A body that is not JSON or not an activity gets
  400, one over 1 MB gets 413; faults become a logged error and a plain message to the user, never a 500.
- `GET /healthz`: `200 {"status": "ok", ...}`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import traceback
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from botbuilder.core import ConversationState, Storage, TurnContext, UserState
from botbuilder.core.serializer_helper import serializer_helper
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, ActivityTypes
from msrest.serialization import Model

from bot.access import Access
from bot.case_service import CaseService
from bot.cases.store import CaseStore
from bot.config import ConfigError, Settings, load_settings
from bot.connector_auth import ConnectorAuthentication, install_signing_keys
from bot.diagnosis.engine import Engine
from bot.diagnosis.sweep import Sweeper
from bot.logs import configure_logging
from bot.scheduler import FollowUpScheduler
from bot.sources.factory import Sources, build_fixer, build_sources
from bot.sources.http import HttpClient
from bot.state import StateStoreError, open_storage
from bot.teams_bot import VoiceDoctorBot
from bot.watch import Watch
from dialogs.fix import ChatFixes
from dialogs.followups import FollowUps
from dialogs.services import ConversationServices
from dialogs.sweep import ChatSweeps
from dialogs.watch import WatchPoster

log = logging.getLogger("voice_doctor.app")

MAX_BODY_BYTES = 1024 * 1024
TURN_FAILED_TEXT = (
    "Sorry, something went wrong on my side while handling that. Nothing you typed is lost: "
    "try again in a moment, or type **help**."
)


@dataclass
class Services:
    """Everything the routes need, built once at start-up and closed at shutdown."""

    settings: Settings
    adapter: CloudAdapter
    bot: VoiceDoctorBot
    storage: Storage
    scheduler: FollowUpScheduler | None = None
    sweeps: ChatSweeps | None = None  # "check everyone" running in the background
    fixes: ChatFixes | None = None  # confirmed fixes running in the background
    watch: Watch | None = None  # WATCH_INTERVAL: the tenant swept, what is new told
    background: set[asyncio.Task] = field(default_factory=set)
    closers: list[Any] = field(default_factory=list)


SERVICES = web.AppKey("services", Services)


def build_services(
    settings: Settings,
    *,
    storage: Storage,
    case_store: CaseStore,
    sources: Sources | None = None,
    clock=None,
) -> Services:
    """Wire the app: settings -> storage -> sources -> engine -> dialogs -> bot (and the follow-up scheduler)."""
    clock = clock or (lambda: datetime.now(UTC))
    http = HttpClient()
    sources = sources or build_sources(settings, http)
    engine = Engine(
        sources.microsoft, sources.eightbyeight, sources.portal, data_source=sources.data_source, clock=clock
    )
    cases = CaseService(case_store, clock=clock)
    sweeper = Sweeper(
        sources.microsoft, sources.eightbyeight, sources.portal, data_source=sources.data_source, clock=clock
    )
    conversation = ConversationServices(
        settings=settings,
        engine=engine,
        access=Access(sources.microsoft),
        cases=cases,
        data_source=sources.data_source,
        clock=clock,
        sweeper=sweeper,
        fixer=build_fixer(settings, sources, engine),
    )
    install_signing_keys()  # the SDK's inbound key fetch, off the event loop
    adapter = CloudAdapter(ConnectorAuthentication(settings))
    adapter.on_turn_error = on_turn_error
    bot = VoiceDoctorBot(
        settings=settings,
        conversation_state=ConversationState(storage),
        user_state=UserState(storage),
        services=conversation,
        storage=storage,
    )
    followups = FollowUps(bot.presenter, adapter, settings.app_id)
    scheduler = FollowUpScheduler(case_store, followups.run, clock=clock)
    cases.on_recheck_scheduled = scheduler.notify
    watch = _watch(settings, bot, adapter, storage, sweeper, clock)
    return Services(
        settings=settings,
        adapter=adapter,
        bot=bot,
        storage=storage,
        scheduler=scheduler,
        sweeps=bot.sweeps,
        fixes=bot.fixes,
        watch=watch,
        closers=[http.close, case_store.close, storage.close],
    )


def _watch(
    settings: Settings, bot: VoiceDoctorBot, adapter, storage: Storage, sweeper, clock
) -> Watch | None:
    """The watch when WATCH_INTERVAL is set: it learns where to post from the bot's activities."""
    if not settings.watch_interval:
        return None
    poster = WatchPoster(bot.presenter, adapter, settings.app_id, storage)
    watch = Watch(
        storage, sweeper, poster.report, interval=settings.watch_interval, clock=clock, ready=poster.ready
    )

    async def remember(activity: Activity) -> None:
        if await poster.remember(activity):
            watch.notify()  # the first activity from the tenant: the watch can post now

    bot.remember_endpoint = remember
    return watch


async def open_services(settings: Settings, *, sources: Sources | None = None, clock=None) -> Services:
    """Open the state store STATE_STORE names (created on first start), then wire the app."""
    storage, case_store = await open_storage(settings.state_store, **({"clock": clock} if clock else {}))
    return build_services(settings, storage=storage, case_store=case_store, sources=sources, clock=clock)


async def on_turn_error(context: TurnContext, error: Exception) -> None:
    """Log the traceback with the conversation id; tell the user plainly that something failed."""
    log.error(
        "turn failed",
        extra={
            "error": type(error).__name__,
            "activity_type": context.activity.type,
            "traceback_text": "".join(traceback.format_exception(error)),
        },
    )
    if context.activity.type in (ActivityTypes.message, ActivityTypes.invoke):
        try:
            await context.send_activity(TURN_FAILED_TEXT)
        except Exception:  # the connector itself may be what failed
            log.warning("could not tell the user about the failure", exc_info=True)


def create_app(settings: Settings, services: Services) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[_never_500])
    app[SERVICES] = services
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    app.on_startup.append(_start_scheduler)
    app.on_shutdown.append(_shutdown)
    return app


async def make_app(settings: Settings, *, sources: Sources | None = None, clock=None) -> web.Application:
    """The app as `python app.py` runs it: durable state, follow-ups scheduled."""
    return create_app(settings, await open_services(settings, sources=sources, clock=clock))


async def _start_scheduler(app: web.Application) -> None:
    scheduler = app[SERVICES].scheduler
    if scheduler is not None:
        scheduler.start()
    if app[SERVICES].watch is not None:
        app[SERVICES].watch.start()


@web.middleware
async def _never_500(request: web.Request, handler):
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception:
        log.exception("request failed", extra={"path": request.path})
        return web.json_response({"error": "The request could not be handled."}, status=400)


async def healthz(request: web.Request) -> web.Response:
    services: Services = request.app[SERVICES]
    return web.json_response(
        {
            "status": "ok",
            "dataSource": services.settings.diagnostics_source,
            "auth": "on" if services.settings.auth_enabled else "off",
        }
    )


async def messages(request: web.Request) -> web.Response:
    """Authenticate the request, then hand its activity to the bot.

    With `MicrosoftAppId` set nothing of an unauthenticated request is processed: a missing or
    non-Bearer `Authorization` header is refused before the body is even read, and a token the SDK
    does not accept is refused before the bot sees the activity. The SDK signals a bad token with
    PermissionError, but also with whatever its parsing raises (jwt errors for garbage or an
    expired token, IndexError for an unknown key id, KeyError for a token without an issuer, a
    requests error when the signing keys cannot be fetched): every one of them is the caller's
    401, never a 400 or a 500. Only the error's type is logged, never the header.
    """
    services: Services = request.app[SERVICES]
    auth_header = request.headers.get("Authorization", "")
    if services.settings.auth_enabled and not auth_header.startswith("Bearer "):
        log.warning("request refused: no bearer token", extra={"path": request.path})
        return web.json_response(
            {"error": "Unauthorized."}, status=401, headers={"WWW-Authenticate": "Bearer"}
        )
    activity = await _read_activity(request)
    try:
        auth = await services.adapter.bot_framework_authentication.authenticate_request(activity, auth_header)
    except Exception as error:  # any failure to validate the token is a refusal
        log.warning("request refused: the token is not valid", extra={"reason": type(error).__name__})
        return web.json_response(
            {"error": "Unauthorized."}, status=401, headers={"WWW-Authenticate": "Bearer"}
        )

    if activity.type == ActivityTypes.invoke:
        invoke_response = await services.adapter.process_activity(auth, activity, services.bot.on_turn)
        if not invoke_response:
            return web.Response(status=200)
        body = invoke_response.body
        error = getattr(body, "value", None)
        if isinstance(error, Exception):
            # The SDK answers a malformed Action.Execute with an Exception as the value, which
            # cannot be serialised: send Teams' error shape with its code and message instead.
            code, message = [*map(str, error.args), "BadRequest", "The card action is not valid."][:2]
            body = {
                "statusCode": int(invoke_response.status),
                "type": "application/vnd.microsoft.error",
                "value": {"code": code, "message": message},
            }
        return web.json_response(_plain(body), status=invoke_response.status)

    # Other activities are answered through the connector; acknowledge at once so a long diagnosis
    # never runs into the channel's 15-second request timeout and a retry.
    task = asyncio.create_task(services.adapter.process_activity(auth, activity, services.bot.on_turn))
    services.background.add(task)
    task.add_done_callback(services.background.discard)
    return web.Response(status=202)


async def _read_activity(request: web.Request) -> Activity:
    """The body as an Activity, or a 400 / 413 with one sentence.

    `channelId` is required as well as `serviceUrl` and `conversation`: the SDK checks a token's
    channel endorsements against it and skips that check when it is absent.
    """
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise _json_error(
            web.HTTPRequestEntityTooLarge,
            "The request body is larger than 1 MB.",
            max_size=MAX_BODY_BYTES,
            actual_size=request.content_length,
        )
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise _json_error(
            web.HTTPRequestEntityTooLarge,
            "The request body is larger than 1 MB.",
            max_size=MAX_BODY_BYTES,
            actual_size=MAX_BODY_BYTES + 1,
        ) from None
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise _json_error(web.HTTPBadRequest, "The request body is not JSON.") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), str) or not payload["type"]:
        raise _json_error(web.HTTPBadRequest, "The request body is not a Bot Framework activity.")
    try:
        activity = Activity().deserialize(payload)
    except Exception:
        raise _json_error(
            web.HTTPBadRequest, "The request body is not a valid Bot Framework activity."
        ) from None
    service_url, conversation = payload.get("serviceUrl"), payload.get("conversation")
    if (
        not isinstance(service_url, str)
        or not service_url.startswith(("https://", "http://"))
        or not isinstance(conversation, dict)
        or not isinstance(conversation.get("id"), str)
        or not conversation["id"]
    ):
        raise _json_error(web.HTTPBadRequest, "The activity has no serviceUrl or conversation.")
    if not isinstance(activity.channel_id, str) or not activity.channel_id:
        raise _json_error(web.HTTPBadRequest, "The activity has no channelId.")
    return activity


def _json_error(kind: type[web.HTTPException], message: str, **kwargs) -> web.HTTPException:
    return kind(text=json.dumps({"error": message}), content_type="application/json", **kwargs)


def _plain(body: Any) -> Any:
    """Invoke response bodies are msrest models (cards, message-extension results) or plain JSON."""
    return serializer_helper(body) if isinstance(body, Model) else body


async def _shutdown(app: web.Application) -> None:
    services: Services = app[SERVICES]
    if services.scheduler is not None:
        await services.scheduler.stop()
    if services.watch is not None:
        await services.watch.stop()
    if services.sweeps is not None:
        await services.sweeps.stop()
    if services.fixes is not None:
        await services.fixes.stop()
    if services.background:
        await asyncio.wait(services.background, timeout=10)
    for close in services.closers:
        result = close()
        if asyncio.iscoroutine(result):
            await result


def main() -> int:
    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"Voice Doctor cannot start: {error}", file=sys.stderr)
        return 2
    configure_logging(
        secrets=(settings.app_password, settings.graph_client_secret, settings.eightbyeight_api_key)
    )
    log.info(
        "starting",
        extra={"host": settings.host, "port": settings.port, "dataSource": settings.diagnostics_source},
    )
    try:
        web.run_app(make_app(settings), host=settings.host, port=settings.port, print=None)
    except StateStoreError as error:
        print(f"Voice Doctor cannot start: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
