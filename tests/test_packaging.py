"""The wheel carries shaders/ and assets/ inside the package, and the code finds them in both layouts."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import optviz
from optviz import resources

ROOT = Path(__file__).resolve().parents[1]


def test_resources_found_in_this_install():
    assert (resources.assets_dir() / "scenes" / "default.toml").is_file()
    assert any(resources.shaders_dir().iterdir())
    assert "default" in [p.stem for p in resources.example_scenes()]


@pytest.mark.skipif(not (ROOT / "pyproject.toml").exists(), reason="needs the source tree")
def test_wheel_contains_shaders_and_assets(tmp_path):
    built = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    (wheel,) = tmp_path.glob("optviz-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "optviz/assets/scenes/default.toml" in names
    assert any(n.startswith("optviz/shaders/") and n.endswith(".frag") for n in names)
    assert "optviz/resources.py" in names
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "optviz = optviz.cli:main" in zipfile.ZipFile(wheel).read(entry).decode()

    # Installed from the wheel (unpacked into a folder of its own), the code finds its files inside itself.
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = "import optviz.resources as r; print(r.assets_dir()); print(r.shaders_dir())"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(site), "PATH": ""},
    ).stdout.split()
    assert out == [str(site / "optviz" / "assets"), str(site / "optviz" / "shaders")]
    assert optviz.__version__ in wheel.name
