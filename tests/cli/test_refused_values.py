"""Values the command refuses (issue 12): each case exits with status 2 and one line on stderr that names the
option or key, before any work starts and without writing a file."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

R = ("race", "--steps", "5")
TRAIN = ("train", "--optimizer", "sgd", "--steps", "1")
LANDSCAPE = ("landscape", "--model", "mlp", "--dataset", "moons", "--resolution", "5", "--steps", "1")

CASES = {
    "seed below 0": ((*R, "--surface", "rosenbrock:noise=1", "--seed=-1"), "--seed"),
    "seed 2**64 lbfgs": ((*R, "--optimizer", "lbfgs", "--seed", str(2**64)), "--seed"),
    "seed 2**64 adahessian": ((*R, "--optimizer", "adahessian", "--seed", str(2**64)), "--seed"),
    "seed 2**63 train": ((*TRAIN, "--seed", str(2**63)), "--seed"),
    "seed below 0 train": ((*TRAIN, "--seed=-1"), "--seed"),
    "seed 2**64 landscape": ((*LANDSCAPE, "--seed", str(2**64), "--out", "{tmp}/l.npz"), "--seed"),
    "seed with underscore": ((*R, "--seed", "1_0"), "--seed"),
    "steps-per-frame inf": (("export", "--steps-per-frame", "inf", "--out", "{tmp}/a.gif"), "--steps-per-frame"),
    "steps-per-frame nan": (("export", "--steps-per-frame", "nan", "--out", "{tmp}/a.gif"), "--steps-per-frame"),
    "steps-per-frame 1e-9": (("export", "--steps-per-frame", "1e-9", "--out", "{tmp}/a.gif"), "--steps-per-frame"),
    "steps-per-frame plans too many frames": (
        ("export", "--steps", "100000", "--steps-per-frame", "0.1", "--out", "{tmp}/a.gif"),
        "--steps-per-frame",
    ),
    "adahessian hessian_power=0": ((*R, "--optimizer", "adahessian:hessian_power=0"), "hessian_power"),
    "adafactor d=0.01": ((*R, "--optimizer", "adafactor:d=0.01"), "d=0.01"),
    "rprop step_min > step_max": ((*R, "--optimizer", "rprop:step_min=1,step_max=0.001"), "step_min"),
    "lr given twice": ((*R, "--optimizer", "sgd:lr=1,lr=2"), "lr given twice"),
    "lr with underscore": ((*R, "--optimizer", "sgd:lr=1_0"), "lr="),
    "int with underscore": ((*R, "--optimizer", "lbfgs:history_size=1_0"), "history_size="),
    "surface key twice": ((*R, "--surface", "rastrigin:noise=1,noise=2"), "noise given twice"),
    "train lr given twice": (("train", "--optimizer", "sgd:lr=1,lr=2", "--steps", "1"), "lr given twice"),
    "empty --formula": ((*R, "--formula="), "--formula"),
    "empty --surface": ((*R, "--surface="), "--surface"),
    "empty --starts": ((*R, "--starts="), "--starts"),
    "empty race --scene": ((*R, "--scene="), "--scene"),
    "empty top-level --scene": (("--scene=",), "--scene"),
    "tolerance inf": ((*R, "--tolerance", "inf", "--json", "{tmp}/t.json"), "--tolerance"),
    "tolerance 0": ((*R, "--tolerance", "0"), "--tolerance"),
    "train clip nan": ((*TRAIN, "--clip", "nan", "--json", "{tmp}/c.json"), "--clip"),
    "train clip inf": ((*TRAIN, "--clip", "inf", "--json", "{tmp}/c.json"), "--clip"),
    "train clip below 0": ((*TRAIN, "--clip=-1"), "--clip"),
    "train weight decay inf": ((*TRAIN, "--weight-decay", "inf"), "--weight-decay"),
    "landscape range nan": ((*LANDSCAPE, "--range", "nan", "--out", "{tmp}/l.npz"), "--range"),
    "export seconds inf": (("export", "--seconds", "inf", "--out", "{tmp}/a.gif"), "--seconds"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_refused_with_one_line_naming_the_key(cli, tmp_path, case):
    args, named = CASES[case]
    out = cli(*(str(a).format(tmp=tmp_path) for a in args))
    assert out.returncode == 2, (out.stdout, out.stderr)
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "error" in lines[0], out.stderr
    assert named in lines[0], lines[0]
    assert list(tmp_path.iterdir()) == []  # no output file, not even a partial one


@pytest.mark.parametrize("command", ["race", "export"])
def test_scene_with_every_optimizer_disabled(cli, tmp_path, command):
    scene = tmp_path / "off.toml"
    scene.write_text(
        'format = "optviz-scene"\nversion = 1\n[surface]\nname = "rosenbrock"\n'
        '[[optimizers]]\nname = "adam"\nenabled = false\n'
    )
    extra = ("--out", str(tmp_path / "off.gif")) if command == "export" else ()
    out = cli(command, "--scene", scene, *extra)
    assert out.returncode == 2 and out.stderr.count("\n") == 1
    assert "every optimizer in the scene is disabled" in out.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["off.toml"]


def test_scene_file_seed_out_of_range_names_its_line(cli, tmp_path):
    scene = tmp_path / "seed.toml"
    scene.write_text(f'format = "optviz-scene"\nversion = 1\n[race]\nseed = {2**63}\n[[optimizers]]\nname = "adam"\n')
    out = cli("race", "--scene", scene)
    assert out.returncode == 2 and "(line 4)" in out.stderr and "seed=" in out.stderr


def test_the_largest_seed_races_and_its_json_is_valid(cli, tmp_path):
    js = tmp_path / "race.json"
    seed = 2**63 - 1
    out = cli(*R, "--surface", "rosenbrock:noise=1", "--optimizer", "lbfgs", "--seed", seed, "--json", js)
    assert out.returncode == 0, out.stderr

    def refuse(constant):
        raise ValueError(constant)

    json.loads(js.read_text(), parse_constant=refuse)  # strict JSON: no NaN or Infinity


_SPEC_TEXT = st.text(alphabet="sgdlrmoentu_=,:.0123456789e-+ ", max_size=40)


@settings(max_examples=300, deadline=None)
@given(rest=_SPEC_TEXT, name=st.sampled_from(["sgd", "rprop", "lbfgs", "adam", ""]))
def test_spec_text_is_a_value_or_one_line(rest, name):
    """Whatever follows NAME: in --optimizer, the answer is resolved values or one line naming the problem; a
    number written with an underscore and a key given twice never get through."""
    from optviz.cli.specs import parse_spec
    from optviz.core.errors import OptvizError
    from optviz.core.optimizers import get_optimizer

    text = f"{name}:{rest}"
    try:
        opt, values = parse_spec(text, "optimizer")
        hp = get_optimizer(opt).resolve(values)
    except OptvizError as exc:
        message = str(exc)
        assert "\n" not in message and len(message) < 400
        return
    assert not any("_" in v for v in values.values())
    keys = [part.partition("=")[0].strip() for part in rest.split(",") if part.strip()]
    assert len(keys) == len(set(keys))
    assert hp["lr"] > 0
