"""The CloudAdapter, configured from Forumbot's settings."""

from __future__ import annotations

import logging
from collections import OrderedDict
from types import SimpleNamespace
from typing import Any

from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from botbuilder.schema import Activity, ActivityTypes
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import AuthenticateRequestResult, ClaimsIdentity, ConnectorFactory
from msrest.universal_http.requests import ClientRetryPolicy

from bot.i18n import Translator, language_for
from bot.settings import Settings
from bot.teams.convert import invoke_answer

log = logging.getLogger(__name__)


def _cheaper_connector_clients() -> None:
    """botbuilder makes two connector clients per turn, and msrest builds each one's retry list by
    testing 999 status codes against a 500-item list: about 4 ms of CPU each, most of a turn's
    cost. The same codes as a frozenset give the same list at once."""
    policy: Any = ClientRetryPolicy
    if not isinstance(policy.safe_codes, frozenset):
        policy.safe_codes = frozenset(policy.safe_codes)


# Teams uses a few service URLs per region; a development bot without authentication may be told
# any, so the clients kept are bounded.
KEPT_CONNECTORS = 32


class _KeptConnectors(ConnectorFactory):
    """A connector factory that hands out the clients kept in `clients`, making one only for a
    service URL and audience it has not met."""

    def __init__(self, inner: ConnectorFactory, clients: OrderedDict[tuple[str, str | None], Any]) -> None:
        self.inner = inner
        self.clients = clients

    async def create(self, service_url: str, audience: str | None = None) -> ConnectorClient:
        key = (service_url, audience)
        client = self.clients.get(key)
        if client is None:
            client = await self.inner.create(service_url, audience)
            self.clients[key] = client
            while len(self.clients) > KEPT_CONNECTORS:
                self.clients.popitem(last=False)
        else:
            self.clients.move_to_end(key)
        return client


class KeptConnectorsAuthentication(ConfigurationBotFrameworkAuthentication):
    """botbuilder's authentication, with one connector client per service URL and audience kept
    for the process's life, as botbuilder's older BotFrameworkAdapter kept them. CloudAdapter
    otherwise makes a new client, with its credentials and its TLS context, for every turn and
    every proactive send: a tenth of a vote's processor time. One process serves one bot (one app
    id), so the service URL and the audience name a client."""

    def __init__(self, configuration: Any) -> None:
        super().__init__(configuration)
        self._clients: OrderedDict[tuple[str, str | None], Any] = OrderedDict()

    async def authenticate_request(self, activity: Activity, auth_header: str) -> AuthenticateRequestResult:
        result: AuthenticateRequestResult = await super().authenticate_request(activity, auth_header)
        if result.connector_factory is not None:
            result.connector_factory = _KeptConnectors(result.connector_factory, self._clients)
        return result

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return _KeptConnectors(super().create_connector_factory(claims_identity), self._clients)


def create_adapter(settings: Settings) -> CloudAdapter:
    _cheaper_connector_clients()
    configuration = SimpleNamespace(
        APP_ID=settings.app_id,
        APP_PASSWORD=settings.app_password,
        APP_TYPE=settings.app_type,
        APP_TENANTID=settings.app_tenant_id,
    )
    if settings.openid_metadata_url:
        configuration.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL = settings.openid_metadata_url
        configuration.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER = (
            settings.token_issuer or "https://api.botframework.com"
        )
    adapter = CloudAdapter(KeptConnectorsAuthentication(configuration))

    async def on_error(context: TurnContext, error: Exception) -> None:
        log.exception("turn failed", exc_info=error)
        t = Translator(language_for(context.activity.locale, settings.default_language))
        try:
            saved = bool(context.turn_state.get("forumbot.saved"))
            message = t("common.error_after_save" if saved else "common.error")
            activity = context.activity
            if activity.type == ActivityTypes.invoke and activity.name == "adaptiveCard/action":
                # the member who pressed the button reads it on the card, as any answer there
                answer = InvokeResponse(status=200, body=invoke_answer(message))
                await context.send_activity(Activity(type=ActivityTypes.invoke_response, value=answer))
            else:
                await context.send_activity(message)
        except Exception:  # the connector may be what failed
            log.warning("could not tell the user about the failure")

    adapter.on_turn_error = on_error
    return adapter
