"""Form cards handed out: each is submitted at most once, and `avbryt` closes what is open."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cards.common import Card, cancelled_card
from bot.i18n import Translator
from bot.storage.card_copies import CardCopies
from bot.storage.forms import CANCELLED, OPEN, REPLACED, USED, Forms, FormView
from bot.storage.outbox import Outbox

ITEM = "form"
MAX_TOKEN = 64
# every kind of form card handed out; each capability names its own
FORM_KINDS = (
    "proposal.new",
    "proposal.edit",
    "meeting.series",
    "meeting.plan",
    "meeting.report",
    "poll.new",
    "inspection.book",
)


@dataclass(frozen=True)
class Checked:
    """A submitted form token, checked: `form` is None when the card is forged or not the sender's."""

    form: FormView | None

    @property
    def open(self) -> bool:
        return self.form is not None and self.form.status == OPEN

    @property
    def used(self) -> bool:
        return self.form is not None and self.form.status == USED


class FormService:
    """Form tokens minted into cards, inside the caller's unit of work."""

    def __init__(self, session: AsyncSession) -> None:
        self.forms = Forms(session)
        self.copies = CardCopies(session)
        self.outbox = Outbox(session)

    async def new(self, kind: str, owner_aad_id: str | None, item_id: int | None = None) -> FormView:
        return await self.forms.mint(kind, owner_aad_id, item_id)

    @staticmethod
    def track(form: FormView, viewer_id: int | None, language: str) -> dict[str, Any]:
        return {"item_type": ITEM, "item_id": form.id, "viewer_id": viewer_id, "language": language}

    async def check(self, token: Any, owner_aad_id: str | None, *kinds: str) -> Checked:
        """The form `token` names, if it is one of `kinds` and was handed to this person."""
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN or owner_aad_id is None:
            return Checked(None)
        form = await self.forms.by_token(token)
        if form is None or form.kind not in kinds or form.owner_aad_id != owner_aad_id:
            return Checked(None)
        return Checked(form)

    async def use(self, form: FormView, result_id: int | None = None) -> bool:
        """Mark the form submitted; False when a concurrent submit or a cancel closed it first."""
        return await self.forms.close(form.id, USED, result_id)

    async def reread(self, form: FormView) -> FormView | None:
        return await self.forms.by_token(form.token)

    async def set_result(self, form: FormView, result_id: int) -> None:
        await self.forms.set_result(form.id, result_id)

    async def cancel(self, form: FormView) -> bool:
        return await self.forms.close(form.id, CANCELLED)

    async def replace_open(self, kind: str, owner_aad_id: str | None, item_id: int | None, card: Card) -> int:
        """A newer form of `kind` for `item_id` is being handed to this person: their older ones
        still open are closed, and each of their cards is replaced by `card` through the outbox.
        Returns how many were replaced."""
        if owner_aad_id is None:
            return 0
        replaced = 0
        for form in await self.forms.open_of(owner_aad_id):
            if form.kind != kind or form.item_id != item_id:
                continue
            if not await self.forms.close(form.id, REPLACED):
                continue
            replaced += 1
            for copy in await self.copies.of(ITEM, form.id):
                await self.outbox.enqueue(
                    f"form:{form.id}:replaced:{copy.id}",
                    dict(copy.reference),
                    {"card": card, "update_activity_id": copy.activity_id},
                )
        return replaced

    async def cancel_open(
        self, owner_aad_id: str, conversation_id: str, t: Translator
    ) -> tuple[int, list[str]]:
        """Close every open form of this person. Their cards elsewhere are replaced by "cancelled"
        through the outbox; the activity ids of those in `conversation_id` are returned, for the
        caller to replace in its reply."""
        here: list[str] = []
        closed = 0
        for form in await self.forms.open_of(owner_aad_id):
            if not await self.forms.close(form.id, CANCELLED):
                continue
            closed += 1
            for copy in await self.copies.of(ITEM, form.id):
                if copy.conversation_id == conversation_id:
                    here.append(copy.activity_id)
                    continue
                await self.outbox.enqueue(
                    f"form:{form.id}:cancelled:{copy.id}",
                    dict(copy.reference),
                    {"card": cancelled_card(t), "update_activity_id": copy.activity_id},
                )
        return closed, here
