"""Scene files: round trip, validation that names the bad key and line, atomic saving, the examples."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest

from optviz.core.errors import SceneError
from optviz.core.scene import (
    Camera,
    OptimizerEntry,
    Scene,
    ViewOptions,
    load_scene,
    save_scene,
    scene_from_toml,
    scene_to_toml,
)
from optviz.resources import example_scenes

GOOD = """\
format = "optviz-scene"
version = 1

[surface]
name = "rosenbrock"
params = { b = 50.0 }

[race]
steps = 200
starts = [[-1.0, 2.0], [0.5, 0.5]]

[[optimizers]]
name = "adam"
hyperparams = { lr = 0.01 }
"""


def test_round_trip(tmp_path):
    scene = Scene(
        surface="quadratic",
        surface_params={"condition": 100.0, "noise": 0.5},
        optimizers=[
            OptimizerEntry("adam", {"lr": 0.02, "amsgrad": True}, label="fast adam", color="#ff0000"),
            OptimizerEntry("sgd", {"momentum": 0.9, "nesterov": True}, enabled=False),
        ],
        starts=[(1.0, 2.0)],
        steps=321,
        seed=7,
        tolerance=1e-4,
        title="t",
        view=ViewOptions(log_scale=True, colormap="magma", top_down=True, camera=Camera(5.0, 10.0, 20.0)),
    )
    path = tmp_path / "s.toml"
    save_scene(scene, path)
    assert load_scene(path) == scene
    assert scene_from_toml(scene_to_toml(scene)) == scene


def test_grid_round_trip():
    scene = scene_from_toml(GOOD.replace("starts = [[-1.0, 2.0], [0.5, 0.5]]", "grid = [8, 4]"))
    assert scene.grid == (8, 4)
    assert scene.start_points(scene.build_surface()).shape == (32, 2)
    assert scene_from_toml(scene_to_toml(scene)) == scene


def test_resolves_hyperparameters_against_the_surface():
    scene = scene_from_toml(GOOD)
    (config,) = scene.run_configs()
    assert config.hyperparams["lr"] == 0.01 and config.hyperparams["beta2"] == 0.999
    assert scene.build_surface().params["b"] == 50.0


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("steps = 200", "stepz = 200"), r"race\.stepz \(line 9\): unknown key"),
        (("steps = 200", 'steps = "many"'), r"race\.steps \(line 9\): must be int"),
        (('name = "adam"', 'name = "adamm"'), r"line 13.*unknown optimizer 'adamm'"),
        (("lr = 0.01", "lr = 100.0"), r"lr=100 is out of range"),
        (("lr = 0.01", "lrr = 0.01"), r"line 14.*no parameter 'lrr'"),
        (('name = "rosenbrock"', 'name = "nope"'), r"unknown surface 'nope'"),
        (("b = 50.0", "b = -5.0"), r"b=-5 is out of range"),
        (("[[-1.0, 2.0], [0.5, 0.5]]", "[[1.0]]"), r"race\.starts.*\[x, y\] pairs"),
        (('format = "optviz-scene"', 'format = "other"'), r"format \(line 1\)"),
        (("version = 1", "version = 9"), r"version 9 is not supported"),
        (("[race]", "[racing]"), r"racing.*unknown key"),
        (("steps = 200", "steps = 200\ngrid = [2, 2]"), r"either starts or grid"),
        (("steps = 200", "steps = 0"), r"steps=0 is out of range"),
        (("[race]", "[race\n"), r"not valid TOML"),
    ],
)
def test_validation_names_the_problem(edit, message):
    with pytest.raises(SceneError, match=message):
        scene_from_toml(GOOD.replace(*edit), "s.toml")


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(SceneError, match="no such scene file"):
        load_scene(tmp_path / "nope.toml")


def test_save_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "s.toml"
    path.write_text("old contents")

    def boom(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(Exception, match="No space left"):
        save_scene(scene_from_toml(GOOD), path)
    assert path.read_text() == "old contents"
    assert [p.name for p in tmp_path.iterdir()] == ["s.toml"]  # no temporary file left behind


def test_example_scenes_load_and_run():
    names = {p.stem for p in example_scenes()}
    assert {"default", "saddle_escape", "ill_conditioned_valley", "noisy_rastrigin", "spike_rosenbrock"} <= names
    for path in example_scenes():
        scene = load_scene(path)
        scene.steps = min(scene.steps, 50)
        result = scene.run()
        assert np.isfinite(result.positions).all()


def test_default_scene_is_the_four_optimizer_rosenbrock_race():
    scene = load_scene(next(p for p in example_scenes() if p.stem == "default"))
    assert scene.surface == "rosenbrock"
    assert [e.name for e in scene.optimizers] == ["sgd", "momentum", "adam", "lion"]


def test_only_regular_files_of_a_sane_size_are_read(tmp_path):
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)  # reading it would block until a writer came
    for path in (fifo, tmp_path, "/dev/zero"):
        with pytest.raises(SceneError, match="not a regular file"):
            load_scene(path)
    big = tmp_path / "big.toml"
    big.write_text(GOOD + "#" * 1_000_001)
    with pytest.raises(SceneError, match="too large for a scene file"):
        load_scene(big)


def test_deeply_nested_toml_is_a_scene_error():
    with pytest.raises(SceneError, match="nested too deeply"):
        scene_from_toml("a = " + "[" * 100_000 + "]" * 100_000)


@pytest.mark.parametrize(
    ("camera", "match"),
    [
        ("distance = nan", "camera distance=nan"),
        ("distance = -1e308", "camera distance"),
        ("elevation = 91.0", "camera elevation"),
        ("azimuth = inf", "camera azimuth"),
    ],
)
def test_a_camera_that_cannot_render_is_refused(camera, match):
    with pytest.raises(SceneError, match=match):
        scene_from_toml(GOOD + f"\n[view.camera]\n{camera}\n")


def test_colour_must_match_whole_and_tolerance_be_finite():
    with pytest.raises(SceneError, match="color"):
        scene_from_toml(GOOD.replace('name = "adam"', 'name = "adam"\ncolor = "#ff0000\\n"'))
    with pytest.raises(SceneError, match="tolerance"):
        scene_from_toml(GOOD.replace("steps = 200", "steps = 200\ntolerance = inf"))


def test_errors_echo_at_most_a_short_excerpt_of_a_bad_value():
    with pytest.raises(SceneError) as err:
        scene_from_toml(GOOD.replace('name = "adam"', 'name = "adam"\nlabel = ' + '"' + "x" * 100_000 + '"')
                        .replace("steps = 200", "steps = '" + "y" * 100_000 + "'"))  # fmt: skip
    assert len(str(err.value)) < 200


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_saved_scene_has_the_permissions_the_umask_gives(tmp_path):
    previous = os.umask(0o022)
    try:
        save_scene(scene_from_toml(GOOD), tmp_path / "s.toml")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "s.toml").stat().st_mode) == 0o644  # not mkstemp's private 0600


def test_basins_view_options_round_trip_and_are_checked():
    scene = scene_from_toml(GOOD)
    scene.view.basins, scene.view.basins_grid = "steps", 64
    assert scene_from_toml(scene_to_toml(scene)) == scene
    for edit, message in (
        ({"basins": "colours"}, "basins 'colours' is not one of off, minima, steps"),
        ({"basins": "minima", "basins_optimizer": 3}, "basins_optimizer=3 names no optimizer"),
        ({"basins": "minima", "basins_grid": 1000}, "basins_grid=1000 is out of range"),
    ):
        bad = scene_from_toml(GOOD)
        for key, value in edit.items():
            setattr(bad.view, key, value)
        with pytest.raises(SceneError, match=message):
            bad.validate()


def test_scene_basins_equal_the_sweep_of_the_chosen_optimizer():
    from optviz.core.sweep import sweep_starts
    from optviz.core.sweep.scene_basins import scene_basins

    scene = Scene(surface="himmelblau", optimizers=[OptimizerEntry("sgd"), OptimizerEntry("adam", {"lr": 0.1})])
    scene.steps, scene.view.basins, scene.view.basins_optimizer = 100, "minima", 1
    basins = scene_basins(scene, 6)
    direct = sweep_starts(scene.build_surface(), "adam", scene.run_config(1).hyperparams, 6, 6, 100)
    np.testing.assert_array_equal(basins.cells.minimum, direct.cells.minimum)
    assert basins.optimizer == "adam"


def test_spike_example_tells_what_its_title_says():
    """The spike example: momentum is thrown out by the spike and the reason names it; Adam and the clipped
    momentum go on."""
    from optviz.core.scene import load_scene
    from optviz.resources import example_scenes

    scene = load_scene(next(p for p in example_scenes() if p.stem == "spike_rosenbrock"))
    result = scene.run()
    status = dict(zip((c.display_name for c in result.configs), result.status[:, 0], strict=True))
    assert status["momentum"] == "diverged" and status["adam"] != "diverged"
    assert status["momentum, clipped"] != "diverged"
    assert result.reasons[1, 0] == "exploded after the spike at step 100"


def test_bad_perturbation_and_clip_tables_name_the_key_and_line():
    base = 'format = "optviz-scene"\nversion = 1\n[[optimizers]]\nname = "adam"\n'
    cases = {
        '[perturbation]\nkind = "spike"\nfactor = -1\n': "perturbation.factor (line 7)",
        '[perturbation]\nkind = "wobble"\n': "perturbation.kind (line 6)",
        '[perturbation]\nkind = "nan"\nwhen = 3\n': "perturbation.when (line 7): unknown key",
        'clip = { kind = "norm", threshold = 0 }\n': "optimizers[0].clip",
    }
    for extra, where in cases.items():
        with pytest.raises(SceneError) as info:
            scene_from_toml(base + extra, "s.toml")
        assert where in str(info.value) and "\n" not in str(info.value), str(info.value)
