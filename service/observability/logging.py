"""Logs: one line per event, as JSON (`INGRAIN_LOG_FORMAT=json`, for a log collector) or as text for
a terminal, with the id of the request in flight and its caller's organisation and roles.

The service logs through the standard library; structlog renders every record, Ingrain's,
uvicorn's and pgqueuer's alike. Only fields named here are taken from a record's `extra`, so a log
call cannot carry a token, a body or a person's data into a line by accident.
"""

import logging
import sys
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger
from uvicorn.config import LOG_LEVELS

from service.observability.context import current_request
from service.observability.tracing import current_ids
from service.settings import LogFormat, LogLevel

# What a record's `extra` may add to its line: the fields of a request's line.
EXTRA_FIELDS = ("method", "route", "status", "duration_ms")
_HANDLER_NAME = "ingrain"


def add_request_context(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """The request in flight, if any: its id, and its caller's organisation and roles once known."""
    context = current_request.get()
    if context is not None:
        event_dict.setdefault("request_id", context.request_id)
        if context.organisation_id is not None:
            event_dict.setdefault("organisation_id", str(context.organisation_id))
        if context.roles:
            event_dict.setdefault("roles", context.roles)
    return event_dict


def add_trace_ids(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """The span in flight, when tracing is on: its `trace_id` and `span_id`, as a trace backend
    shows them, so that a line and its trace find each other."""
    ids = current_ids()
    if ids is not None:
        event_dict.setdefault("trace_id", ids[0])
        event_dict.setdefault("span_id", ids[1])
    return event_dict


def formatter(log_format: LogFormat, *, colors: bool = False) -> logging.Formatter:
    pre_chain: list[Processor] = [
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(allow=EXTRA_FIELDS),
        add_request_context,
        add_trace_ids,
    ]
    renderer: list[Processor]
    if log_format == "json":
        renderer = [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
    else:
        renderer = [structlog.dev.ConsoleRenderer(colors=colors)]
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=pre_chain,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *renderer],
    )


def configure_logging(log_format: LogFormat, level: LogLevel, *, stream: TextIO | None = None) -> None:
    """Route every logger of this process to one handler on `stream` (stderr) in `log_format`.

    Called once per process (`ingrain serve`, each of its API processes, `ingrain worker`); calling
    it again replaces the handler it added, and leaves handlers others added alone.
    """
    stream = stream or sys.stderr
    handler = logging.StreamHandler(stream)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter(log_format, colors=log_format == "text" and _is_terminal(stream)))
    root = logging.getLogger()
    for existing in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(LOG_LEVELS[level])
    # uvicorn's loggers write through the handler above, but not its access log: each request's
    # line is Ingrain's (service.observability.middleware), with the route's template where
    # uvicorn's has the path and query asked for, which may name a person's record.
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    access = logging.getLogger("uvicorn.access")
    access.handlers.clear()
    access.propagate = False
    # httpx logs every URL it calls at INFO (identity providers' key sets, receivers' endpoints); a
    # URL may carry a credential in its query, so only its warnings are kept.
    logging.getLogger("httpx").setLevel(max(LOG_LEVELS[level], logging.WARNING))


def _is_terminal(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
