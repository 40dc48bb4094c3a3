"""Shader loading: headers for desktop and ES, errors that carry the GLSL log, and paint-time failures that
fail the test instead of being swallowed by pyqtgraph."""

from __future__ import annotations

import numpy as np
import pytest

from optviz.render import shaders
from optviz.render.item_base import SceneItem
from optviz.render.shaders import DESKTOP_HEADER, ES_HEADER, Program, ShaderError, load_sources, with_header

PROGRAMS = ("surface", "floor", "trail", "marker", "label", "composite")


def test_headers_are_prepended_for_desktop_and_es():
    src = "void main() {}\n"
    desktop = with_header(src, es=False)
    es = with_header(src, es=True)
    assert desktop.startswith("#version 330 core\n") and desktop.endswith(src)
    assert es.startswith("#version 300 es\n") and "precision highp float;" in es and es.endswith(src)
    assert DESKTOP_HEADER in desktop and ES_HEADER in es
    # Line numbers in driver logs match the file: the header is followed by #line 1.
    assert "#line 1\n" + src in desktop


@pytest.mark.parametrize("name", PROGRAMS)
def test_shipped_shaders_have_no_version_line(name):
    sources = load_sources(name)
    assert set(sources) == {"vert", "frag"}
    for text in sources.values():
        assert "#version" not in text


def test_a_version_line_in_a_file_is_refused(tmp_path):
    (tmp_path / "bad.vert").write_text("#version 330 core\nvoid main() {}\n")
    (tmp_path / "bad.frag").write_text("void main() {}\n")
    with pytest.raises(ShaderError, match="must not declare #version"):
        load_sources("bad", tmp_path)


def test_missing_shader_file_is_reported(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nothing\.vert"):
        load_sources("nothing", tmp_path)


@pytest.fixture
def gl_context(qapp):
    from optviz.render.view import OffscreenGLView

    view = OffscreenGLView((16, 16))
    view.makeCurrent()
    yield view
    view.doneCurrent()
    view.close()


@pytest.mark.parametrize("name", PROGRAMS)
def test_every_shipped_program_compiles_and_links(gl_context, name):
    prog = Program(name)
    assert prog.program_id() > 0
    # Compiled once per share group: the same id comes back.
    assert prog.program_id() == prog.program_id()


BROKEN = {
    "vert": "layout(location = 0) in vec2 a_pos;\nvoid main() { gl_Position = vec4(a_pos, 0.0, 1.0); }\n",
    "frag": "out vec4 frag_color;\nvoid main() {\n    frag_color = vec4(undefined_thing, 1.0);\n}\n",
}


def test_a_broken_shader_raises_with_the_glsl_log_and_source(gl_context):
    prog = Program("broken_test", dict(BROKEN))
    with pytest.raises(ShaderError) as info:
        prog.program_id()
    err = info.value
    assert err.name == "broken_test" and err.stage == "frag compile"
    text = str(err)
    assert "undefined_thing" in text  # the driver's log names the culprit
    assert "   3      frag_color = vec4(undefined_thing, 1.0);" in text  # numbered source
    # The failure is remembered: a second use raises the same error, not a silent -1 program.
    with pytest.raises(ShaderError):
        prog.program_id()


def test_a_link_error_is_reported(gl_context):
    sources = {
        "vert": "out float v_x;\nvoid main() { v_x = 1.0; gl_Position = vec4(0.0); }\n",
        "frag": "in vec3 v_x;\nout vec4 c;\nvoid main() { c = vec4(v_x, 1.0); }\n",
    }
    with pytest.raises(ShaderError) as info:
        Program("mismatch_test", sources).program_id()
    assert info.value.stage in ("link", "frag compile")


class _BrokenItem(SceneItem):
    def draw(self, viewport):
        prog = Program("broken_in_paint", dict(BROKEN))
        with prog:
            pass


def test_a_broken_shader_in_paint_raises_in_an_offscreen_render(scene):
    """pyqtgraph catches paint() errors and prints them; the autouse fixture makes that a failure."""
    scene.view.addItem(_BrokenItem())
    with pytest.raises(ShaderError, match="undefined_thing"):
        scene.render_image()


def test_a_broken_shader_in_a_widgets_paint_fails_under_pytest_qt(qtbot):
    """In a widget the error leaves paintGL: a synchronous paint (grabFramebuffer) raises it in the caller,
    and one from the event loop is recorded by pytest-qt, which fails the test. Here both are caught on
    purpose, to prove that the error arrives (with pyqtgraph's own printExc it would be printed and lost)."""
    from optviz.render.view import SceneGLWidget

    widget = SceneGLWidget()
    qtbot.addWidget(widget)
    widget.resize(64, 48)
    item = _BrokenItem()
    widget.addItem(item)
    with qtbot.capture_exceptions() as exceptions:
        with pytest.raises(ShaderError, match="undefined_thing"):
            widget.show()  # the first paint happens here, or at the latest in the next two calls
            qtbot.waitExposed(widget)
            widget.grabFramebuffer()
        widget.removeItem(item)
        widget.grabFramebuffer()  # healthy again
        widget.hide()
    assert all(isinstance(value, ShaderError) for _type, value, _tb in exceptions)


def test_shader_cache_is_per_share_group(qapp):
    """Two unshared contexts each compile their own copy; within one group the id is reused."""
    from PySide6 import QtGui

    from optviz.render.view import OffscreenGLView

    a = OffscreenGLView((8, 8))
    prog = Program("surface")
    a.makeCurrent()
    id_a = prog.program_id()
    a.doneCurrent()
    ctx = QtGui.QOpenGLContext()  # not shared with anything
    assert ctx.create()
    surface = QtGui.QOffscreenSurface()
    surface.create()
    assert ctx.makeCurrent(surface)
    try:
        groups = {id(ctx.shareGroup()), id(a.context().shareGroup())}
        assert len(groups) == 2
        assert prog.program_id() > 0
        assert len(prog._per_group._slots) == 2
    finally:
        ctx.doneCurrent()
    a.makeCurrent()
    assert prog.program_id() == id_a
    a.doneCurrent()
    a.close()
    assert np.isfinite(id_a)


def test_get_program_returns_one_object_per_name():
    assert shaders.get_program("trail") is shaders.get_program("trail")
