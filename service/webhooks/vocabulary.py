"""The words of webhooks: event types an endpoint subscribes to, and where a delivery stands."""

from enum import StrEnum


class EventType(StrEnum):
    stage_changed = "status.stage_changed"
    rag_changed = "indicator.rag_changed"


class DeliveryStatus(StrEnum):
    pending = "pending"  # waiting for its first attempt or its next retry
    delivered = "delivered"  # answered 2xx
    failed = "failed"  # its retries ran out (the endpoint was disabled), or the endpoint refused it
