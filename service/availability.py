"""Is this failure the database being unavailable? The one place that decides what answers 503.

The database is unavailable while it is down, refusing connections, starting up or shutting down,
out of connection slots, or while our pool has no connection to give within its timeout. Requests
that fail for these reasons are answered 503 with `Retry-After` (REST, GraphQL and the probes alike);
anything else that escapes is a fault of ours and answers 500.

Failures reach us in several wrappings: raw from asyncpg (a connection being opened, or the driver
connection used directly for COPY and advisory locks), or from SQLAlchemy as a `DBAPIError` around
its adapter's error around asyncpg's. We look through the whole chain of causes.
"""

import errno
from collections.abc import Iterator
from types import TracebackType

import asyncpg
from sqlalchemy import exc as sa_exc

# SQLSTATEs of a server that cannot serve us now (class 08: the connection; 57P0x: shutting down or
# starting up; 53300: no connection slots left).
_UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300"})
_UNAVAILABLE_SQLSTATE_CLASSES = frozenset({"08"})
# What asyncpg says when a connection it held has gone.
_CLOSED_MESSAGES = ("connection is closed", "connection was closed")
# Socket errors that mean the server is not there (a missing Unix socket is ENOENT).
_UNREACHABLE_ERRNOS = frozenset(
    {
        errno.ECONNREFUSED,
        errno.ECONNRESET,
        errno.ECONNABORTED,
        errno.EPIPE,
        errno.ETIMEDOUT,
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
        errno.ENOENT,
    }
)
_DRIVER_MODULES = ("asyncpg", "sqlalchemy")


def is_database_unavailable(error: BaseException) -> bool:
    """True when `error`, or anything that caused it, says the database cannot serve us now."""
    return any(_says_unavailable(link) for link in _causes(error))


def _causes(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    pending = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        for linked in (
            getattr(current, "orig", None),
            current.__cause__,
            current.__context__,
        ):
            if isinstance(linked, BaseException):
                pending.append(linked)


def _says_unavailable(error: BaseException) -> bool:
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, sa_exc.TimeoutError):  # no pooled connection free within the pool timeout
        return True
    sqlstate = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
    if isinstance(sqlstate, str) and (
        sqlstate in _UNAVAILABLE_SQLSTATES or sqlstate[:2] in _UNAVAILABLE_SQLSTATE_CLASSES
    ):
        return True
    if isinstance(error, asyncpg.InterfaceError | asyncpg.PostgresConnectionError):
        message = str(error).lower()
        return any(closed in message for closed in _CLOSED_MESSAGES)
    if isinstance(error, OSError | TimeoutError):
        # A file or socket error of our own elsewhere is not the database's: only the driver's count.
        unreachable = isinstance(error, ConnectionError | TimeoutError) or error.errno in _UNREACHABLE_ERRNOS
        return unreachable and _raised_in_driver(error.__traceback__)
    return False


def _raised_in_driver(traceback: TracebackType | None) -> bool:
    while traceback is not None:
        module = traceback.tb_frame.f_globals.get("__name__", "")
        if module.split(".", 1)[0] in _DRIVER_MODULES:
            return True
        traceback = traceback.tb_next
    return False


def describe(error: BaseException) -> str:
    """The failure in the driver's words, on one line: for the log, without the statement and the
    parameters (which may hold personal data) that SQLAlchemy's message carries."""
    if isinstance(error, sa_exc.StatementError) and error.orig is not None:
        error = error.orig
    message = str(error).split("\n", 1)[0]
    return f"{type(error).__name__}: {message}"
