"""The shapes of invoke activities and their answers (Action.Execute, message extensions).

Teams waits for an invoke's answer in a particular shape; a client can also send values of any
shape. These small functions check what arrives and build what goes back, so the Teams handler
only routes.
"""

from __future__ import annotations

import json
from typing import Any

from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.schema import Activity, ActivityTypes


def plain_json(value: Any) -> dict | None:
    """A card submit's value as plain JSON (no NaN, no odd types), or None when it is not an object."""
    if not isinstance(value, dict):
        return None
    try:
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError, RecursionError):
        return None


def malformed_invoke(activity) -> str | None:
    """Why an invoke's value cannot be what its name says, or None when its shape is usable."""
    value = activity.value
    if activity.name == "adaptiveCard/action":
        if not isinstance(value, dict) or not isinstance(value.get("action"), dict):
            return "the value has no action object"
        if not isinstance(value["action"].get("data", {}), dict | None):
            return "the action's data is not an object"
    elif activity.name == "composeExtension/query":
        if not isinstance(value, dict):
            return "the query is not an object"
        if not isinstance(value.get("parameters", []), list | None):
            return "the query's parameters are not a list"
        if any(not isinstance(p, dict) for p in value.get("parameters") or []):
            return "a query parameter is not an object"
    return None


def invoke_error(name: str | None, problem: str) -> dict:
    if name == "adaptiveCard/action":
        return {
            "statusCode": 400,
            "type": "application/vnd.microsoft.error",
            "value": {"code": "BadRequest", "message": f"The card action could not be read: {problem}."},
        }
    return {"error": f"The request could not be read: {problem}."}


def card_response(card: dict) -> dict:
    return {"statusCode": 200, "type": "application/vnd.microsoft.card.adaptive", "value": card}


def extension_text(text: str) -> dict:
    return {"composeExtension": {"type": "message", "text": text}}


async def invoke_reply(context: TurnContext, status: int, body: Any) -> None:
    await context.send_activity(
        Activity(type=ActivityTypes.invoke_response, value=InvokeResponse(status=status, body=body))
    )
