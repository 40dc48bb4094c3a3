"""The loss grid: batched equals the per-point reference, the centre is the model's own loss, cache and cancel."""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from optviz.core.learn import cache
from optviz.core.learn.datasets import load_dataset
from optviz.core.learn.grid import compute_grid, evaluate_coords, grid_axes, grid_steps, loop_grid
from optviz.core.learn.models import model_spec
from optviz.core.learn.planes import random_plane
from optviz.core.learn.stepping import evaluate


@pytest.fixture(autouse=True)
def _cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "cache"))


def _setup(model="mlp", dataset="moons"):
    d = load_dataset(dataset)
    net = model_spec(model).build(d, seed=0)
    return d, net, random_plane(net, seed=0)


@pytest.mark.parametrize(
    ("model", "dataset"), [("mlp", "moons"), ("mlp", "digits"), ("cnn", "digits"), ("transformer", "modadd")]
)
def test_batched_grid_equals_the_per_point_loop(model, dataset):
    """Both batched evaluators (the MLP kernel and vmap for the rest) against the reference loop."""
    d, net, plane = _setup(model, dataset)
    xs, ys = grid_axes((0.1, -0.2), 0.8, 5)
    batched = compute_grid(net, d, plane, xs, ys, chunk=7)  # a chunk that splits rows
    loop = loop_grid(net, d, plane, xs, ys)
    np.testing.assert_allclose(batched.loss, loop.loss, rtol=0, atol=1e-6)
    np.testing.assert_allclose(batched.accuracy, loop.accuracy, rtol=0, atol=1e-6)


def test_grid_centre_is_the_models_loss_at_the_centre_weights():
    d, net, plane = _setup()
    centre = (0.25, -0.5)
    xs, ys = grid_axes(centre, 1.0, 7)
    grid = compute_grid(net, d, plane, xs, ys)
    torch.nn.utils.vector_to_parameters(plane.point(*centre).float(), net.parameters())
    loss, accuracy = evaluate(net, d.x_train, d.y_train)
    assert grid.loss[3, 3] == pytest.approx(loss, abs=1e-6)
    assert grid.accuracy[3, 3] == pytest.approx(accuracy, abs=1e-6)


def test_grid_layout_matches_surface_convention():
    d, net, plane = _setup()
    xs, ys = np.array([-0.5, 0.0, 0.5]), np.array([-0.3, 0.4])
    grid = compute_grid(net, d, plane, xs, ys)
    assert grid.loss.shape == (2, 3)
    loss, _ = evaluate_coords(net, d, plane, np.array([[xs[2], ys[0]]]))
    assert grid.loss[0, 2] == pytest.approx(loss[0], abs=1e-6)  # loss[j, i] = f(xs[i], ys[j])
    assert np.abs(grid.loss - loss[0]).min() < 1e-6 < np.sort(np.abs(grid.loss - loss[0]).ravel())[1]


def test_progress_streams_rows_and_cancel_stops_promptly():
    d, net, plane = _setup()
    xs, ys = grid_axes((0, 0), 1.0, 9)
    reports, first_rows = [], None
    for report in grid_steps(net, d, plane, xs, ys, chunk=9):
        reports.append(report)
        if first_rows is None:
            first_rows = report.loss.copy()  # reports share one array, filled in place
    assert [r.rows_done for r in reports[:-1]] == list(range(1, 10))
    assert reports[-1].grid is not None
    assert np.isnan(first_rows[1:]).all() and np.isfinite(first_rows[0]).all()

    calls = {"n": 0}

    def cancelled():
        calls["n"] += 1
        return calls["n"] > 2  # cancel after two chunks

    partial = list(grid_steps(net, d, plane, xs, ys, chunk=9, cancelled=cancelled))
    assert len(partial) == 2 and all(r.grid is None for r in partial)
    assert np.isnan(partial[-1].loss[2:]).all()


def test_cache_hit_returns_identical_arrays(tmp_path):
    d, net, plane = _setup()
    xs, ys = grid_axes((0, 0), 1.0, 5)
    first = list(cache.cached_grid_steps("mlp", net, d, plane, xs, ys))
    files = list((tmp_path / "cache" / "landscapes").glob("*.npz"))
    assert len(files) == 1
    again = list(cache.cached_grid_steps("mlp", net, d, plane, xs, ys))
    assert len(again) == 1, "a hit is one final report, no computation"
    for name in ("xs", "ys", "loss", "accuracy"):
        a, b = getattr(first[-1].grid, name), getattr(again[0].grid, name)
        assert a.dtype == b.dtype and np.array_equal(a, b)
    # Anything that defines the grid changes the key: other directions, other axes.
    other = random_plane(net, seed=1)
    assert cache.grid_key("mlp", d, other, xs, ys, torch.float32) != cache.grid_key(
        "mlp", d, plane, xs, ys, torch.float32
    )
    assert cache.grid_key("mlp", d, plane, xs * 2, ys, torch.float32) != cache.grid_key(
        "mlp", d, plane, xs, ys, torch.float32
    )
    assert not list((tmp_path / "cache" / "landscapes").glob(".*tmp")), "no temporary files left behind"


def test_reference_loop_in_mini_batches_weights_batches_by_size():
    d, net, plane = _setup()
    xs, ys = grid_axes((0.0, 0.0), 0.5, 3)
    whole = loop_grid(net, d, plane, xs, ys)
    batched = loop_grid(net, d, plane, xs, ys, batch_size=128)  # 410 samples: a ragged last batch
    np.testing.assert_allclose(batched.loss, whole.loss, rtol=0, atol=1e-6)
    np.testing.assert_allclose(batched.accuracy, whole.accuracy, rtol=0, atol=1e-6)  # float32 means


def test_cache_folder_is_the_platforms_unless_the_environment_names_one(tmp_path, monkeypatch):
    import platformdirs

    assert cache.cache_dir() == tmp_path / "cache"  # the autouse fixture's $OPTVIZ_CACHE_DIR wins
    monkeypatch.delenv(cache.CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))  # honoured on Linux, ignored elsewhere
    linux = sys.platform.startswith("linux")
    expected = tmp_path / "xdg" / "optviz" if linux else Path(platformdirs.user_cache_dir("optviz"))
    assert cache.cache_dir() == expected
