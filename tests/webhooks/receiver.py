"""A webhook receiver on loopback, and a verifier written from the Standard Webhooks specification.

The receiver is a small HTTP/1.1 server on asyncio streams: it records every request and answers
from a script (a status per request, then 200), so a test decides when it fails or redirects.
"""

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

TOLERANCE_SECONDS = 5 * 60


class SignatureInvalid(Exception):
    pass


def verify(secret: str, headers: dict[str, str], body: bytes, *, now: float | None = None) -> Any:
    """Standard Webhooks, "Verifying webhook authenticity": the signed content is
    `{webhook-id}.{webhook-timestamp}.{body}`, signed with HMAC-SHA256 under the secret's bytes
    (base64 after the `whsec_` prefix); `webhook-signature` is a space-separated list of
    `v1,<base64 signature>`; the timestamp must be within the tolerance of now."""
    message_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not (message_id and timestamp and signatures):
        raise SignatureInvalid("missing headers")
    if not timestamp.isdigit() or abs((now or time.time()) - int(timestamp)) > TOLERANCE_SECONDS:
        raise SignatureInvalid("timestamp outside the tolerance")
    if not secret.startswith("whsec_"):
        raise SignatureInvalid("not a whsec_ secret")
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = message_id.encode() + b"." + timestamp.encode() + b"." + body
    expected = hmac.new(key, signed, hashlib.sha256).digest()
    for entry in signatures.split(" "):
        version, _, value = entry.partition(",")
        if version == "v1" and hmac.compare_digest(base64.b64decode(value), expected):
            return json.loads(body)
    raise SignatureInvalid("no signature matches")


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic()
    wall: float  # time.time(), to set against a moment the body names

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Answers request n with `script[n]` (a status, or (status, headers)), and 200 after; or, given
    `answer`, with what it says for each request."""

    script: list[Any] = field(default_factory=list)
    answer: Callable[[Received, int], Any] | None = None
    received: list[Received] = field(default_factory=list)
    delays: list[float] = field(default_factory=list)  # seconds before answering request n
    port: int = 0
    _server: asyncio.AbstractServer | None = None
    _connections: set[asyncio.StreamWriter] = field(default_factory=set)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/ingrain"

    async def __aenter__(self) -> "Receiver":
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._connections):
            writer.close()
        # Each handler sees its connection end and returns, before the loop that runs it may close.
        for _ in range(100):
            if not self._connections:
                break
            await asyncio.sleep(0.01)
        await self._server.wait_closed()

    async def wait_for(self, count: int, seconds: float = 20.0) -> None:
        async def enough() -> None:
            while len(self.received) < count:
                self.arrived.clear()
                await self.arrived.wait()

        await asyncio.wait_for(enough(), seconds)

    def answers(self, predicate: Callable[[Received], bool]) -> list[Received]:
        return [r for r in self.received if predicate(r)]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._connections.add(writer)
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                method, path, _ = line.decode().split(" ", 2)
                headers: dict[str, str] = {}
                while (header := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    name, _, value = header.decode().partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                n = len(self.received)
                request = Received(method, path, headers, body, time.monotonic(), time.time())
                self.received.append(request)
                self.arrived.set()
                if n < len(self.delays):
                    await asyncio.sleep(self.delays[n])
                if self.answer is not None:
                    answer = self.answer(request, n)
                else:
                    answer = self.script[n] if n < len(self.script) else 200
                status, extra = answer if isinstance(answer, tuple) else (answer, {})
                text = json.dumps({"received": n}).encode()
                head = [
                    f"HTTP/1.1 {status} X",
                    f"Content-Length: {len(text)}",
                    "Content-Type: application/json",
                ]
                head += [f"{k}: {v}" for k, v in extra.items()]
                writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + text)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            self._connections.discard(writer)
            writer.close()
