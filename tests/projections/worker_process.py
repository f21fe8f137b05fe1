"""A job worker process for tests: the product's worker runner, with a short heartbeat so that a
job whose worker was killed is picked again within seconds (pgqueuer's default waits 30 s)."""

import asyncio
import signal
import sys
from datetime import timedelta

from service.jobs.worker import run

HEARTBEAT_SECONDS = 2.0


async def main(database_url: str) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await run(
        database_url,
        stop=stop,
        pool_size=2,
        dequeue_timeout=timedelta(seconds=1),
        heartbeat_timeout=timedelta(seconds=HEARTBEAT_SECONDS),
    )


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
