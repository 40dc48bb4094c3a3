"""Every format end to end: render offscreen, encode, decode back with PyAV and look at the pixels."""

from __future__ import annotations

import errno
import itertools

import numpy as np
import pytest

from optviz.core.errors import OptvizError
from optviz.export.pipeline import ExportJob
from tests.export.conftest import FPS, MAGENTA, RED, SECONDS, SIZE, covered, decode, near, settings

FORMATS = {"mp4": "race.mp4", "webm": "race.webm", "gif": "race.gif", "png": "frames"}


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_each_format_decodes_to_the_race(qapp, tmp_path, race_scene, fmt):
    out = tmp_path / FORMATS[fmt]
    last = ExportJob(race_scene, settings(out)).run_to_end()
    assert last.phase == "done" and out.exists()
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temporary left beside it
    frames = decode(out)
    assert len(frames) == round(FPS * SECONDS)
    assert all(f.shape == (SIZE[1], SIZE[0], 3) for f in frames)
    assert all(covered(f) > 0.2 for f in frames)  # the surface is drawn, not a blank frame
    end = frames[-1]
    assert near(end, RED).sum() > 15 and near(end, MAGENTA).sum() > 15  # both trails, in their colours
    race = frames[: len(frames) - 1]  # the race plays until the last (held) frame
    for a, b in itertools.pairwise(race):
        assert np.abs(a.astype(int) - b.astype(int)).sum() > 0


def test_same_scene_same_frames(qapp, tmp_path, race_scene):
    job = settings(tmp_path / "x.mp4", overlays=frozenset({"legend", "steps", "loss", "title"}))
    first = [f.copy() for f in ExportJob(race_scene, job).frames()]
    second = list(ExportJob(race_scene, job).frames())
    assert len(first) == len(second) == 12
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))


def test_overlays_put_text_where_they_say(qapp, tmp_path, race_scene):
    plain = next(iter(ExportJob(race_scene, settings(tmp_path / "x.mp4")).frames()))
    with_text = next(
        iter(ExportJob(race_scene, settings(tmp_path / "x.mp4", overlays=frozenset({"legend", "title"}))).frames())
    )
    corner = (slice(0, SIZE[1] // 3), slice(0, SIZE[0] // 3))  # title and legend sit top-left
    assert with_text[corner][..., :3].std() > plain[corner][..., :3].std() + 5
    assert (np.abs(with_text[corner].astype(int) - plain[corner]).sum(-1) > 60).mean() > 0.05
    steps = settings(tmp_path / "x.mp4", overlays=frozenset({"steps", "chart", "loss"}), seconds=1.0)
    last = list(ExportJob(race_scene, steps).frames())[-1]
    bottom = last[SIZE[1] * 2 // 3 :]
    assert near(bottom, RED).sum() > 5 and near(bottom, MAGENTA).sum() > 5  # the loss chart's curves


def test_cancel_midway_leaves_nothing(qapp, tmp_path, race_scene):
    job = ExportJob(race_scene, settings(tmp_path / "race.mp4"))
    seen = []
    for progress in job.run():
        seen.append(progress)
        if progress.frames_done == 3:
            job.cancel()
    assert seen[-1].phase == "cancelled" and seen[-1].frames_done == 3
    assert list(tmp_path.iterdir()) == []
    gen = ExportJob(race_scene, settings(tmp_path / "race.gif")).run()
    for progress in gen:
        if progress.frames_done == 2:
            gen.close()  # the caller walking away (Ctrl+C, a closed dialog) cleans up too
    assert list(tmp_path.iterdir()) == []


def test_progress_counts_frames_and_time_left(qapp, tmp_path, race_scene):
    steps = list(ExportJob(race_scene, settings(tmp_path / "r.mp4")).run())
    rendering = [p for p in steps if p.phase == "rendering" and p.frames_done]
    assert [p.frames_done for p in rendering] == list(range(1, 13))
    assert all(p.frames_total == 12 and p.eta_s is not None and p.eta_s >= 0 for p in rendering)
    assert rendering[-1].eta_s == 0 and steps[-1].phase == "done"


def test_existing_file_needs_force(qapp, tmp_path, race_scene):
    out = tmp_path / "race.mp4"
    out.write_bytes(b"keep me")
    with pytest.raises(OptvizError, match="already exists"):
        ExportJob(race_scene, settings(out)).run_to_end()
    assert out.read_bytes() == b"keep me"
    ExportJob(race_scene, settings(out, force=True)).run_to_end()
    assert len(decode(out)) == 12


def test_unwritable_path_is_one_clear_error(qapp, tmp_path, race_scene):
    with pytest.raises(OptvizError, match="does not exist"):
        ExportJob(race_scene, settings(tmp_path / "no" / "such" / "race.mp4")).run_to_end()
    (tmp_path / "file").write_text("")
    with pytest.raises(OptvizError, match="it is a file"):
        ExportJob(race_scene, settings(tmp_path / "file", force=True)).run_to_end()


def test_full_disk_is_one_clear_error_and_leaves_nothing(qapp, tmp_path, race_scene, monkeypatch):
    from optviz.export import encoders

    def full(self, rgba):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(encoders.VideoEncoder, "write", full)
    with pytest.raises(OptvizError, match="no space left on the disk") as info:
        ExportJob(race_scene, settings(tmp_path / "race.mp4")).run_to_end()
    assert "\n" not in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_the_scene_is_kept_clear_of_the_legend(qapp, tmp_path, race_scene, monkeypatch):
    from optviz.render import SceneView

    lenses = []
    monkeypatch.setattr(SceneView, "set_lens", lambda self, *lens: lenses.append(lens))
    job = ExportJob(race_scene, settings(tmp_path / "x.mp4", size=(640, 360), overlays=frozenset({"legend"})))
    next(iter(job.frames()))
    assert len(lenses) == 1 and lenses[0][1][0] > 0.05  # moved right
    lenses.clear()
    next(iter(ExportJob(race_scene, settings(tmp_path / "x.mp4", size=(640, 360))).frames()))
    assert lenses == []  # no legend: the scene's own framing


def test_a_learned_scene_exports_its_grid_and_paths(qapp, tmp_path, monkeypatch):
    from optviz.core.learn.recipe import LearnedRecipe
    from optviz.core.scene import LEARNED, OptimizerEntry, Scene
    from optviz.export.trajectories import race_json

    monkeypatch.setenv("OPTVIZ_CACHE_DIR", str(tmp_path / "cache"))
    scene = Scene(
        surface=LEARNED,
        learned=LearnedRecipe(model="mlp", dataset="moons", plane="three-point", resolution=9),
        optimizers=[OptimizerEntry("adam", {"lr": 0.05}, color=RED), OptimizerEntry("sgd", color=MAGENTA)],
        steps=20,
    ).validate()
    job = ExportJob(scene, settings(tmp_path / "x.mp4", overlays=frozenset({"title"})))
    frame = list(job.frames())[-1]
    assert job.title() == "mlp on moons (three-point plane)"
    assert covered(frame) > 0.1  # the surface block
    assert near(frame, RED).sum() > 5 and near(frame, MAGENTA).sum() > 5  # both paths
    data = race_json(scene, job.result)
    assert data["surface"]["name"] == "learned" and data["surface"]["learned"]["model"] == "mlp"


@pytest.mark.parametrize("when", ["finishing", "second pass"])
def test_a_cancel_while_finishing_a_gif_keeps_the_file_it_replaces(qapp, tmp_path, race_scene, monkeypatch, when):
    from optviz.export.encoders import GifEncoder

    out = tmp_path / "race.gif"
    out.write_bytes(b"old gif")
    job = ExportJob(race_scene, settings(out, force=True))
    dither_graph = GifEncoder._dither_graph
    passes = []

    def cancel_then_dither(encoder, palette):
        passes.append(encoder)
        job.cancel()  # what a signal handler does while the encoder thread reads the spool back
        return dither_graph(encoder, palette)

    monkeypatch.setattr(GifEncoder, "_dither_graph", cancel_then_dither)
    phases = []
    for progress in job.run():
        phases.append(progress.phase)
        if progress.phase == "finishing" and when == "finishing":
            job.cancel()
    assert phases[-1] == "cancelled" and "done" not in phases
    assert len(passes) == (1 if when == "second pass" else 0)
    assert passes == [] or passes[0].most_frames_held == 0  # the second pass stopped before its first frame
    assert out.read_bytes() == b"old gif" and [p.name for p in tmp_path.iterdir()] == ["race.gif"]


def test_state_glyphs_are_drawn_in_exports_when_the_scene_asks(qapp, tmp_path, race_scene):
    import dataclasses

    plain = list(ExportJob(race_scene, settings(tmp_path / "x.mp4")).frames())
    scene = dataclasses.replace(race_scene, view=dataclasses.replace(race_scene.view, glyphs=["update", "gradient"]))
    job = ExportJob(scene, settings(tmp_path / "x.mp4"))
    with_glyphs = list(job.frames())
    middle = len(plain) // 2
    changed = np.abs(with_glyphs[middle].astype(int) - plain[middle]).sum(-1) > 60
    assert changed.sum() > 40  # arrows at the heads
    assert near(with_glyphs[middle], RED).sum() > near(plain[middle], RED).sum()  # in Adam's colour
