"""Typeahead: ``/suggest/titles``, ``/documents/{id}/mentions/...`` and ``/documents/{id}/suggest``.

Queries are capped at :data:`MAX_QUERY` characters and ``limit`` at 1..:data:`MAX_LIMIT`; a blank
title or word query suggests nothing, while a blank mention query (just ``@``) lists the
collaborators. Titles are filtered by what the caller can open (see
:mod:`docstream.services.typeahead.titles`); the per-document routes first check the caller's role.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Router, get, post
from litestar.params import Parameter

from docstream.bootstrap import Services
from docstream.collab.extensions import MentionPicked
from docstream.services.identity import MAX_NAME, Identity
from docstream.services.typeahead.mentions import MentionService
from docstream.services.typeahead.title_entries import TitleSuggestion
from docstream.services.typeahead.titles import TitleService
from docstream.services.typeahead.words import WordService
from docstream.storage.base import ROLE_RANK

MAX_QUERY = 100
MAX_LIMIT = 50

Query = Annotated[str, Parameter(max_length=MAX_QUERY, description="what the user typed")]
Limit = Annotated[int, Parameter(ge=1, le=MAX_LIMIT, description="the most suggestions")]


class WordOut(msgspec.Struct):
    word: str
    frequency: int


class SelectBody(msgspec.Struct):
    #: A collaborator's name, as suggested (an ``@`` before it is ignored).
    word: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_NAME + 1)]
    #: Where the mention was inserted (a character offset): the notification opens there.
    position: Annotated[int, msgspec.Meta(ge=0, le=2**31 - 1)] | None = None


def _titles(services: Services) -> TitleService:
    return services.titles


def _mentions(services: Services) -> MentionService:
    return services.mentions


def _words(services: Services) -> WordService:
    return services.words


@get("/suggest/titles", summary="Titles of documents you can open, by prefix")
async def suggest_titles(
    caller: Identity, services: Services, q: Query = "", limit: Limit = 10
) -> list[TitleSuggestion]:
    return await _titles(services).suggest(caller, q, limit)


@get("/documents/{doc_id:str}/mentions/suggest", summary="Collaborators to @mention")
async def suggest_mentions(
    doc_id: str, caller: Identity, services: Services, q: Query = "", limit: Limit = 10
) -> list[WordOut]:
    await services.documents.access(caller, doc_id, "viewer")
    found = await _mentions(services).suggest(doc_id, q, limit)
    return [WordOut(s.word, s.frequency) for s in found]


@post(
    "/documents/{doc_id:str}/mentions/select",
    status_code=200,
    summary="Count an @mention pick (ranks that collaborator higher)",
)
async def select_mention(
    doc_id: str, data: SelectBody, caller: Identity, services: Services
) -> WordOut:
    access = await services.documents.access(caller, doc_id, "viewer")
    selected = await _mentions(services).select(doc_id, data.word)
    if not caller.guest and ROLE_RANK.get(access.role, 0) >= ROLE_RANK["editor"]:
        # Only an editor's pick reaches the text: that person is told (notifications).
        picked = MentionPicked(doc_id, caller.user_id, selected.word, data.position)
        await services.documents.extensions.emit(picked)
    return WordOut(selected.word, selected.frequency)


@get("/documents/{doc_id:str}/suggest", summary="Complete a word from the document's own words")
async def suggest_words(
    doc_id: str,
    maybe_caller: Identity | None,
    services: Services,
    q: Query = "",
    limit: Limit = 5,
) -> list[WordOut]:
    access = await services.documents.access(maybe_caller, doc_id, "viewer")
    found = await _words(services).suggest(doc_id, q, limit, seq=access.doc.seq)
    return [WordOut(s.word, s.frequency) for s in found]


router = Router(
    path="/",
    route_handlers=[suggest_titles, suggest_mentions, select_mention, suggest_words],
    tags=["typeahead"],
)
