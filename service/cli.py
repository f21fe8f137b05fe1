"""The `ingrain` command: serve, worker, migrate, partitions, demo, token, openapi."""

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from service.settings import get_settings
from service.vocabulary import Role


def _serve(args: argparse.Namespace) -> None:
    import uvicorn

    from service.database import resolve_database_url
    from service.observability.logging import configure_logging
    from service.startup import PREPARED_DATABASE_URL, prepare_database

    settings = get_settings()
    configure_logging(settings.log_format, settings.log_level)
    workers = args.workers or settings.web_concurrency
    host = args.host or settings.host
    # Once, here, whatever the number of workers: the embedded Postgres starts (the workers share it
    # and it stops when this process does), migrations and the first demo load run.
    url = resolve_database_url(settings)
    asyncio.run(prepare_database(settings, url))
    os.environ[PREPARED_DATABASE_URL] = url
    with _metrics_of_processes(workers):
        if settings.metrics_port is not None:
            from service.observability.metrics import serve_metrics

            serve_metrics(host, settings.metrics_port)
        # Each worker builds its app from the factory; SIGTERM or Ctrl-C to this process stops taking
        # connections and lets every worker finish the requests it holds before it exits. Logging is
        # each worker's own (service.observability.logging), uvicorn's access log replaced by
        # Ingrain's request lines.
        uvicorn.run(
            "service.main:app_factory",
            factory=True,
            workers=workers,
            host=host,
            port=args.port or settings.port,
            log_level=settings.log_level,
            log_config=None,
            access_log=False,
            proxy_headers=True,
        )


@contextmanager
def _metrics_of_processes(workers: int) -> Iterator[None]:
    """Where the API processes' metrics are added up (prometheus_client's multi-process mode), for the
    block: PROMETHEUS_MULTIPROC_DIR when set, cleared of processes that are gone; a temporary one
    when several workers serve and none is set, so /metrics counts all of them, not one at random."""
    from service.observability.metrics import MULTIPROCESS_DIR, forget_dead_processes

    configured = os.environ.get(MULTIPROCESS_DIR)
    if configured:
        Path(configured).mkdir(parents=True, exist_ok=True)
        forget_dead_processes(configured)
        yield
        return
    if workers == 1:
        yield
        return
    made = tempfile.mkdtemp(prefix="ingrain-metrics-")
    os.environ[MULTIPROCESS_DIR] = made
    try:
        yield
    finally:
        shutil.rmtree(made, ignore_errors=True)


def _worker(args: argparse.Namespace) -> None:
    import signal

    from service.database import resolve_database_url
    from service.jobs.worker import run
    from service.observability.logging import configure_logging
    from service.observability.metrics import mark_this_process_dead, serve_metrics
    from service.observability.tracing import configure_tracing, shutdown_tracing
    from service.webhooks.delivery import DeliveryOptions

    settings = get_settings()
    configure_logging(settings.log_format, settings.log_level)
    configure_tracing()  # OTEL_EXPORTER_OTLP_ENDPOINT: a span per job run, with its SQL
    if settings.metrics_port is not None:
        serve_metrics(settings.host, settings.metrics_port)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        webhooks = DeliveryOptions(allow_loopback=settings.webhooks_allow_loopback)
        await run(resolve_database_url(settings), stop=stop, webhooks=webhooks)

    try:
        asyncio.run(main())
    finally:
        shutdown_tracing()  # sends the spans still buffered
        mark_this_process_dead()


def _migrate(args: argparse.Namespace) -> None:
    from service.database import resolve_database_url
    from service.migrate import downgrade, upgrade

    url = resolve_database_url(get_settings())
    if args.downgrade:
        downgrade(url, args.downgrade)
    else:
        upgrade(url, args.revision)
    print(f"database migrated to {args.downgrade or args.revision}")


def _partitions(args: argparse.Namespace) -> None:
    import asyncpg

    from service.clock import database_now
    from service.database import asyncpg_connect_kwargs, resolve_database_url
    from service.touchpoints import partitions

    async def main() -> None:
        conn = await asyncpg.connect(**asyncpg_connect_kwargs(resolve_database_url(get_settings())))
        try:
            today = (await database_now(conn)).date()
            if args.action == "ensure":
                for name in await partitions.ensure_partitions(conn, today):
                    print(f"created {name}")
            elif args.action == "detach":
                before = partitions.parse_month(args.before)
                for name in await partitions.detach_before(conn, before, today):
                    print(f"detached {name}: a table of its own now, to archive and drop")
            for partition in await partitions.list_partitions(conn):
                month = f"{partition.month:%Y-%m}" if partition.month else "other months"
                print(f"{partition.name:<24} {month:<13} ~{partition.estimated_rows:,} rows")
        finally:
            await conn.close()

    try:
        asyncio.run(main())
    except ValueError as refused:
        sys.exit(str(refused))


def _demo(args: argparse.Namespace) -> None:
    from service.demo.loader import run_demo_command

    asyncio.run(run_demo_command(get_settings(), force=args.force))


def _token(args: argparse.Namespace) -> None:
    from service.auth.tokens import issue_hs256_token

    role = Role(args.role)
    if role is not Role.platform_admin and not args.org:
        sys.exit("--org is required for every role but platform_admin")
    services = [s for s in args.services.split(",") if s] if args.services else None
    settings = get_settings()
    longest_hours = settings.token_max_lifetime_seconds / 3600
    if args.hours is not None and not 0 < args.hours <= longest_hours:
        sys.exit(f"--hours must be above 0 and at most {longest_hours:g} (the maximum token lifetime)")
    token = issue_hs256_token(
        settings,
        sub=args.sub or f"cli-{role.value}",
        roles=[role],
        organisation_id=args.org,
        service_ids=services,
        ttl=timedelta(hours=args.hours) if args.hours is not None else None,
    )
    print(token)


def _openapi(args: argparse.Namespace) -> None:
    from service.contract import write_contract

    for path in write_contract(Path(args.out)):
        print(f"wrote {path}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="ingrain", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="serve the API (embedded Postgres unless INGRAIN_DATABASE_URL is set)")
    p.add_argument("--host", default=None)
    p.add_argument("--port", type=int, default=None)
    p.add_argument(
        "--workers", type=int, default=None, help="API processes (default INGRAIN_WEB_CONCURRENCY, 1)"
    )
    p.set_defaults(func=_serve)

    p = sub.add_parser("worker", help="run the background job workers until SIGTERM")
    p.set_defaults(func=_worker)

    p = sub.add_parser("migrate", help="apply database migrations")
    p.add_argument("revision", nargs="?", default="head")
    p.add_argument("--downgrade", metavar="REVISION", default=None)
    p.set_defaults(func=_migrate)

    p = sub.add_parser(
        "partitions", help="list touchpoint's monthly partitions, create those due, detach old ones"
    )
    p.add_argument("action", nargs="?", choices=["list", "ensure", "detach"], default="list")
    p.add_argument("--before", metavar="YYYY-MM", help="detach: every month before this one")
    p.set_defaults(func=_partitions)

    p = sub.add_parser("demo", help="load the demo provider (once; --force to add it again)")
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=_demo)

    p = sub.add_parser("token", help="print a token signed for the running configuration")
    p.add_argument("--role", required=True, choices=[r.value for r in Role])
    p.add_argument("--org", default=None, help="organisation id (not needed for platform_admin)")
    p.add_argument("--sub", default=None)
    p.add_argument("--services", default=None, help="comma-separated service ids the token is limited to")
    p.add_argument("--hours", type=float, default=None, help="default 12, or the maximum if shorter")
    p.set_defaults(func=_token)

    p = sub.add_parser("openapi", help="export openapi.json and schema.graphql")
    p.add_argument("--out", default="openapi")
    p.set_defaults(func=_openapi)

    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
