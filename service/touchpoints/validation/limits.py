"""Bounds on one touchpoint and on a batch of them, each refusal naming the limit and its value.

Bounds on a request as such (body size, JSON depth, URL, the Idempotency-Key header) are checked
before a body is read, for every route, in `service.touchpoints.limits`.
"""

from collections.abc import Sized
from typing import Any

from pydantic_core import PydanticCustomError

from service.errors import LimitExceeded
from service.touchpoints.limits import limit_extension

MAX_BATCH_ITEMS = 1000
MAX_TEXT_CHARS = 20_000
MAX_FACT_TEXT_CHARS = 1_000
MAX_FACTS_DEPTH = 3
MAX_FACTS_KEYS = 64
MAX_INNOVATIONS_PER_TOUCHPOINT = 50
MAX_SOURCE_SYSTEM_CHARS = 100
MAX_EXTERNAL_ID_CHARS = 200


def too_many_items(received: int) -> LimitExceeded:
    message = f"a batch holds at most {MAX_BATCH_ITEMS} items; this one has {received}"
    return LimitExceeded(
        message,
        errors=[{"field": "items", "rule": "max_batch_items", "message": message}],
        **limit_extension("max_batch_items", MAX_BATCH_ITEMS),
    )


def check_batch_size(items: Sized) -> None:
    if len(items) > MAX_BATCH_ITEMS:
        raise too_many_items(len(items))


def check_facts_shape(value: Any) -> Any:
    """Refuse facts nested or sized beyond the limits before the kind's model looks at them.

    The kind models already fix the shape; this keeps a hostile payload from costing more than a
    bounded walk.
    """
    if not isinstance(value, dict):
        return value
    flat = len(value) <= MAX_FACTS_KEYS
    for child in value.values():
        if isinstance(child, dict | list):
            flat = False
            break
    if flat:
        return value
    keys = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_FACTS_DEPTH:
            raise PydanticCustomError(
                "facts_too_deep",
                "facts nest deeper than the limit of {limit} levels",
                {"limit": MAX_FACTS_DEPTH},
            )
        children = node.values() if isinstance(node, dict) else node
        if isinstance(node, dict):
            keys += len(node)
            if keys > MAX_FACTS_KEYS:
                raise PydanticCustomError(
                    "facts_too_large",
                    "facts hold more than the limit of {limit} keys",
                    {"limit": MAX_FACTS_KEYS},
                )
        for child in children:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1))
    return value
