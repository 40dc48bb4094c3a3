import numpy as np
import pytest

from optviz.render.colormaps import COLORMAPS, colormap_rgba8, colormap_table, sample


@pytest.mark.parametrize("name", COLORMAPS)
def test_tables_are_256_rgb_in_unit_range(name):
    table = colormap_table(name)
    assert table.shape == (256, 3) and table.dtype == np.float32
    assert table.min() >= 0.0 and table.max() <= 1.0
    assert not table.flags.writeable


@pytest.mark.parametrize("name", ["viridis", "magma", "inferno", "plasma", "cividis"])
def test_sequential_maps_brighten_monotonically(name):
    lum = colormap_table(name) @ np.array([0.2126, 0.7152, 0.0722])
    assert np.all(np.diff(lum) > -2e-3)
    assert lum[-1] - lum[0] > 0.5


def test_known_endpoints():
    np.testing.assert_allclose(colormap_table("viridis")[0], [0.267, 0.005, 0.329], atol=0.01)
    np.testing.assert_allclose(colormap_table("viridis")[-1], [0.993, 0.906, 0.144], atol=0.01)


def test_texture_data_and_custom_tables():
    tex = colormap_rgba8("magma")
    assert tex.shape == (1, 256, 4) and tex.dtype == np.uint8 and (tex[..., 3] == 255).all()
    ramp = colormap_rgba8(np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]))
    assert ramp[0, 0, 0] == 0 and ramp[0, -1, 0] == 255 and ramp[0, 128, 0] in (128, 129)


def test_unknown_name_is_a_clear_error():
    with pytest.raises(ValueError, match="viridis"):
        colormap_table("jet")


def test_sample_matches_the_table():
    np.testing.assert_allclose(sample("turbo", [0.0, 1.0]), colormap_table("turbo")[[0, -1]])
