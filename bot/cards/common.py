"""Adaptive Card building blocks shared by every card. Cards are plain dicts (schema 1.5)."""

from __future__ import annotations

from typing import Any

from bot.i18n import Translator

Card = dict[str, Any]
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"


def with_placeholders(t: Translator, form: Card) -> Card:
    """Date and time inputs get a placeholder in the reader's language ("ÅÅÅÅ-MM-DD", "TT:MM"):
    without one, Teams shows its own, in English ("Select a date...")."""

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            kind = node.get("type")
            if kind in ("Input.Date", "Input.Time") and "placeholder" not in node:
                key = "form.date_placeholder" if kind == "Input.Date" else "form.time_placeholder"
                node["placeholder"] = t(key)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(form)
    return form


def card(body: list[dict[str, Any]], actions: list[dict[str, Any]] | None = None) -> Card:
    result: Card = {"type": "AdaptiveCard", "$schema": SCHEMA, "version": VERSION, "body": body}
    if actions:
        result["actions"] = actions
    result["msteams"] = {"width": "Full"}
    return result


def heading(text: str) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "weight": "Bolder", "size": "Medium", "wrap": True}


def text(value: str, *, subtle: bool = False, color: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "TextBlock", "text": value, "wrap": True}
    if subtle:
        block["isSubtle"] = True
    if color:
        block["color"] = color
    return block


def facts(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    return {"type": "FactSet", "facts": [{"title": k, "value": v} for k, v in pairs]}


def submit(title: str, action: str, style: str | None = None, **data: Any) -> dict[str, Any]:
    """A submit button; `action` is the dispatch key the bot routes on."""
    result: dict[str, Any] = {"type": "Action.Submit", "title": title, "data": {"action": action, **data}}
    if style:
        result["style"] = style
    return result


def execute(title: str, verb: str, **data: Any) -> dict[str, Any]:
    """A Universal Actions button (Action.Execute): Teams sends it as an `adaptiveCard/action`
    invoke, and the bot answers the member who pressed it alone. `verb` is the dispatch key."""
    return {"type": "Action.Execute", "title": title, "verb": verb, "data": {"action": verb, **data}}


def cancel_button(title: str, **data: Any) -> dict[str, Any]:
    """Cancel: sends none of the card's inputs, so the client does not validate them first."""
    return {**submit(title, "cancel", **data), "associatedInputs": "none"}


def bullets(items: list[str]) -> dict[str, Any]:
    """A list, one item a line."""
    return text("\n".join(f"- {item}" for item in items))


def choice_set(
    input_id: str,
    label: str,
    choices: list[tuple[str, str]],
    *,
    value: str | None = None,
    required: bool = False,
    error: str | None = None,
    multi: bool = False,
) -> dict[str, Any]:
    block: dict[str, Any] = {
        "type": "Input.ChoiceSet",
        "id": input_id,
        "label": label,
        "choices": [{"title": title, "value": val} for val, title in choices],
        "isMultiSelect": multi,
    }
    if value:
        block["value"] = value
    if required:
        block["isRequired"] = True
    if error:
        block["errorMessage"] = error
    return block


def cancelled_card(t: Translator) -> Card:
    """What a form or a flow's card says once it was cancelled."""
    return card([text(t("common.cancelled"))])


def field_error(t: Translator, errors: dict[str, str], key: str) -> list[dict[str, Any]]:
    """The error under a form field, if it has one (errors map fields to catalogue keys)."""
    return [text(t(errors[key]), color="Attention")] if key in errors else []
