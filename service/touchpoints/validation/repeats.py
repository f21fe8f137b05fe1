"""A touchpoint that repeats another's (source_system, external_id): the same record sent again, or a
conflict.

Identical content (by `content_hash`) is a duplicate, answered with the stored id. Different content
under the same key is refused: within a batch because one of the two would be lost, against a
stored record because changing it is a correction, which the problem points to.
"""

import hashlib
import uuid

from service.errors import Conflict
from service.touchpoints.validation.problems import Path, field_error, path_of
from service.touchpoints.validation.shape import TouchpointCreateItem

SourceKey = tuple[str, str]


def content_hash(item: TouchpointCreateItem) -> str:
    """sha256 of the normalised item as posted (UTC time, innovation ids as a sorted set).

    Derived values (shift, weekend) are left out, so a re-post is recognised as identical even if
    the service's shift pattern changed in between.
    """
    return hashlib.sha256(item.__pydantic_serializer__.to_json(item)).hexdigest()


def conflict_with_stored(prefix: Path, key: SourceKey, stored_id: uuid.UUID) -> Conflict:
    source_system, external_id = key
    href = f"/v1/touchpoints/{stored_id}"
    message = (
        f"{source_system}/{external_id} is already recorded with different content; "
        f"to change it, send the whole record with PUT {href}"
    )
    return Conflict(
        f"{path_of(prefix, 'external_id')}: {message}",
        errors=[field_error(prefix, ("external_id",), "already_recorded", message)],
        existing_id=str(stored_id),
        correct_with={"method": "PUT", "href": href},
    )


def repeated_in_batch(prefix: Path, first_index: int) -> Conflict:
    message = f"repeats the external_id of items[{first_index}] with different content"
    return Conflict(
        f"{path_of(prefix, 'external_id')}: {message}",
        errors=[field_error(prefix, ("external_id",), "repeated_in_batch", message)],
    )
