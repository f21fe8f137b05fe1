"""One API process of the multi-process metrics test: `python -m tests.observability.metrics_process
REQUESTS` answers REQUESTS requests to /healthz, then prints its /metrics exposition."""

import asyncio
import sys

from tests.observability.support import app_without_database, client_of


async def main(requests: int) -> None:
    async with client_of(app_without_database()) as client:
        for _ in range(requests):
            assert (await client.get("/healthz")).status_code == 200
        print((await client.get("/metrics")).text)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
