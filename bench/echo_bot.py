"""The baseline: a bare botbuilder echo bot with the same CloudAdapter and no authentication. It
echoes a message's text, and answers a card's Action.Execute (an `adaptiveCard/action` invoke) with
a card that echoes the button's data, as a bot answers a vote.

python bench/echo_bot.py --port 3979
"""

from __future__ import annotations

import argparse
import logging
from types import SimpleNamespace

from aiohttp import web
from botbuilder.core import ActivityHandler, InvokeResponse, MessageFactory, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import AdaptiveCardInvokeResponse


class EchoBot(ActivityHandler):
    async def on_message_activity(self, turn_context: TurnContext) -> None:
        await turn_context.send_activity(MessageFactory.text(turn_context.activity.text or ""))

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        # botbuilder's own on_adaptive_card_invoke path serialises its answer twice and fails, so
        # the answer is made here, as a bot on this SDK has to
        action = (turn_context.activity.value or {}).get("action") or {}
        data = action.get("data") or {}
        card = {
            "type": "AdaptiveCard",
            "version": "1.5",
            "body": [
                {"type": "TextBlock", "text": f"{key}: {value}", "wrap": True} for key, value in data.items()
            ],
        }
        answer = AdaptiveCardInvokeResponse(
            status_code=200, type="application/vnd.microsoft.card.adaptive", value=card
        )
        return InvokeResponse(status=200, body=answer)


def create_app() -> web.Application:
    configuration = SimpleNamespace(APP_ID="", APP_PASSWORD="", APP_TYPE="MultiTenant", APP_TENANTID="")
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(configuration))
    bot = EchoBot()

    async def messages(request: web.Request) -> web.Response:
        response: web.Response = await adapter.process(request, bot)
        return response

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "up"})

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="Bare botbuilder echo bot (benchmark baseline).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3979)
    args = parser.parse_args()
    # the same logging as `forumbot run`, so that both pay for the access log alike
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    web.run_app(create_app(), host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
