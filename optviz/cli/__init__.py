"""The `optviz` command: the app by default, and headless subcommands that print or write files.

Every user mistake ends as one line on stderr naming the problem and how to list the valid choices, exit
status 2, and no output file. Heavy modules (torch, Qt) are imported only by the command that needs them,
so `optviz --help` is instant.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from optviz import __version__
from optviz.core.errors import OptvizError
from optviz.export.interrupt import ExportInterrupted

EXIT_USAGE = 2


class OneLineParser(argparse.ArgumentParser):
    """argparse prints usage plus a message on error; we print a single line and exit with status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    from optviz.cli import (
        argtypes,
        export_cmd,
        inspect_cmd,
        landscape_cmd,
        list_cmd,
        lr_find_cmd,
        race_cmd,
        robustness_cmd,
        study_cmd,
        sweep_cmd,
        train_cmd,
    )

    parser = OneLineParser(
        prog="optviz",
        description="Watch deep-learning optimizers race on loss surfaces. With no command, opens the app.",
    )
    parser.add_argument("--version", action="version", version=f"optviz {__version__}")
    parser.add_argument("--scene", type=argtypes.nonempty, metavar="FILE", help="open this scene file in the app")
    parser.add_argument("--screenshot", metavar="OUT.png", help="open the app, advance, save a screenshot, exit")
    parser.add_argument(
        "--size", metavar="WxH", help="window size for --screenshot (default 1600x1000); with no display, the video's"
    )
    parser.add_argument("--steps", type=argtypes.integer, metavar="N", help="steps to advance before --screenshot")
    parser.add_argument(
        "--panel",
        choices=("charts", "sensitivity", "all-optimizers", "tuning", "training", "inspector", "studies"),
        help="bring this panel to the front (tuning runs Tune all first); for --screenshot and at start",
    )
    parser.add_argument(
        "--train",
        nargs="?",
        const=0,
        type=argtypes.integer,
        metavar="N",
        help="for --screenshot: run the Training panel's default training first, to the end, or pause it once N "
        "steps (all runs together) are done",
    )
    parser.add_argument(
        "--open-study",
        type=argtypes.nonempty,
        metavar="STORAGE:NAME",
        help="show this tuning study in the Studies tab (a journal file or storage URL, a colon, the study's name; "
        "e.g. ~/studies/digits.journal:digits-mlp); with --screenshot --panel studies, a picture of it",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    list_cmd.add_parser(sub)
    race_cmd.add_parser(sub)
    inspect_cmd.add_parser(sub)
    train_cmd.add_parser(sub)
    robustness_cmd.add_parser(sub)
    lr_find_cmd.add_parser(sub)
    export_cmd.add_parser(sub)
    landscape_cmd.add_parser(sub)
    sweep_cmd.add_parser(sub)
    study_cmd.add_parser(sub)
    return parser


#: Options whose values may start with "-" (a negative start, a formula like "-x^2"): argparse would take
#: such a value for an option, so `--start -1,2` is rewritten to `--start=-1,2` before parsing.
_NEGATIVE_OK = {"--start", "--formula"}


def _join_negative_values(argv: Sequence[str]) -> list[str]:
    out: list[str] = []
    items = list(argv)
    i = 0
    while i < len(items):
        if items[i] in _NEGATIVE_OK and i + 1 < len(items) and items[i + 1].startswith("-"):
            out.append(f"{items[i]}={items[i + 1]}")
            i += 2
        else:
            out.append(items[i])
            i += 1
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(_join_negative_values(sys.argv[1:] if argv is None else argv))
    prog = f"optviz {args.command}" if args.command else "optviz"
    try:
        if args.command is None:
            return open_app(args)
        from optviz.cli.outputs import guard_stdout

        return guard_stdout(lambda: args.run(args), prog)
    except OptvizError as exc:
        sys.stderr.write(f"{prog}: error: {exc}\n")
        return EXIT_USAGE
    except ExportInterrupted as exc:  # Ctrl+C, SIGTERM or SIGHUP during an export: one line, 128 + the signal
        prog = f"optviz {args.command}" if args.command else "optviz"
        sys.stderr.write(f"{prog}: {exc}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("optviz: interrupted\n")
        return 130


HEADLESS_COMMANDS = (
    "optviz export, optviz race, optviz inspect, optviz sweep, optviz basins, optviz tune, optviz landscape, "
    "optviz train, optviz robustness, optviz lr-find, optviz study, optviz list"
)


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def open_app(args: argparse.Namespace) -> int:
    """Start the desktop app; with no display, render the race to a video instead and say where it is."""
    if not has_display() and not args.screenshot:
        return render_without_display(args)
    try:
        from optviz.app.shell.main import run_app
    except ImportError as exc:  # e.g. PySide6 or its system libraries missing
        sys.stderr.write(f"optviz: the app cannot start ({exc}); headless commands: {HEADLESS_COMMANDS}\n")
        return EXIT_USAGE
    if not has_display():
        sys.stderr.write(
            f"optviz: no display found (DISPLAY is not set), so the app cannot open; "
            f"headless commands: {HEADLESS_COMMANDS} (or run the app under xvfb-run)\n"
        )
        return EXIT_USAGE
    return run_app(args)


def render_without_display(args: argparse.Namespace) -> int:
    """No display: the scene's race (the default race without --scene) as a video in the current folder."""
    from optviz.cli.export_cmd import export_default_race
    from optviz.core.scene import default_scene, load_scene
    from optviz.export.settings import parse_size

    scene = (load_scene(args.scene) if args.scene else default_scene()).require_enabled()
    out = export_default_race(scene, parse_size(args.size) if args.size else None)
    print(
        f"optviz: no display here, so the race was rendered to {out} (open it in a video player); "
        f"headless commands: {HEADLESS_COMMANDS}"
    )
    return 0
