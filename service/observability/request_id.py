"""The request id: the caller's `X-Request-ID` when it is a sane value, otherwise one of ours.

It is echoed on every answer and written to logs and the access log, so a value is kept only when
it is short and made of characters that tracing systems use (UUIDs, hex, W3C `traceparent`, AWS
`Root=1-…;Parent=…`): nothing that could split a header, break a log line or smuggle markup.
"""

import re
import uuid

HEADER = "X-Request-ID"
MAX_LENGTH = 128
SANE_REQUEST_ID = re.compile(rf"[A-Za-z0-9._~:;=+/@-]{{1,{MAX_LENGTH}}}")


def accept_request_id(given: str | None) -> str:
    """`given` when it is sane; otherwise a fresh random id (32 hex digits)."""
    if given and SANE_REQUEST_ID.fullmatch(given):
        return given
    return uuid.uuid4().hex
