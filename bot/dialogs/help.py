"""Help, cancel, who am I, the language to answer in, linking the forum channel, and the welcome
when the bot is added somewhere."""

from __future__ import annotations

from bot.cards.common import cancelled_card
from bot.cards.help import Welcome, WelcomeView, help_card, welcome_card
from bot.conversation import Reply
from bot.dialogs.router import Access, Code, Ctx, Router, SubmitData, end_flow
from bot.domain.members import MemberStatus
from bot.i18n import Translator
from bot.services.forms import FORM_KINDS, FormService
from bot.services.forms import ITEM as FORM_ITEM
from bot.services.membership import channel_of

# What `språk`/`language` accepts after it, by the language it picks.
LANGUAGE_NAMES = {
    "sv": ("svenska", "svensk", "swedish", "sv", "sv-se"),
    "en": ("engelska", "engelsk", "english", "en", "en-gb", "en-us"),
}
# The commands an approved member's welcome offers, in this order, as far as their role allows.
WELCOME_COMMANDS = ("help.cmd.propose", "help.cmd.proposals", "help.cmd.pending", "help.cmd.help")


class CancelSubmit(SubmitData):
    form_token: Code | None = None


def register(router: Router) -> None:
    @router.command("help.cmd.help", "hjälp", "help", "?")
    async def show_help(ctx: Ctx) -> None:
        """The commands this user may use, by role."""
        lines = [(c.label, ctx.t(c.key)) for c in router.help_lines(ctx)]
        ctx.send_card(help_card(ctx.t, lines, status_line(ctx)))

    @router.command("help.cmd.cancel", "avbryt", "cancel")
    async def cancel(ctx: Ctx) -> None:
        """Leave whatever flow the conversation is in, and close the forms still open: their
        cards say "cancelled" and can no longer be sent."""
        had_flow = "flow" in ctx.state
        end_flow(ctx)
        closed = 0
        if ctx.turn.user.aad_object_id:
            closed, here = await FormService(ctx.session).cancel_open(
                ctx.turn.user.aad_object_id, ctx.turn.conversation_id, ctx.t
            )
            for activity_id in here:
                ctx.outcome.replies.append(Reply(card=cancelled_card(ctx.t), update_activity_id=activity_id))
            if here and not had_flow:
                return  # the cards themselves now say "cancelled"
        ctx.say(ctx.t("common.cancelled" if had_flow or closed else "common.nothing_to_cancel"))

    @router.action("cancel", access=Access.EVERYONE, data=CancelSubmit)
    async def cancel_from_card(ctx: Ctx, data: CancelSubmit) -> None:
        """The card's cancel button: the flow ends, the card's form is closed and the card says so."""
        end_flow(ctx)
        forms = FormService(ctx.session)
        if data.form_token is not None:
            checked = await forms.check(data.form_token, ctx.turn.user.aad_object_id, *FORM_KINDS)
            if checked.form is None:
                ctx.say(ctx.t("common.bad_card"))
                return
            await forms.cancel(checked.form)
            ctx.replace_card(cancelled_card(ctx.t), item=(FORM_ITEM, checked.form.id))
            return
        ctx.replace_card(cancelled_card(ctx.t))

    @router.command("help.cmd.whoami", "vem är jag", "whoami", "who am i")
    async def whoami(ctx: Ctx) -> None:
        """The user's membership as the forum knows it."""
        ctx.say(status_line(ctx))

    @router.command(
        "help.cmd.language",
        "språk",
        "language",
        access=Access.REGISTERED,
        shown=("språk svenska", "language english"),
    )
    async def language(ctx: Ctx) -> None:
        """Show or choose the language the bot answers this member in, whatever their Teams says."""
        member = ctx.member
        if member is None or not member.registered:
            ctx.say(ctx.t("language.register_first"))
            return
        if not ctx.args:
            current = ctx.t(f"language.name.{ctx.t.language}")
            chosen = "language.current_chosen" if member.language else "language.current_teams"
            ctx.say(f"{ctx.t(chosen, language=current)} {ctx.t('language.choices')}")
            return
        wanted = language_named(ctx.args)
        if wanted is None:
            ctx.say(ctx.t("language.unknown", answer=ctx.args[:40]))
            return
        ctx.member = await ctx.membership.choose_language(member, wanted)
        ctx.t = Translator(wanted)
        ctx.say(ctx.t("language.chosen"))

    @router.command("help.cmd.link", "koppla kanal", "link channel", access=Access.COORDINATOR)
    async def link_channel(ctx: Ctx) -> None:
        """Make this channel the forum channel (coordinators, in a team channel)."""
        if not ctx.turn.in_channel:
            ctx.say(ctx.t("channel.only_in_channel"))
            return
        linked = await ctx.membership.link_forum_channel(ctx.member, ctx.turn)
        if linked is not None:
            ctx.say(ctx.t("channel.already_linked" if linked == "already" else "channel.linked"))
        else:
            ctx.say(ctx.t("channel.not_allowed"))


def language_named(words: str) -> str | None:
    """'svenska', 'english', 'sv', ... -> the language's code; None for anything else."""
    return next((code for code, names in LANGUAGE_NAMES.items() if words in names), None)


def status_line(ctx: Ctx) -> str:
    member = ctx.member
    if member is None:
        return ctx.t("status.unregistered")
    agency = member.agency.name(ctx.t.language)
    if member.status.value == "pending":
        return ctx.t("status.pending", agency=agency)
    if member.status.value == "rejected":
        return ctx.t("status.rejected")
    roles = ", ".join(ctx.t(f"role.{role.value}") for role in sorted(member.roles))
    return ctx.t("status.member", name=member.name, agency=agency, roles=roles)


async def welcome(ctx: Ctx, router: Router) -> None:
    """The bot was added to this conversation: say what it is for, here and for this user."""
    ctx.send_card(welcome_card(ctx.t, await welcome_view(ctx, router)))


async def welcome_view(ctx: Ctx, router: Router) -> WelcomeView:
    turn, member = ctx.turn, ctx.member
    if turn.personal:
        if member is not None and member.approved:
            offered = {c.key: c for c in router.help_lines(ctx)}
            commands = [(offered[key].label, ctx.t(key)) for key in WELCOME_COMMANDS if key in offered]
            agency = member.agency.name(ctx.t.language)
            return WelcomeView(Welcome.MEMBER, agency=agency, commands=commands)
        if member is not None and member.status is MemberStatus.PENDING:
            return WelcomeView(Welcome.PENDING, agency=member.agency.name(ctx.t.language))
        return WelcomeView(Welcome.NEWCOMER)
    if turn.in_channel:
        forum_channel = await ctx.membership.forum_channel_id()
        if forum_channel is not None and forum_channel == channel_of(turn):
            return WelcomeView(Welcome.FORUM_CHANNEL)
        return WelcomeView(Welcome.TEAM_CHANNEL, forum_channel_elsewhere=forum_channel is not None)
    return WelcomeView(Welcome.GROUP_CHAT)
