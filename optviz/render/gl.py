"""Small GL plumbing shared by the render items: GPU objects kept per OpenGL share group.

pyqtgraph caches one program per class; that breaks as soon as a second, unshared context (the offscreen
exporter, a test's FBO) renders the same item. Here every item keeps its buffers, textures and programs in
`PerShareGroup`, keyed by the share group of the context that is current while painting, with upload versions
per group: the first paint in a new group uploads everything, later paints upload only what changed.
Shared contexts (`AA_ShareOpenGLContexts`) land in one group and share one copy.
"""

from __future__ import annotations

import ctypes
import weakref
from collections.abc import Callable
from typing import Generic, TypeVar

import numpy as np
from OpenGL import GL
from PySide6 import QtGui

T = TypeVar("T")


def current_context() -> QtGui.QOpenGLContext:
    ctx = QtGui.QOpenGLContext.currentContext()
    if ctx is None:
        raise RuntimeError("no current OpenGL context: call this from paint() or after makeCurrent()")
    return ctx


def context_is_es(ctx: QtGui.QOpenGLContext | None = None) -> bool:
    """True on OpenGL ES (the eglfs/surfaceless export path), False on desktop GL."""
    return (ctx or current_context()).isOpenGLES()


class PerShareGroup(Generic[T]):
    """One `T` per OpenGL share group, made by `factory()` on first use with that group's context current."""

    def __init__(self, factory: Callable[[], T]):
        self._factory = factory
        self._slots: dict[int, T] = {}

    def get(self) -> T:
        group = current_context().shareGroup()
        key = id(group)
        slot = self._slots.get(key)
        if slot is None:
            slot = self._factory()
            self._slots[key] = slot
            ref = weakref.ref(self)

            # GL objects die with their share group; drop the Python side too so a recycled id starts clean.
            def forget(*_args, key=key, ref=ref):
                owner = ref()
                if owner is not None:
                    owner._slots.pop(key, None)

            group.destroyed.connect(forget)
        return slot

    def clear(self) -> None:
        self._slots.clear()


class Buffer:
    """A GL buffer object that keeps its size and is overwritten in place when the size is unchanged."""

    def __init__(self, target: int = GL.GL_ARRAY_BUFFER):
        self.target = target
        self.id = int(GL.glGenBuffers(1))
        self.nbytes = 0

    def upload(self, data: np.ndarray, usage: int = GL.GL_DYNAMIC_DRAW) -> None:
        data = np.ascontiguousarray(data)
        GL.glBindBuffer(self.target, self.id)
        if data.nbytes == self.nbytes and data.nbytes:
            GL.glBufferSubData(self.target, 0, data.nbytes, data)
        else:
            GL.glBufferData(self.target, max(data.nbytes, 4), data if data.nbytes else None, usage)
            self.nbytes = data.nbytes
        GL.glBindBuffer(self.target, 0)

    def write(self, offset_bytes: int, data: np.ndarray) -> None:
        """Overwrite part of the buffer (the caller keeps offsets inside the allocated size)."""
        data = np.ascontiguousarray(data)
        if offset_bytes + data.nbytes > self.nbytes:
            raise ValueError("write past the end of the buffer; upload() a larger array instead")
        GL.glBindBuffer(self.target, self.id)
        GL.glBufferSubData(self.target, offset_bytes, data.nbytes, data)
        GL.glBindBuffer(self.target, 0)

    def bind(self) -> None:
        GL.glBindBuffer(self.target, self.id)


class Texture2D:
    """A 2-D texture; `upload` reallocates only when the shape or format changes."""

    def __init__(self, *, filter: int = GL.GL_LINEAR):
        self.id = int(GL.glGenTextures(1))
        self.shape: tuple[int, int] | None = None
        self.format: tuple[int, int, int] | None = None
        GL.glBindTexture(GL.GL_TEXTURE_2D, self.id)
        GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MIN_FILTER, filter)
        GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MAG_FILTER, filter)
        GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_WRAP_S, GL.GL_CLAMP_TO_EDGE)
        GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_WRAP_T, GL.GL_CLAMP_TO_EDGE)
        GL.glBindTexture(GL.GL_TEXTURE_2D, 0)

    def upload(self, data: np.ndarray, internal: int, fmt: int, dtype: int) -> None:
        data = np.ascontiguousarray(data)
        h, w = data.shape[:2]
        GL.glBindTexture(GL.GL_TEXTURE_2D, self.id)
        GL.glPixelStorei(GL.GL_UNPACK_ALIGNMENT, 1)
        if self.shape == (h, w) and self.format == (internal, fmt, dtype):
            GL.glTexSubImage2D(GL.GL_TEXTURE_2D, 0, 0, 0, w, h, fmt, dtype, data)
        else:
            GL.glTexImage2D(GL.GL_TEXTURE_2D, 0, internal, w, h, 0, fmt, dtype, data)
            self.shape = (h, w)
            self.format = (internal, fmt, dtype)
        GL.glBindTexture(GL.GL_TEXTURE_2D, 0)

    def upload_rgba8(self, rgba: np.ndarray) -> None:
        self.upload(np.asarray(rgba, dtype=np.uint8), GL.GL_RGBA8, GL.GL_RGBA, GL.GL_UNSIGNED_BYTE)

    def upload_r32f(self, values: np.ndarray) -> None:
        self.upload(np.asarray(values, dtype=np.float32), GL.GL_R32F, GL.GL_RED, GL.GL_FLOAT)

    def bind(self, unit: int) -> None:
        GL.glActiveTexture(GL.GL_TEXTURE0 + unit)
        GL.glBindTexture(GL.GL_TEXTURE_2D, self.id)


def viewport_size() -> tuple[float, float]:
    """Size in pixels of the current GL viewport (the FBO or widget being drawn)."""
    vp = GL.glGetIntegerv(GL.GL_VIEWPORT)
    return float(vp[2]), float(vp[3])


def qmatrix_to_numpy(m: QtGui.QMatrix4x4) -> np.ndarray:
    """Row-major (4, 4) float64 copy of a QMatrix4x4 (Qt stores column-major)."""
    return np.array(m.data(), dtype=np.float64).reshape(4, 4).T


class AttribState:
    """Enables vertex attributes for one draw and undoes them (and their divisors) afterwards.

    pyqtgraph items share the view's VAO and never reset divisors, so leaving one set would break them.
    """

    def __init__(self):
        self._enabled: list[int] = []
        self._divisors: list[int] = []

    def pointer(self, loc: int, size: int, stride: int, offset: int, divisor: int = 0) -> None:
        pointer = ctypes.c_void_p(offset) if offset else None
        GL.glVertexAttribPointer(loc, size, GL.GL_FLOAT, GL.GL_FALSE, stride, pointer)
        GL.glEnableVertexAttribArray(loc)
        self._enabled.append(loc)
        if divisor:
            GL.glVertexAttribDivisor(loc, divisor)
            self._divisors.append(loc)

    def release(self) -> None:
        for loc in self._divisors:
            GL.glVertexAttribDivisor(loc, 0)
        for loc in self._enabled:
            GL.glDisableVertexAttribArray(loc)
        self._enabled.clear()
        self._divisors.clear()
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, 0)
