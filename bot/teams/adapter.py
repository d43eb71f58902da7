"""The CloudAdapter, configured from Forumbot's settings."""

from __future__ import annotations

import logging
from types import SimpleNamespace

from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)

from bot.i18n import Translator, language_for
from bot.settings import Settings

log = logging.getLogger(__name__)


def create_adapter(settings: Settings) -> CloudAdapter:
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
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(configuration))

    async def on_error(context: TurnContext, error: Exception) -> None:
        log.exception("turn failed", exc_info=error)
        t = Translator(language_for(context.activity.locale, settings.default_language))
        try:
            saved = bool(context.turn_state.get("forumbot.saved"))
            await context.send_activity(t("common.error_after_save" if saved else "common.error"))
        except Exception:  # the connector may be what failed
            log.warning("could not tell the user about the failure")

    adapter.on_turn_error = on_error
    return adapter
