"""Load GLSL programs by name from the shipped `shaders/` folder.

Shader files carry no `#version` line. The loader prepends `#version 330 core` on desktop OpenGL or
`#version 300 es` plus precision statements on OpenGL ES (the surfaceless export path), so one file serves
both. Programs are compiled once per OpenGL share group. A compile or link failure raises `ShaderError`
carrying the program name, the stage and the driver's log next to the numbered source; the failure is
remembered for that group, so a broken shader fails every paint loudly instead of silently drawing nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from OpenGL import GL

from optviz.render.gl import PerShareGroup, context_is_es

DESKTOP_HEADER = "#version 330 core\n"
ES_HEADER = "#version 300 es\nprecision highp float;\nprecision highp int;\nprecision highp sampler2D;\n"

_STAGES = {"vert": GL.GL_VERTEX_SHADER, "frag": GL.GL_FRAGMENT_SHADER}


class ShaderError(RuntimeError):
    """A GLSL program failed to compile or link; the message holds the driver log and the source."""

    def __init__(self, name: str, stage: str, log: str, source: str = ""):
        self.name, self.stage, self.log, self.source = name, stage, log, source
        numbered = "\n".join(f"{i + 1:4d}  {line}" for i, line in enumerate(source.splitlines()))
        message = f"shader program {name!r}: {stage} failed:\n{log.strip()}"
        if numbered:
            message += f"\n--- {name}.{stage.split()[0]} (line numbers match the log; header prepended) ---\n{numbered}"
        super().__init__(message)


def shaders_dir() -> Path:
    from optviz.resources import shaders_dir as _dir

    return _dir()


def glsl_header(es: bool) -> str:
    return ES_HEADER if es else DESKTOP_HEADER


def load_sources(name: str, directory: Path | None = None) -> dict[str, str]:
    """The raw `name.vert` and `name.frag` texts (without header)."""
    directory = directory or shaders_dir()
    sources = {}
    for ext in _STAGES:
        path = directory / f"{name}.{ext}"
        if not path.is_file():
            raise FileNotFoundError(f"shader {name!r}: missing {path}")
        text = path.read_text(encoding="utf-8")
        if text.lstrip().startswith("#version"):
            raise ShaderError(name, ext, "shader files must not declare #version; the loader prepends it")
        sources[ext] = text
    return sources


def with_header(source: str, es: bool) -> str:
    return glsl_header(es) + "#line 1\n" + source


def _log(obj: int, info) -> str:
    text = info(obj)
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return text or "(the driver gave no log)"


def compile_program(name: str, sources: dict[str, str], es: bool) -> int:
    """Compile and link; return the GL program id or raise ShaderError. Needs a current context."""
    shader_ids = []
    try:
        for ext, src in sources.items():
            full = with_header(src, es)
            sid = GL.glCreateShader(_STAGES[ext])
            GL.glShaderSource(sid, full)
            GL.glCompileShader(sid)
            if not GL.glGetShaderiv(sid, GL.GL_COMPILE_STATUS):
                log = _log(sid, GL.glGetShaderInfoLog)
                GL.glDeleteShader(sid)
                raise ShaderError(name, f"{ext} compile", log, src)
            shader_ids.append(sid)
        prog = GL.glCreateProgram()
        for sid in shader_ids:
            GL.glAttachShader(prog, sid)
        GL.glLinkProgram(prog)
        if not GL.glGetProgramiv(prog, GL.GL_LINK_STATUS):
            log = _log(prog, GL.glGetProgramInfoLog)
            GL.glDeleteProgram(prog)
            raise ShaderError(name, "link", log)
        return int(prog)
    finally:
        for sid in shader_ids:
            GL.glDeleteShader(sid)


@dataclass
class _Compiled:
    prog: int = 0
    error: ShaderError | None = None
    locations: dict[str, int] = field(default_factory=dict)


class Program:
    """A named GLSL program from `shaders/`, compiled lazily per share group.

    Use inside paint(): `with program as p: p.set("u_color", (1, 0, 0, 1)); ...draw...`.
    Uniform values: float, int (`set_int`), sequences of 2-4 floats, (4, 4) matrices (row-major numpy).
    """

    def __init__(self, name: str, sources: dict[str, str] | None = None):
        self.name = name
        self._sources = sources  # None: read from shaders/ on first compile
        self._per_group: PerShareGroup[_Compiled] = PerShareGroup(_Compiled)
        self._current: _Compiled | None = None

    def compiled(self) -> _Compiled:
        slot = self._per_group.get()
        if slot.error is not None:
            raise slot.error
        if not slot.prog:
            try:
                sources = self._sources if self._sources is not None else load_sources(self.name)
                slot.prog = compile_program(self.name, sources, context_is_es())
            except ShaderError as exc:
                slot.error = exc
                raise
        return slot

    def program_id(self) -> int:
        return self.compiled().prog

    def __enter__(self) -> Program:
        slot = self.compiled()
        GL.glUseProgram(slot.prog)
        self._current = slot
        return self

    def __exit__(self, *exc) -> None:
        GL.glUseProgram(0)
        self._current = None

    def location(self, uniform: str) -> int:
        slot = self._current or self.compiled()
        loc = slot.locations.get(uniform)
        if loc is None:
            loc = int(GL.glGetUniformLocation(slot.prog, uniform))
            slot.locations[uniform] = loc
        return loc

    def set(self, uniform: str, value) -> None:
        """Set a float uniform (scalar, vec2-4, float array or mat4). Unknown/optimised-out names are ignored."""
        loc = self.location(uniform)
        if loc < 0:
            return
        arr = np.asarray(value, dtype=np.float32)
        if arr.ndim == 0:
            GL.glUniform1f(loc, float(arr))
        elif arr.shape == (4, 4):
            GL.glUniformMatrix4fv(loc, 1, GL.GL_FALSE, np.ascontiguousarray(arr.T))
        elif arr.shape == (2,):
            GL.glUniform2f(loc, *arr.tolist())
        elif arr.shape == (3,):
            GL.glUniform3f(loc, *arr.tolist())
        elif arr.shape == (4,):
            GL.glUniform4f(loc, *arr.tolist())
        else:
            GL.glUniform1fv(loc, arr.size, arr.ravel())

    def set_int(self, uniform: str, value: int) -> None:
        loc = self.location(uniform)
        if loc >= 0:
            GL.glUniform1i(loc, int(value))


_REGISTRY: dict[str, Program] = {}


def get_program(name: str) -> Program:
    """The shared `Program` for `shaders/name.{vert,frag}` (one object per name, compiled per share group)."""
    prog = _REGISTRY.get(name)
    if prog is None:
        prog = _REGISTRY[name] = Program(name)
    return prog
