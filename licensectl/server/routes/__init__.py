"""The routers, one per resource; each route is a row of contract/api.py's table."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, TypeVar

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, create_model

from licensectl.contract.api import ROUTES
from licensectl.server.errors import error_responses
from licensectl.server.paths import segment_route

F = TypeVar("F", bound=Callable[..., Any])

#: The errors any route with a token may answer.
READ_ERRORS: Final = (400, 401, 403, 404, 409, 422, 503)
WRITE_ERRORS: Final = (*READ_ERRORS, 413)


def operation(
    router: APIRouter,
    name: str,
    *,
    model: Any = None,
    errors: tuple[int, ...] = WRITE_ERRORS,
    **extra: Any,
) -> Callable[[F], F]:
    """Mount the endpoint for the protocol operation `name` where the table says."""
    route = ROUTES[name]
    responses: dict[int | str, Any] = {**error_responses(*errors), **extra.pop("responses", {})}
    decorator = router.api_route(
        segment_route(route.path),
        methods=[route.method],
        status_code=route.status,
        name=name,
        operation_id=name,
        response_model=model,
        responses=responses,
        **extra,
    )
    return decorator


def body_of(model: type[BaseModel], *in_path: str) -> type[BaseModel]:
    """The JSON body of a request model whose fields `in_path` come from the path."""
    fields: dict[str, Any] = {
        name: (field.annotation, field)
        for name, field in model.model_fields.items()
        if name not in in_path
    }
    return create_model(
        f"{model.__name__}Body",
        __config__=ConfigDict(extra="forbid", frozen=True),
        __doc__=model.__doc__,
        **fields,
    )


def raw_body(*media_types: str, description: str) -> dict[str, Any]:
    """OpenAPI for a body the route reads itself (a file, as bytes)."""
    schema = {"type": "string", "format": "binary"}
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {media: {"schema": schema} for media in media_types},
        }
    }
