"""Standard Webhooks signatures (https://www.standardwebhooks.com), made by the `standardwebhooks` package.

A delivery carries `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature`:
`v1,` and the base64 HMAC-SHA256 of `{id}.{timestamp}.{body}` under the secret, one such entry per
secret in force, separated by spaces. During a rotation's overlap both the new and the previous
secret sign, so a receiver that still holds the previous one keeps verifying.
"""

import base64
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
USER_AGENT = "Ingrain-Webhooks/1"


def new_secret() -> str:
    """A secret in the Standard Webhooks form: `whsec_` and 256 random bits in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def message_id(delivery_id: object) -> str:
    return f"msg_{getattr(delivery_id, 'hex', delivery_id)}"


def headers(*, message: str, body: str, at: datetime, secrets_in_force: Sequence[str]) -> dict[str, str]:
    """The headers of one attempt: each secret in force signs the same id, moment and body."""
    moment = at.astimezone(UTC)
    signatures = " ".join(Webhook(s).sign(message, moment, body) for s in secrets_in_force)
    return {
        "webhook-id": message,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": signatures,
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }
