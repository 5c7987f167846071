"""Schemas shared by every API module: the error body, safe text, pagination."""

from __future__ import annotations

from typing import Annotated

from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import AfterValidator, Field

from qike.core.ids import MAX_DB_INT
from qike.core.pagination import MAX_PAGE_SIZE

MAX_PAGE_NUMBER = 1_000_000
MAX_CURSOR_LENGTH = 256


def _storable(value: str) -> str:
    """Text every database can store: PostgreSQL refuses NUL, and UTF-8 refuses lone surrogates."""
    if "\x00" in value:
        raise ValueError(_("Text may not contain NUL characters."))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(_("Text must be valid Unicode.")) from exc
    return value


Text = Annotated[str, AfterValidator(_storable)]
Id = Annotated[int, Field(ge=1, le=MAX_DB_INT)]


class ErrorOut(Schema):
    code: str = Field(description="Stable, machine-readable error code.")
    message: str = Field(description="What went wrong, for people (in the request's language).")
    details: dict = Field(default_factory=dict, description="More about the error, by code.")


def errors(*statuses: int) -> dict[int, type[ErrorOut]]:
    """Response declarations for the error statuses an endpoint can answer, for the OpenAPI
    document. Every endpoint can answer 401 (no or bad token) and 422 (bad parameters)."""
    return {status: ErrorOut for status in sorted({401, 422, *statuses})}


class CursorQuery(Schema):
    cursor: Annotated[Text, Field(max_length=MAX_CURSOR_LENGTH)] = Field(
        "", description="`next_cursor` of the previous page; empty for the first page."
    )
    size: int = Field(50, ge=1, le=MAX_PAGE_SIZE, description="Items per page.")


class PageQuery(Schema):
    page: int = Field(1, ge=1, le=MAX_PAGE_NUMBER, description="Page number, from 1.")
    size: int = Field(50, ge=1, le=MAX_PAGE_SIZE, description="Items per page.")


class CursorPageMeta(Schema):
    next_cursor: str = Field(description="Pass as `cursor` for the next page; empty on the last.")
    total: int = Field(description="How many items match (counted up to a cap).")
    total_capped: bool = Field(description="True when more items match than `total` says.")


class PageMeta(Schema):
    page: int
    size: int
    total: int
