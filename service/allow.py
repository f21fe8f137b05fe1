"""The methods a path answers, for OPTIONS and for the `Allow` header of a 405.

A path may be served by several route functions (`GET` and `PUT /v1/touchpoints/{id}`); Starlette
answers a 405 from the first route whose path matched, so its `Allow` names that route's methods
only. This reads every route of the application once and answers for the whole path.
"""

import re

from fastapi.routing import iter_route_contexts
from starlette.applications import Starlette
from starlette.routing import compile_path

RouteTable = tuple[tuple[re.Pattern[str], frozenset[str]], ...]


def _route_table(app: Starlette) -> RouteTable:
    """Built on first use and kept on the application (its routes are fixed by then)."""
    table: RouteTable | None = getattr(app.state, "method_table", None)
    if table is None:
        rows = []
        for route in iter_route_contexts(app.routes):
            if route.path and route.methods:
                regex, _, _ = compile_path(route.path)
                rows.append((regex, frozenset(route.methods)))
        table = app.state.method_table = tuple(rows)
    return table


def allowed_methods(app: Starlette, path: str) -> list[str]:
    """Every method some route serves at `path`, with OPTIONS; empty when no route has the path."""
    methods: set[str] = set()
    for regex, route_methods in _route_table(app):
        if regex.match(path):
            methods |= route_methods
    return sorted(methods | {"OPTIONS"}) if methods else []
