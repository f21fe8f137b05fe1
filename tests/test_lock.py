"""The lock files agree with pyproject.toml, and every install (make, the image) goes through them.

Checked offline: each declared requirement is locked at a version it allows, and each locked package
that applies here is needed by one of them (walking the installed packages' own requirements), so a
dependency added to or dropped from pyproject.toml without `make lock` fails here."""

import re
import tomllib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
RUNTIME_LOCK = ROOT / "requirements" / "runtime.lock"
DEV_LOCK = ROOT / "requirements" / "dev.lock"


@dataclass(frozen=True)
class Pin:
    requirement: Requirement
    hashes: tuple[str, ...]

    @property
    def version(self) -> str:
        [specifier] = self.requirement.specifier
        assert specifier.operator == "==", self.requirement
        return specifier.version

    def applies_here(self) -> bool:
        marker = self.requirement.marker
        return marker is None or marker.evaluate()


def read_lock(path: Path) -> dict[NormalizedName, Pin]:
    """`name==version ; marker` with its `--hash=` lines (continuations joined, comments dropped)."""
    text = re.sub(r"\s*\\\n\s*", " ", path.read_text())
    pins: dict[NormalizedName, Pin] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip() if line.lstrip().startswith("#") else line.strip()
        if not line:
            continue
        words = line.split(" --hash=")
        requirement = Requirement(words[0].strip())
        name = canonicalize_name(requirement.name)
        assert name not in pins, f"{name} locked twice in {path.name}"
        pins[name] = Pin(requirement, tuple(words[1:]))
    return pins


def declared(extra: str | None) -> list[Requirement]:
    runtime = [Requirement(r) for r in PROJECT["dependencies"]]
    if extra is None:
        return runtime
    return runtime + [Requirement(r) for r in PROJECT["optional-dependencies"][extra]]


def needed_here(roots: list[Requirement]) -> set[NormalizedName]:
    """The packages these requirements pull in on this interpreter and platform, extras included."""
    needed: set[NormalizedName] = set()
    pending = [(r, frozenset(r.extras)) for r in roots if r.marker is None or r.marker.evaluate()]
    seen: set[tuple[NormalizedName, frozenset[str]]] = set()
    while pending:
        requirement, extras = pending.pop()
        name = canonicalize_name(requirement.name)
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        needed.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            pytest.fail(f"{name} is not installed: run `make install-dev`")
        for line in requires:
            child = Requirement(line)
            marker = child.marker
            if marker is None or any(marker.evaluate({"extra": extra}) for extra in {"", *extras}):
                pending.append((child, frozenset(child.extras)))
    return needed


@pytest.mark.parametrize(("lock", "extra"), [(RUNTIME_LOCK, None), (DEV_LOCK, "dev")], ids=["runtime", "dev"])
def test_the_lock_holds_what_pyproject_declares_and_nothing_else(lock: Path, extra: str | None) -> None:
    pins = read_lock(lock)
    for requirement in declared(extra):
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is declared in pyproject.toml but not locked: run `make lock`"
        assert requirement.specifier.contains(pins[name].version, prereleases=True), (
            f"{name}=={pins[name].version} is locked but pyproject.toml asks {requirement.specifier}"
        )
    needed = needed_here(declared(extra))
    locked_here = {name for name, pin in pins.items() if pin.applies_here()}
    assert locked_here == needed, (
        f"locked but not needed: {sorted(locked_here - needed)}; needed but not locked: "
        f"{sorted(needed - locked_here)}: run `make lock`"
    )


def test_every_locked_package_has_its_hashes_and_the_environment_matches_the_lock() -> None:
    runtime, dev = read_lock(RUNTIME_LOCK), read_lock(DEV_LOCK)
    for pins in (runtime, dev):
        assert all(pin.hashes for pin in pins.values())
    # The runtime lock is compiled within the dev lock: the image runs what the tests ran.
    for name, pin in runtime.items():
        assert dev[name].requirement == pin.requirement, name
    for name, pin in dev.items():
        if pin.applies_here():
            assert metadata.version(name) == pin.version, f"{name} differs from the lock: make install-dev"


def test_make_and_the_image_install_from_the_locks_with_hashes() -> None:
    makefile = (ROOT / "Makefile").read_text()
    for lock in ("requirements/runtime.lock", "requirements/dev.lock"):
        assert f"pip install --quiet --require-hashes -r {lock}" in makefile
    assert makefile.count("pip install --quiet --no-deps -e .") == 2
    assert "pip install --quiet -e" not in makefile
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install --require-hashes --requirement requirements/runtime.lock" in dockerfile
    assert "pip install --no-deps --editable ." in dockerfile
