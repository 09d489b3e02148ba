"""What the OpenAPI schemas say of the answers FastAPI cannot describe by itself.

A streaming route's error answers are JSON, not the stream's media type (FastAPI would document
them as `text/event-stream`); and a Server-Sent Events stream is documented event by event (the
Open API 3.1 reading of an event stream's `schema`): each event has an `event` name and a `data`
line holding a JSON object whose `type` is that name.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

__all__ = ["EVENT_TYPES", "event_stream", "json_answer", "json_error"]

EVENT_TYPES = ["meta", "citations", "token", "done", "error"]

_EVENT = {
    "type": "object",
    "required": ["event", "data"],
    "properties": {
        "event": {"type": "string", "enum": EVENT_TYPES},
        "data": {
            "type": "string",
            "contentMediaType": "application/json",
            "contentSchema": {
                "type": "object",
                "required": ["type"],
                "properties": {"type": {"type": "string", "enum": EVENT_TYPES}},
            },
        },
    },
}


def json_answer(description: str, *models: type[BaseModel]) -> dict[str, Any]:
    """A JSON answer whose body is one of `models`, whatever the route's response class. Each
    model must also be a route's `response_model` or `model` somewhere in the app, so that it
    is among the schema's components."""
    refs = [{"$ref": f"#/components/schemas/{model.__name__}"} for model in models]
    schema = refs[0] if len(refs) == 1 else {"anyOf": refs}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def json_error(description: str, model: type[BaseModel]) -> dict[str, Any]:
    """An error answer `{"error": {"code", "message"}}` (`model`), as JSON."""
    return json_answer(description, model)


def event_stream(description: str) -> dict[str, Any]:
    """A 200 answer that is a stream of the chat's events."""
    return {"description": description, "content": {"text/event-stream": {"schema": _EVENT}}}
