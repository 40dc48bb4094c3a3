"""Planes in weight space: filter normalisation, the PCA plane and the three-point plane, projection."""

import pytest
import torch

from optviz.core.errors import OptvizError
from optviz.core.learn.datasets import load_dataset
from optviz.core.learn.grid import unflatten
from optviz.core.learn.models import model_spec
from optviz.core.learn.planes import (
    Plane,
    explained_fraction,
    filter_normalized_direction,
    line_plane,
    pca_plane,
    random_plane,
    three_point_plane,
)
from optviz.core.learn.stepping import flat_parameters


@pytest.mark.parametrize(("model", "dataset"), [("mlp", "moons"), ("cnn", "digits")])
def test_filter_normalisation_holds(model, dataset):
    net = model_spec(model).build(load_dataset(dataset), seed=1)
    direction = filter_normalized_direction(net, torch.Generator().manual_seed(0))
    parts = unflatten(net, direction)
    for name, w in net.named_parameters():
        d = parts[name]
        if w.dim() <= 1:
            assert torch.count_nonzero(d) == 0, f"{name}: 1-D parameters get a zero direction"
            continue
        # Every filter (output unit, output channel) of the direction has the norm of the weights' filter.
        d_norm = d.reshape(d.shape[0], -1).norm(dim=1)
        w_norm = w.detach().double().reshape(w.shape[0], -1).norm(dim=1)
        torch.testing.assert_close(d_norm, w_norm, rtol=1e-9, atol=1e-12)


def test_random_plane_is_seeded_and_passes_through_the_weights():
    net = model_spec("mlp").build(load_dataset("moons"), seed=0)
    a, b = random_plane(net, seed=4), random_plane(net, seed=4)
    assert torch.equal(a.d1, b.d1) and torch.equal(a.d2, b.d2)
    assert not torch.equal(a.d1, random_plane(net, seed=5).d1)
    assert torch.equal(a.point(0.0, 0.0), flat_parameters(net))


def _paths(seed=0, dim=40, steps=30, count=3):
    g = torch.Generator().manual_seed(seed)
    return [torch.cumsum(torch.randn(steps, dim, generator=g, dtype=torch.float64), dim=0) for _ in range(count)]


def test_pca_plane_passes_through_the_mean_and_explains_what_it_reports():
    paths = _paths()
    plane = pca_plane(paths)
    points = torch.cat(paths)
    torch.testing.assert_close(plane.origin, points.mean(dim=0))
    assert plane.explained_variance[0] >= plane.explained_variance[1] > 0
    assert abs(float(plane.d1 @ plane.d2)) < 1e-10 and abs(float(plane.d1.norm()) - 1) < 1e-12
    # The variance of the projected points along each direction is the reported share of the total.
    coords, _ = plane.project(points)
    centered = points - points.mean(dim=0)
    total = float((centered**2).sum())
    shares = (coords**2).sum(dim=0) / total
    torch.testing.assert_close(shares, torch.tensor(plane.explained_variance, dtype=torch.float64))


def test_pca_plane_is_deterministic_in_sign():
    paths = _paths(seed=2)
    plane = pca_plane(paths)
    coords, _ = plane.project(paths[0][-1:])
    assert (coords >= 0).all()


def test_three_point_plane_contains_its_points_orthonormally():
    g = torch.Generator().manual_seed(3)
    a, b, c = (torch.randn(25, generator=g, dtype=torch.float64) for _ in range(3))
    plane = three_point_plane(a, b, c)
    assert abs(float(plane.d1 @ plane.d2)) < 1e-12
    coords, off = plane.project(torch.stack([a, b, c]))
    assert float(off.max()) < 1e-12
    torch.testing.assert_close(coords[0], torch.zeros(2, dtype=torch.float64))
    assert float(coords[1, 1]) == pytest.approx(0.0, abs=1e-12)  # b lies on the first axis
    with pytest.raises(OptvizError, match="one line"):
        three_point_plane(a, b, a + 2 * (b - a))


def test_projection_and_explained_fraction():
    g = torch.Generator().manual_seed(5)
    d1, d2, off = (torch.randn(30, generator=g, dtype=torch.float64) for _ in range(3))
    plane = Plane("test", torch.zeros(30, dtype=torch.float64), d1, d2)  # not orthogonal: least squares
    inside = torch.stack([plane.point(t, 2 * t) for t in torch.linspace(0, 1, 8).tolist()])
    coords, residual = plane.project(inside)
    torch.testing.assert_close(coords[:, 1], 2 * coords[:, 0])
    assert float(residual.max()) < 1e-10
    assert explained_fraction(plane, inside) == pytest.approx(1.0)
    # A path moving straight off the plane is not explained at all.
    normal = off - plane.basis @ torch.linalg.lstsq(plane.basis, off[:, None]).solution[:, 0]
    away = torch.stack([t * normal for t in range(5)])
    assert explained_fraction(plane, away) == pytest.approx(0.0, abs=1e-12)


def test_a_line_plane_holds_a_single_step_and_is_orthonormal():
    net = model_spec("mlp").build(load_dataset("moons"), seed=0)
    a = flat_parameters(net)
    b = a + 0.1 * torch.randn(a.shape, generator=torch.Generator().manual_seed(1), dtype=a.dtype)
    plane = line_plane("pca", a, b, net, seed=3)
    assert plane.kind == "pca" and plane.explained_variance == (1.0, 0.0)
    assert float(plane.d1.norm()) == pytest.approx(1.0) and float(plane.d2.norm()) == pytest.approx(1.0)
    assert abs(float(plane.d1 @ plane.d2)) < 1e-12
    _, off = plane.project(torch.stack([a, b]))
    assert float(off.max()) < 1e-9
    again = line_plane("pca", a, b, net, seed=3)
    assert torch.equal(plane.d2, again.d2)  # seeded
    with pytest.raises(OptvizError, match="did not move"):
        line_plane("pca", a, a, net)
