"""Find the shipped `shaders/` and `assets/` folders in a wheel (inside the package) or a source checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _folder(name: str) -> Path:
    # In a wheel the build copies the folder into the package; in an editable install or a checkout it
    # stays at the repository's top level, next to the package.
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"optviz is installed without its {name}/ folder (looked in {_PACKAGE})")


def shaders_dir() -> Path:
    return _folder("shaders")


def assets_dir() -> Path:
    return _folder("assets")


def example_scenes() -> list[Path]:
    return sorted((assets_dir() / "scenes").glob("*.toml"))
