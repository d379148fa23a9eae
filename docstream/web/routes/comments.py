"""``GET /documents/{doc_id}/comments``: a document's comment threads (docs/protocol.md §5.4).

Anyone who may open the document reads its comments; writing them is done on the document's
WebSocket, where every change reaches every open copy at once.
"""

from __future__ import annotations

from litestar import Router, get

from docstream.bootstrap import Services
from docstream.protocol.messages import CommentInfo
from docstream.services.comments import comment_info
from docstream.services.identity import Identity


@get("/{doc_id:str}/comments", summary="A document's comments, oldest first")
async def list_comments(
    doc_id: str, maybe_caller: Identity | None, services: Services
) -> list[CommentInfo]:
    comments = await services.comments.comments_of(maybe_caller, doc_id)
    return [comment_info(c) for c in comments]


router = Router(path="/documents", route_handlers=[list_comments], tags=["comments"])
