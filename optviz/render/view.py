"""The two places a scene is drawn: an on-screen `SceneGLWidget` and a widget-less `OffscreenGLView`.

Both are pyqtgraph `GLViewMixin`s (same camera options, same `paint(region, viewport)`), so the same items
render in either. Changes from pyqtgraph's defaults:

- the field of view spans the *shorter* side of the viewport (a scene framed for one aspect ratio stays
  framed at any other, e.g. a 16:9 export of a 4:3 window);
- a lens (`lens_scale`, `lens_shift`): the whole picture scaled and shifted in normalised device coordinates,
  so an exporter can move the scene clear of an overlay without touching the camera;
- the clip planes hug the scene (pyqtgraph's near = distance/1000 leaves the depth buffer too coarse for
  trails lying on the surface);
- a static-layer cache: items flagged `static_layer` (surface, axes, minima, start markers) are drawn into
  a colour + depth texture pair, which later frames lay down with one full-screen pass before drawing the
  dynamic items (trails, heads). Playing a race with a still camera then costs the trails, not the 130k
  surface triangles. The cache is used only when nothing static changed since the previous frame, so an
  orbiting camera renders directly with no overhead;
- an interactive level of detail while the camera moves (`motion_lod`): a frame whose camera differs from
  the previous frame's, drawn less than `motion_window_s` after it, is a frame of continuous motion (a mouse
  orbit, pan or zoom) and sets `lod_active`, which the surface reads to draw every other grid node (a quarter
  of the triangles: on software GL the surface's triangle count is most of an orbit frame). The first
  frame with a still camera is full quality again, exactly the frame it would have been without the motion;
  the widget schedules that frame itself (`settle_ms` after the last moving one). On by default for the
  widget; frames read back (`grabFramebuffer`, `render_view` of a widget) are always full quality, and an
  offscreen view (exports) uses it only when asked.
"""

from __future__ import annotations

import time
import warnings
from math import radians, tan

import numpy as np
import shiboken6
from OpenGL import GL
from pyqtgraph.opengl.GLViewWidget import GLViewMixin, GLViewWidget
from PySide6 import QtCore, QtGui

from optviz.render.gl import qmatrix_to_numpy


class _SceneCamera:
    """Projection shared by both views (see the module doc)."""

    near_factor = 0.05
    far_factor = 20.0
    #: While set (offscreen renders), items use this pixel scale instead of their own times the device ratio.
    pixel_scale_override: float | None = None
    #: The lens: normalised device coordinates become scale * ndc + shift (1 and (0, 0): no change).
    lens_scale = 1.0
    lens_shift = (0.0, 0.0)

    def projectionMatrix(self, region, viewport):
        x0, y0, w, h = viewport
        dist = self.opts["distance"]
        near = dist * self.near_factor
        far = dist * self.far_factor
        half = near * tan(0.5 * radians(self.opts["fov"]))
        if w >= h:
            t, r = half, half * w / h
        else:
            r, t = half, half * h / w
        # The region's edges in the lens's output coordinates, mapped back through the lens.
        s, (sx, sy) = self.lens_scale, self.lens_shift
        left = r * ((region[0] - x0) * (2.0 / w) - 1 - sx) / s
        right = r * ((region[0] + region[2] - x0) * (2.0 / w) - 1 - sx) / s
        bottom = t * ((region[1] - y0) * (2.0 / h) - 1 - sy) / s
        top = t * ((region[1] + region[3] - y0) * (2.0 / h) - 1 - sy) / s
        tr = QtGui.QMatrix4x4()
        tr.frustum(left, right, bottom, top, near, far)
        return tr

    def mvp_for(self, width: float, height: float) -> np.ndarray:
        """Row-major projection @ view for a full viewport of this size."""
        vp = (0, 0, width, height)
        return qmatrix_to_numpy(self.projectionMatrix(vp, vp)) @ qmatrix_to_numpy(self.viewMatrix())


class _StaticLayer:
    """Colour and depth textures plus their FBO, for one context."""

    def __init__(self):
        self.fbo = 0
        self.color = 0
        self.depth = 0
        self.size = (0, 0)
        self.key = None
        self.quad = 0

    def ensure(self, width: int, height: int) -> None:
        if self.fbo and self.size == (width, height):
            return
        if not self.fbo:
            self.fbo = int(GL.glGenFramebuffers(1))
            self.color = int(GL.glGenTextures(1))
            self.depth = int(GL.glGenTextures(1))
            self.quad = int(GL.glGenBuffers(1))
            GL.glBindBuffer(GL.GL_ARRAY_BUFFER, self.quad)
            tri = np.array([[-1.0, -1.0], [3.0, -1.0], [-1.0, 3.0]], dtype=np.float32)
            GL.glBufferData(GL.GL_ARRAY_BUFFER, tri.nbytes, tri, GL.GL_STATIC_DRAW)
            GL.glBindBuffer(GL.GL_ARRAY_BUFFER, 0)
        for tex, internal, fmt, typ in (
            (self.color, GL.GL_RGBA8, GL.GL_RGBA, GL.GL_UNSIGNED_BYTE),
            (self.depth, GL.GL_DEPTH_COMPONENT24, GL.GL_DEPTH_COMPONENT, GL.GL_UNSIGNED_INT),
        ):
            GL.glBindTexture(GL.GL_TEXTURE_2D, tex)
            GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MIN_FILTER, GL.GL_NEAREST)
            GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MAG_FILTER, GL.GL_NEAREST)
            GL.glTexImage2D(GL.GL_TEXTURE_2D, 0, internal, width, height, 0, fmt, typ, None)
        GL.glBindTexture(GL.GL_TEXTURE_2D, 0)
        previous = int(GL.glGetIntegerv(GL.GL_FRAMEBUFFER_BINDING))
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self.fbo)
        GL.glFramebufferTexture2D(GL.GL_FRAMEBUFFER, GL.GL_COLOR_ATTACHMENT0, GL.GL_TEXTURE_2D, self.color, 0)
        GL.glFramebufferTexture2D(GL.GL_FRAMEBUFFER, GL.GL_DEPTH_ATTACHMENT, GL.GL_TEXTURE_2D, self.depth, 0)
        status = GL.glCheckFramebufferStatus(GL.GL_FRAMEBUFFER)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, previous)
        if status != GL.GL_FRAMEBUFFER_COMPLETE:
            raise RuntimeError(f"static-layer framebuffer incomplete (status {status:#x})")
        self.size = (width, height)
        self.key = None

    def delete(self) -> None:
        """Free the GL objects (this layer's context must be current)."""
        if self.fbo:
            GL.glDeleteFramebuffers(1, [self.fbo])
            GL.glDeleteTextures(2, [self.color, self.depth])
            GL.glDeleteBuffers(1, [self.quad])
        self.fbo = self.color = self.depth = self.quad = 0


class _RenderTarget:
    """An FBO with colour and depth renderbuffers for `render_view`, for one context.

    Raw GL rather than QOpenGLFramebufferObject: Qt frees a collected QOpenGLFramebufferObject in whichever
    context of its share group is current, and framebuffer names are per context, so a garbage-collected
    one can delete the framebuffer another view is drawing into.
    """

    def __init__(self):
        self.fbo = 0
        self.color = 0
        self.depth = 0
        self.size = (0, 0)

    def ensure(self, width: int, height: int) -> None:
        if self.fbo and self.size == (width, height):
            return
        if not self.fbo:
            self.fbo = int(GL.glGenFramebuffers(1))
            self.color, self.depth = (int(x) for x in GL.glGenRenderbuffers(2))
        GL.glBindRenderbuffer(GL.GL_RENDERBUFFER, self.color)
        GL.glRenderbufferStorage(GL.GL_RENDERBUFFER, GL.GL_RGBA8, width, height)
        GL.glBindRenderbuffer(GL.GL_RENDERBUFFER, self.depth)
        GL.glRenderbufferStorage(GL.GL_RENDERBUFFER, GL.GL_DEPTH24_STENCIL8, width, height)
        GL.glBindRenderbuffer(GL.GL_RENDERBUFFER, 0)
        previous = int(GL.glGetIntegerv(GL.GL_FRAMEBUFFER_BINDING))
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self.fbo)
        GL.glFramebufferRenderbuffer(GL.GL_FRAMEBUFFER, GL.GL_COLOR_ATTACHMENT0, GL.GL_RENDERBUFFER, self.color)
        GL.glFramebufferRenderbuffer(GL.GL_FRAMEBUFFER, GL.GL_DEPTH_STENCIL_ATTACHMENT, GL.GL_RENDERBUFFER, self.depth)
        status = GL.glCheckFramebufferStatus(GL.GL_FRAMEBUFFER)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, previous)
        if status != GL.GL_FRAMEBUFFER_COMPLETE:
            raise RuntimeError(f"offscreen framebuffer incomplete (status {status:#x})")
        self.size = (width, height)

    def delete(self) -> None:
        if self.fbo:
            GL.glDeleteFramebuffers(1, [self.fbo])
            GL.glDeleteRenderbuffers(2, [self.color, self.depth])
        self.fbo = self.color = self.depth = 0


class _LayeredPaint:
    """The static-layer cache (see the module doc), shared by both views."""

    layer_cache_enabled = True
    #: Draw a cheaper frame while the camera is moving (see the module doc).
    motion_lod = False
    #: A camera change this soon after the previous frame counts as continuous motion.
    motion_window_s = 0.25
    #: Set while painting a reduced-detail frame; items read it.
    lod_active = False

    def _layer_init(self) -> None:
        self._static_generation = 0
        self._previous_key = None
        self._gl_objects: dict[int, dict] = {}
        self._painting_static = False
        self._previous_camera = None
        self._previous_frame_t = -1e9
        self._force_full = 0
        self.layer_stats = {"direct": 0, "cached": 0, "rebuilt": 0, "invalidated": 0, "lod": 0}

    def _in_motion(self, camera: tuple, frame: tuple) -> bool:
        """Whether this frame continues a camera motion (and may be drawn at reduced detail)."""
        now = time.perf_counter()
        previous, self._previous_camera = self._previous_camera, (camera, frame)
        recent, self._previous_frame_t = now - self._previous_frame_t < self.motion_window_s, now
        if not self.motion_lod or self._force_full or previous is None:
            return False
        return recent and previous[1] == frame and previous[0] != camera

    def _lod_frame_drawn(self) -> None:
        """Hook: a reduced-detail frame was drawn (the widget schedules its full-quality frame)."""

    def invalidate_static(self) -> None:
        """Something drawn in the static layer changed (items call this from update()).

        Ignored while the static items are being painted: what they change then (the axes laying out their
        ticks and labels for the camera) depends only on the camera, which is part of the cache key already,
        and is drawn in that same pass.
        """
        if getattr(self, "_painting_static", False):
            return
        self._static_generation = getattr(self, "_static_generation", 0) + 1
        if hasattr(self, "layer_stats"):
            self.layer_stats["invalidated"] += 1

    def _camera_key(self) -> tuple:
        o = self.opts
        c = o["center"]
        rot = o.get("rotation")
        rot = (rot.scalar(), rot.x(), rot.y(), rot.z()) if rot is not None else None
        lens = (getattr(self, "lens_scale", 1.0), getattr(self, "lens_shift", (0.0, 0.0)))
        return (c.x(), c.y(), c.z(), o["distance"], o["fov"], o.get("elevation"), o.get("azimuth"), rot, lens)

    def _context_objects(self) -> dict:
        """This view's GL objects (static layer, render target) in the current context."""
        if not hasattr(self, "_gl_objects"):
            self._layer_init()
        ctx = QtGui.QOpenGLContext.currentContext()
        key = id(ctx)
        objects = self._gl_objects.get(key)
        if objects is None:
            objects = self._gl_objects[key] = {}
            # The objects die with their context; forget them so a recycled id starts clean.
            ctx.aboutToBeDestroyed.connect(lambda key=key: self._gl_objects.pop(key, None))
        return objects

    def _layer(self) -> _StaticLayer:
        return self._context_objects().setdefault("layer", _StaticLayer())

    def render_target(self) -> _RenderTarget:
        return self._context_objects().setdefault("target", _RenderTarget())

    def release_gl(self) -> None:
        """Delete this view's GL objects in the current context (call with it current, before closing)."""
        objects = getattr(self, "_gl_objects", {}).pop(id(QtGui.QOpenGLContext.currentContext()), {})
        for obj in objects.values():
            obj.delete()

    def _draw_static(self, items) -> None:
        self._painting_static = True
        try:
            self._draw_subset(items)
        finally:
            self._painting_static = False

    def _draw_subset(self, items) -> None:
        for item in items:
            self._modelViewStack.append(self.currentModelView() * item.transform())
            try:
                self.drawItemTree(item)
            finally:
                self._modelViewStack.pop()

    def paint(self, *, region, viewport, useItemNames=False):
        if not hasattr(self, "_gl_objects"):
            self._layer_init()
        self.setProjection(region, viewport)
        self.setModelview()
        items = sorted((x for x in self.items if x.parentItem() is None), key=lambda a: a.depthValue())
        static = [i for i in items if getattr(i, "static_layer", False)]
        dynamic = [i for i in items if not getattr(i, "static_layer", False)]
        vp = tuple(int(v) for v in GL.glGetIntegerv(GL.GL_VIEWPORT))
        camera = self._camera_key()
        moving = not useItemNames and self._in_motion(camera, (tuple(region), tuple(viewport), vp))
        key = (
            camera,
            tuple(region),
            tuple(viewport),
            vp,
            self._static_generation,
            self.pixel_scale_override,
            tuple(self.opts["bgcolor"]),
        )
        stable = key == self._previous_key
        self._previous_key = key
        bg = self.opts["bgcolor"]
        if moving:
            self.layer_stats["lod"] += 1
            self._paint_motion_frame(static + dynamic, vp, bg)
            self._lod_frame_drawn()
            return
        if useItemNames or not static or not self.layer_cache_enabled or not stable:
            self.layer_stats["direct"] += 1
            GL.glClearColor(*bg)
            GL.glClear(GL.GL_DEPTH_BUFFER_BIT | GL.GL_COLOR_BUFFER_BIT)
            self._draw_static(static)
            self._draw_subset(dynamic)
            return

        layer = self._layer()
        layer.ensure(vp[2], vp[3])
        if layer.key != key:
            self.layer_stats["rebuilt"] += 1
            previous = int(GL.glGetIntegerv(GL.GL_FRAMEBUFFER_BINDING))
            GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, layer.fbo)
            GL.glViewport(0, 0, vp[2], vp[3])
            GL.glClearColor(*bg)
            GL.glClear(GL.GL_DEPTH_BUFFER_BIT | GL.GL_COLOR_BUFFER_BIT)
            self._draw_static(static)
            GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, previous)
            GL.glViewport(*vp)
            layer.key = key
        else:
            self.layer_stats["cached"] += 1
        self._composite(layer, vp)
        self._draw_subset(dynamic)

    def _paint_motion_frame(self, items, vp: tuple, bg) -> None:
        """A frame of continuous camera motion: nothing can be cached; draw everything at the interactive
        detail (items read `lod_active`)."""
        self.lod_active = True
        try:
            GL.glClearColor(*bg)
            GL.glClear(GL.GL_DEPTH_BUFFER_BIT | GL.GL_COLOR_BUFFER_BIT)
            self._draw_static([i for i in items if getattr(i, "static_layer", False)])
            self._draw_subset([i for i in items if not getattr(i, "static_layer", False)])
        finally:
            self.lod_active = False

    def _composite(self, layer: _StaticLayer, vp: tuple) -> None:
        from optviz.render.shaders import get_program

        GL.glClear(GL.GL_DEPTH_BUFFER_BIT | GL.GL_COLOR_BUFFER_BIT)
        GL.glDisable(GL.GL_BLEND)
        GL.glEnable(GL.GL_DEPTH_TEST)
        GL.glDepthFunc(GL.GL_ALWAYS)
        GL.glDepthMask(GL.GL_TRUE)
        if self.default_vao.isCreated():
            self.default_vao.bind()
        prog = get_program("composite")
        with prog:
            GL.glActiveTexture(GL.GL_TEXTURE0)
            GL.glBindTexture(GL.GL_TEXTURE_2D, layer.color)
            prog.set_int("u_color", 0)
            GL.glActiveTexture(GL.GL_TEXTURE1)
            GL.glBindTexture(GL.GL_TEXTURE_2D, layer.depth)
            prog.set_int("u_depth", 1)
            prog.set("u_origin", (float(vp[0]), float(vp[1])))
            GL.glBindBuffer(GL.GL_ARRAY_BUFFER, layer.quad)
            GL.glVertexAttribPointer(0, 2, GL.GL_FLOAT, GL.GL_FALSE, 0, None)
            GL.glEnableVertexAttribArray(0)
            GL.glDrawArrays(GL.GL_TRIANGLES, 0, 3)
            GL.glDisableVertexAttribArray(0)
            GL.glBindBuffer(GL.GL_ARRAY_BUFFER, 0)
            GL.glBindTexture(GL.GL_TEXTURE_2D, 0)
            GL.glActiveTexture(GL.GL_TEXTURE0)
            GL.glBindTexture(GL.GL_TEXTURE_2D, 0)
        GL.glDepthFunc(GL.GL_LESS)


class SceneGLWidget(_SceneCamera, _LayeredPaint, GLViewWidget):
    """The on-screen view: pyqtgraph's GLViewWidget (mouse orbit / pan / zoom) with the scene camera."""

    motion_lod = True
    #: After a reduced-detail frame, the full-quality frame follows this long after the camera stops.
    settle_ms = 120

    def _lod_frame_drawn(self) -> None:
        timer = getattr(self, "_settle_timer", None)
        if timer is None:
            timer = self._settle_timer = QtCore.QTimer(self)
            timer.setSingleShot(True)
            timer.timeout.connect(self.update)
        timer.start(self.settle_ms)

    def grabFramebuffer(self) -> QtGui.QImage:
        """The current frame, always at full quality (never the interactive level of detail)."""
        if not hasattr(self, "_gl_objects"):
            self._layer_init()
        self._force_full += 1
        try:
            return super().grabFramebuffer()
        finally:
            self._force_full -= 1


#: Offscreen views not yet closed (see OffscreenGLView.close).
_LIVE_VIEWS: set = set()


class OffscreenGLView(_SceneCamera, _LayeredPaint, GLViewMixin, QtCore.QObject):
    """A view with its own context and offscreen surface, for rendering without any widget (exports, CLI).

    Works under Xvfb (desktop GL) and under Qt's eglfs platform on surfaceless EGL (OpenGL ES), where
    QWidgets are unavailable. With `AA_ShareOpenGLContexts` it shares GL objects with the application's
    widgets.
    """

    def __init__(self, size: tuple[int, int] = (1280, 720)):
        super().__init__()
        self._size = (int(size[0]), int(size[1]))
        self._context = QtGui.QOpenGLContext(self)
        share = QtGui.QOpenGLContext.globalShareContext()
        if share is not None:
            self._context.setShareContext(share)
        self._context.setFormat(QtGui.QSurfaceFormat.defaultFormat())
        if not self._context.create():
            raise RuntimeError("could not create an OpenGL context for offscreen rendering")
        # Parented after the context, so Qt destroys the context first: a context torn down after its surface
        # (as Python's garbage collector may order it) makes a dead surface current and corrupts the heap.
        self._surface = QtGui.QOffscreenSurface(None, self)
        self._surface.setFormat(self._context.format())
        self._surface.create()
        self._initialized = False

        _LIVE_VIEWS.add(self)

    def close(self) -> None:
        """Free the GL objects, the context and the surface, now. Call it when done with the view.

        Until then the view is kept alive on purpose: left to the garbage collector, a context can be torn
        down in the middle of another view's paint (a collection can run at any allocation), which on
        Mesa corrupts the heap.
        """
        if self._context is None:
            return
        if self._context.makeCurrent(self._surface):
            self.release_gl()
            self._context.doneCurrent()
        shiboken6.delete(self._context)
        shiboken6.delete(self._surface)
        self._context = None
        self._surface = None
        _LIVE_VIEWS.discard(self)

    # The parts of QOpenGLWidget that GLViewMixin relies on.
    def context(self) -> QtGui.QOpenGLContext:
        return self._context

    def width(self) -> int:
        return self._size[0]

    def height(self) -> int:
        return self._size[1]

    def resize(self, width: int, height: int) -> None:
        self._size = (int(width), int(height))

    def devicePixelRatioF(self) -> float:
        return 1.0

    def isValid(self) -> bool:
        return True

    def update(self) -> None:
        """Nothing to schedule: frames are rendered on request."""

    def makeCurrent(self) -> None:
        if self._context is None:
            raise RuntimeError("this offscreen view was closed")
        if not self._context.makeCurrent(self._surface):
            raise RuntimeError("could not make the offscreen OpenGL context current")
        if not self._initialized:
            self._initialized = True
            with warnings.catch_warnings():
                # pyqtgraph warns on OpenGL ES; here ES is the intended headless path (shaders carry both headers).
                warnings.filterwarnings("ignore", "pyqtgraph.opengl is primarily tested", RuntimeWarning)
                self.initializeGL()

    def doneCurrent(self) -> None:
        if self._context is not None:
            self._context.doneCurrent()


def render_view(view, width: int, height: int, supersample: int = 1) -> np.ndarray:
    """Paint one of our views (widget or offscreen) into a framebuffer; (height, width, 4) uint8 RGBA.

    With `supersample` > 1 the frame is drawn that many times larger, with every pixel size scaled to
    match, and averaged down.
    """
    ss = max(int(supersample), 1)
    W, H = int(width) * ss, int(height) * ss
    if not view.isValid():
        raise RuntimeError("the view has no GL context yet: show the widget first, or use an offscreen view")
    # Read-backs of a widget (screenshots) are always full quality; an offscreen view follows its motion_lod.
    full = int(isinstance(view, _LayeredPaint) and not isinstance(view, OffscreenGLView))
    if full:
        if not hasattr(view, "_gl_objects"):
            view._layer_init()
        view._force_full += 1
    view.makeCurrent()
    try:
        target = view.render_target()
        target.ensure(W, H)
        previous_fbo = int(GL.glGetIntegerv(GL.GL_FRAMEBUFFER_BINDING))
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, target.fbo)
        previous = view.pixel_scale_override
        view.pixel_scale_override = float(ss)
        try:
            GL.glViewport(0, 0, W, H)
            view.paint(region=(0, 0, W, H), viewport=(0, 0, W, H))
            GL.glPixelStorei(GL.GL_PACK_ALIGNMENT, 1)
            raw = GL.glReadPixels(0, 0, W, H, GL.GL_RGBA, GL.GL_UNSIGNED_BYTE)
        finally:
            view.pixel_scale_override = previous
            GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, previous_fbo)
        image = np.frombuffer(raw, dtype=np.uint8).reshape(H, W, 4)[::-1]
    finally:
        view.doneCurrent()
        if full:
            view._force_full -= 1
    if ss > 1:
        image = np.round(image.reshape(int(height), ss, int(width), ss, 4).astype(np.float32).mean(axis=(1, 3)))
        return image.astype(np.uint8)
    return np.ascontiguousarray(image)
