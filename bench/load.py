"""A lean HTTP/1.1 load generator for single posts: keep-alive connections, requests encoded beforehand.

httpx costs about a millisecond of the bench's own CPU per request and its pool serialises at high
concurrency, so on two cores it, not the server, set the pace of the single-post runs (the bare app
measured ~270 posts/s through it at concurrency 32, while Postgres alone takes ~12,000 inserts/s).
This client writes each request's bytes and reads the answer's status, headers and body by
Content-Length, nothing more, so the server's cost is what the figures show.
"""

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass
class Answer:
    status: int
    body: bytes
    seconds: float


def encode_post(host: str, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, _, header_block = head.partition(b"\r\n")
    status = int(status_line.split(b" ", 2)[1])
    length = 0
    for line in header_block.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
        elif name.strip().lower() == b"transfer-encoding":
            raise RuntimeError("chunked answers are not read by this client")
    return status, await reader.readexactly(length)


async def post_all(
    base_url: str, path: str, bodies: Sequence[bytes], headers: dict[str, str], concurrency: int
) -> tuple[list[Answer], float]:
    """POST every body once from `concurrency` keep-alive connections; the answers in the order they
    completed, and the seconds the whole took."""
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    requests = [encode_post(f"{host}:{port}", path, body, headers) for body in bodies]
    pending = iter(requests)
    answers: list[Answer] = []

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            for request in pending:
                started = time.perf_counter()
                writer.write(request)
                status, body = await _read_answer(reader)
                answers.append(Answer(status, body, time.perf_counter() - started))
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    return answers, time.perf_counter() - started
