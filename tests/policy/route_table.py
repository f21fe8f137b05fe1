"""The application's route table as the policy tests read it: every route, what it declares, and
a way to fill its path parameters. Read at run time, so routes added later are covered too."""

import enum
import inspect
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, get_args, get_origin

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount

from service.main import create_app
from service.policy import POLICY_ATTR, ROLE_PERMISSIONS, Permission, declared_policies
from service.settings import Settings
from service.vocabulary import Role

PUBLIC = "public"
AUTHENTICATED = "authenticated"

# A declaration: "public", "authenticated", or the permissions of which the caller needs any one.
Declaration = str | tuple[Permission, ...]


@dataclass(frozen=True)
class RouteCase:
    method: str
    path: str
    declarations: tuple[Declaration, ...]
    dependant: Dependant | None

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def is_public(self) -> bool:
        return self.declarations == (PUBLIC,)

    def allows(self, role: Role) -> bool:
        """What DOMAIN.md's role table (as ROLE_PERMISSIONS) says about `role` on this route."""
        held = ROLE_PERMISSIONS[role]
        for declaration in self.declarations:
            if isinstance(declaration, tuple) and not any(p in held for p in declaration):
                return False
        return True

    @property
    def checks_permissions(self) -> bool:
        return any(isinstance(d, tuple) for d in self.declarations)


def documentation_paths(app: FastAPI) -> set[str]:
    """The OpenAPI document and its viewers: public by nature, added by FastAPI itself."""
    paths = {app.openapi_url, app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url}
    return {p for p in paths if p}


@dataclass(frozen=True)
class Undeclared:
    id: str
    reason: str


def walk(app: FastAPI) -> tuple[list[RouteCase], list[Undeclared]]:
    cases: list[RouteCase] = []
    undeclared: list[Undeclared] = []
    docs = documentation_paths(app)
    for route in iter_route_contexts(app.routes):
        path = route.path or "?"
        if isinstance(route.original_route, Mount):
            if getattr(route.original_route.app, POLICY_ATTR, None) is None:
                undeclared.append(Undeclared(f"MOUNT {path}", "a mounted app cannot declare a policy"))
            continue
        methods = sorted((route.methods or {"WEBSOCKET"}) - {"HEAD"})
        dependant: Dependant | None = getattr(route, "dependant", None)
        if dependant is not None:
            declared = tuple(declared_policies(dependant))
        elif path in docs:
            declared = (PUBLIC,)
        else:
            marker = getattr(route.endpoint, POLICY_ATTR, None)
            declared = (marker,) if marker is not None else ()
        for method in methods:
            case = RouteCase(method=method, path=path, declarations=declared, dependant=dependant)
            if not declared:
                undeclared.append(Undeclared(case.id, "no require(), public() or authenticated() dependency"))
            else:
                cases.append(case)
    return cases, undeclared


def current_app() -> FastAPI:
    return create_app(Settings(environment="test", demo_data=False))


def path_parameters(case: RouteCase) -> dict[str, Any]:
    """Path parameter name → its declared type (str when unknown)."""
    if case.dependant is None:
        return {}
    return {p.name: p.field_info.annotation for p in case.dependant.path_params}


def sample_value(annotation: Any) -> str:
    """A syntactically valid value for a parameter of this type (it need not name a real row)."""
    origin = get_origin(annotation)
    if origin is not None:  # Optional[...], Annotated[...]
        args = [a for a in get_args(annotation) if a is not type(None)]
        return sample_value(args[0]) if args else "probe"
    if annotation is uuid.UUID:
        return str(uuid.uuid4())
    if inspect.isclass(annotation) and issubclass(annotation, enum.Enum):
        return str(next(iter(annotation)).value)
    if annotation is int:
        return "1"
    if annotation is date:
        return date.today().isoformat()
    if annotation is datetime:
        return datetime.now().astimezone().isoformat()
    return "probe"


def fill_path(case: RouteCase, values: dict[str, str] | None = None) -> str:
    path = case.path
    for name, annotation in path_parameters(case).items():
        value = (values or {}).get(name) or sample_value(annotation)
        # Starlette converters appear in the template, e.g. `{external_ref:path}`.
        for template in (
            f"{{{name}}}",
            *(f"{{{name}:{c}}}" for c in ("path", "str", "int", "uuid", "float")),
        ):
            path = path.replace(template, value)
    return path
