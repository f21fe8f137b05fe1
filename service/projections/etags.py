"""ETags of projected answers: a stored body changes only with its `computed_at` (a recompute that
finds the same content keeps the body), so the projection's key, view and `computed_at` name it."""

import hashlib
from collections.abc import Iterable

from fastapi import Request, Response

from service.status.schemas import EmbeddingStatus, StatusHistory


def etag(statuses: Iterable[EmbeddingStatus | StatusHistory], *, variant: str = "") -> str | None:
    """A strong ETag over projected statuses (or histories), None when one of them was computed
    on read. `variant` names what else the answer depends on (a history's number of months)."""
    digest = hashlib.sha256(variant.encode())
    for status in statuses:
        if status.computed_at is None:
            return None
        parts = (
            status.innovation_id,
            status.service_id,
            ",".join(str(s) for s in status.scope.service_ids),
            status.suppressed_counts,
            status.computed_at.isoformat(),
        )
        digest.update("|".join(str(p) for p in parts).encode() + b"\n")
    return f'"{digest.hexdigest()[:32]}"'


def not_modified(request: Request, response: Response, tag: str | None) -> Response | None:
    """Sets the ETag; answers 304 when the client already holds it."""
    if tag is None:
        return None
    response.headers["ETag"] = tag
    held = request.headers.get("if-none-match")
    if held and (held.strip() == "*" or tag in (t.strip().removeprefix("W/") for t in held.split(","))):
        return Response(status_code=304, headers={"ETag": tag})
    return None
