"""Names in the command line's help texts come from the registries, and reading them costs nothing until
the help is shown."""

from __future__ import annotations

import subprocess
import sys

import pytest

from optviz import cli
from optviz.core.learn.datasets import DATASETS
from optviz.core.learn.models import MODELS
from optviz.core.learn.recipe import PLANES


def help_text(command: str, capsys) -> str:
    with pytest.raises(SystemExit):
        cli.main([command, "--help"])
    return " ".join(capsys.readouterr().out.split())  # argparse wraps lines: compare with single spaces


@pytest.mark.parametrize("command", ["train", "landscape"])
def test_model_and_data_set_help_lists_the_tables(command, capsys):
    text = help_text(command, capsys)
    assert f"model{' from the zoo' if command == 'train' else ''}: {', '.join(MODELS)}" in text
    assert f"data set: {', '.join(DATASETS)}" in text


def test_landscape_range_help_names_the_fitted_planes(capsys):
    fitted = "/".join(p for p in PLANES if p != "random")
    assert f"{fitted}: multiple of the paths' extent" in help_text("landscape", capsys)


def test_building_the_parser_does_not_import_torch():
    code = "import sys\nfrom optviz import cli\ncli.build_parser()\nprint('torch' in sys.modules)\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
