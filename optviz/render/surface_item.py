"""The loss surface: an indexed grid mesh drawn with shaders/surface.*, side walls down to a base so it
reads as a solid block, and a fading floor grid lined up with the axis ticks.

GPU data per share group: a static vertex buffer of grid indices and an index buffer (one triangle strip;
rebuilt only when the resolution changes; where f is undefined at some nodes, indexed triangles that leave
out every triangle touching one, so those regions are holes), an R32F height texture (overwritten in place
on every surface or log-scale change) and a 256x1 colormap texture. Normals, lighting, colours and contour
lines are computed on the GPU; nothing per vertex happens in Python.

Colour is looked up per vertex on the surface (a cell spans a sliver of the colormap, where it is linear) and
per fragment on the walls (one wall triangle spans the whole colormap): the fragment stage, the costly one on
software rasterisers, is left with the contour lines. While the view's camera moves (`lod_active`, see
optviz.render.view) the surface and its walls are drawn from every other grid node, a quarter of the triangles,
from their own small vertex buffers, and pushed back in depth so trails draped on the full mesh stay in front.

Normals come from central differences of the height texture in the vertex shader rather than from
dFdx/dFdy in the fragment shader: derivative normals are constant per triangle (faceted at coarse
resolutions, speckled along triangle edges), these are smooth and still cost the CPU nothing.
"""

from __future__ import annotations

import numpy as np
from OpenGL import GL

from optviz.render.colormaps import DEFAULT_COLORMAP, colormap_rgba8
from optviz.render.gl import AttribState, Buffer, PerShareGroup, Texture2D
from optviz.render.height import HeightField, grid_indices, grid_triangles, grid_vertices
from optviz.render.item_base import SceneItem, blend_over, camera_frame
from optviz.render.shaders import get_program

FLOOR_DROP = 0.04  # the floor sits this far below the lowest point of the surface (box units)
FLOOR_REACH = 0.45  # the floor grid fades out this far beyond the surface's footprint (box units)
#: glPolygonOffset (slope factor, units) of the coarse mesh drawn while the camera moves: its chords cut
#: across valleys that the trails follow on the full mesh, most where the surface is steep.
COARSE_DEPTH_OFFSET = (4.0, 64.0)


class _SurfaceGPU:
    def __init__(self):
        self.vertices = Buffer()
        self.indices = Buffer(GL.GL_ELEMENT_ARRAY_BUFFER)
        self.heights = Texture2D(filter=GL.GL_NEAREST)
        self.cmap = Texture2D(filter=GL.GL_LINEAR)
        self.overlay = Texture2D(filter=GL.GL_NEAREST)  # one texel per start of a basins grid: sharp borders
        self.floor = Buffer()
        self.walls = Buffer()
        self.wall_indices = Buffer(GL.GL_ELEMENT_ARRAY_BUFFER)
        self.coarse_vertices = Buffer()
        self.coarse_indices = Buffer(GL.GL_ELEMENT_ARRAY_BUFFER)
        self.coarse_walls = Buffer()
        self.coarse_wall_indices = Buffer(GL.GL_ELEMENT_ARRAY_BUFFER)
        self.versions: dict[str, int] = {}


class SurfaceItem(SceneItem):
    """Draws a `HeightField` as a lit, colour-mapped, contoured mesh with an optional floor grid."""

    def __init__(
        self,
        colormap: str | np.ndarray = DEFAULT_COLORMAP,
        *,
        contours: int = 24,
        major_every: int = 4,
        contour_strength: float = 0.85,
        floor: bool = True,
        walls: bool = True,
        parentItem=None,
    ):
        super().__init__(parentItem=parentItem)
        self._gpu: PerShareGroup[_SurfaceGPU] = PerShareGroup(_SurfaceGPU)
        self._versions = {"grid": 0, "indices": 0, "heights": 0, "cmap": 0, "floor": 0, "overlay": 0}
        self._holes = False  # the index buffers leave out triangles touching nodes where f is undefined
        self._mode = GL.GL_TRIANGLE_STRIP
        self._overlay: np.ndarray | None = None
        self.field: HeightField | None = None
        self._grid_shape: tuple[int, int] | None = None
        self._cmap = colormap_rgba8(colormap)
        self.contours = int(contours)
        self.major_every = int(major_every)
        self.contour_strength = float(contour_strength)
        self.line_px = 1.0
        self.show_floor = bool(floor)
        self.show_walls = bool(walls)
        self.floor_spacing = (0.25, 0.25)
        self.floor_origin = (0.0, 0.0)

    # ---- data -----------------------------------------------------------------------------------------
    def set_field(self, field: HeightField) -> None:
        """Show a new height field; same resolution: the height texture is overwritten in place."""
        self.field = field
        if field.shape != self._grid_shape:
            self._grid_shape = field.shape
            ny, nx = field.shape
            self._vertices = grid_vertices(nx, ny)
            self._walls, self._all_wall_indices = wall_geometry(nx, ny)
            ci, cj = coarse_nodes(nx), coarse_nodes(ny)
            self._coarse_vertices = coarse_grid_vertices(ci, cj)
            self._coarse_walls, self._all_coarse_wall_indices = wall_geometry(nx, ny, ci, cj)
            self._versions["grid"] += 1
            self._set_indices(None)
        # Holes appear, move or go: the index buffers follow the nodes where f is defined.
        if field.has_holes or self._holes:
            self._set_indices(field.defined if field.has_holes else None)
        self._versions["heights"] += 1
        self._versions["floor"] += 1
        self.update()

    def _set_indices(self, defined: np.ndarray | None) -> None:
        """Index buffers of the top and the walls: one strip over the whole grid, or (`defined`, the mask of
        nodes where f is defined) indexed triangles whose nodes are all defined, so undefined regions are holes."""
        ny, nx = self._grid_shape
        ci, cj = coarse_nodes(nx), coarse_nodes(ny)
        if defined is None:
            self._indices = grid_indices(nx, ny)
            self._coarse_indices = grid_indices(len(ci), len(cj))
            self._wall_indices = self._all_wall_indices
            self._coarse_wall_indices = self._all_coarse_wall_indices
            self._mode = GL.GL_TRIANGLE_STRIP
        else:
            self._indices = grid_triangles(defined)
            self._coarse_indices = grid_triangles(defined, ci, cj)
            self._wall_indices = defined_wall_triangles(self._walls, self._all_wall_indices, defined)
            self._coarse_wall_indices = defined_wall_triangles(
                self._coarse_walls, self._all_coarse_wall_indices, defined
            )
            self._mode = GL.GL_TRIANGLES
        self._holes = defined is not None
        self._versions["indices"] += 1

    def set_colormap(self, colormap: str | np.ndarray) -> None:
        self._cmap = colormap_rgba8(colormap)
        self._versions["cmap"] += 1
        self.update()

    def set_overlay(self, rgba: np.ndarray | None) -> None:
        """Colour the top by an (ny, nx, 4) uint8 image over the domain (row 0 at the domain's low y), lit like
        the colormap; alpha 0 lets the colormap through. None: the colormap alone."""
        self._overlay = None if rgba is None else np.ascontiguousarray(rgba, dtype=np.uint8)
        self._versions["overlay"] += 1
        self.update()

    @property
    def overlay(self) -> np.ndarray | None:
        return self._overlay

    def set_contours(self, levels: int, major_every: int | None = None, strength: float | None = None) -> None:
        """`levels` contour bands over the height range (0 hides them); every `major_every`-th is bolder."""
        self.contours = max(int(levels), 0)
        if major_every is not None:
            self.major_every = max(int(major_every), 1)
        if strength is not None:
            self.contour_strength = float(np.clip(strength, 0.0, 1.0))
        self.update()

    def set_floor(self, visible: bool, spacing: tuple[float, float] | None = None, origin=None) -> None:
        """Floor grid on/off; `spacing`/`origin` (box units) line it up with the axis ticks."""
        self.show_floor = bool(visible)
        if spacing is not None:
            self.floor_spacing = (float(spacing[0]), float(spacing[1]))
        if origin is not None:
            self.floor_origin = (float(origin[0]), float(origin[1]))
        self.update()

    def floor_z(self) -> float:
        return -FLOOR_DROP

    # ---- drawing --------------------------------------------------------------------------------------
    def _sync(self, gpu: _SurfaceGPU) -> None:
        v = self._versions
        if gpu.versions.get("grid") != v["grid"]:
            gpu.vertices.upload(self._vertices, GL.GL_STATIC_DRAW)
            gpu.walls.upload(self._walls, GL.GL_STATIC_DRAW)
            gpu.coarse_vertices.upload(self._coarse_vertices, GL.GL_STATIC_DRAW)
            gpu.coarse_walls.upload(self._coarse_walls, GL.GL_STATIC_DRAW)
            gpu.versions["grid"] = v["grid"]
        if gpu.versions.get("indices") != v["indices"]:
            gpu.indices.upload(self._indices, GL.GL_STATIC_DRAW)
            gpu.wall_indices.upload(self._wall_indices, GL.GL_STATIC_DRAW)
            gpu.coarse_indices.upload(self._coarse_indices, GL.GL_STATIC_DRAW)
            gpu.coarse_wall_indices.upload(self._coarse_wall_indices, GL.GL_STATIC_DRAW)
            gpu.versions["indices"] = v["indices"]
        if gpu.versions.get("heights") != v["heights"]:
            gpu.heights.upload_r32f(self.field.texture_heights())
            gpu.versions["heights"] = v["heights"]
        if gpu.versions.get("cmap") != v["cmap"]:
            gpu.cmap.upload_rgba8(self._cmap)
            gpu.versions["cmap"] = v["cmap"]
        if gpu.versions.get("overlay") != v["overlay"]:
            if self._overlay is not None:
                gpu.overlay.upload_rgba8(self._overlay)
            gpu.versions["overlay"] = v["overlay"]
        if gpu.versions.get("floor") != v["floor"]:
            ex, ey = self.field.extent
            r = FLOOR_REACH + 0.01  # the grid has faded out completely there: no transparent fragments beyond
            quad = np.array(
                [[-ex - r, -ey - r], [ex + r, -ey - r], [-ex - r, ey + r], [ex + r, ey + r]], dtype=np.float32
            )
            gpu.floor.upload(quad)
            gpu.versions["floor"] = v["floor"]

    def draw(self, viewport) -> None:
        if self.field is None:
            return
        gpu = self._gpu.get()
        self._sync(gpu)
        mv, proj = self.matrices()
        mvp = proj @ mv
        eye, right, up, back = camera_frame(mv)
        light = -0.45 * right + 0.55 * up + 0.70 * back
        light = light / np.linalg.norm(light) + np.array([0.0, 0.0, 0.6])
        ex, ey = self.field.extent
        attribs = AttribState()
        # While the camera moves, the view may ask for its interactive level of detail: every other grid
        # node (a quarter of the triangles), pushed back in depth so trails draped on the full mesh stay
        # in front of its chords. The full mesh is drawn again as soon as the camera stops.
        view = self.view()
        coarse = bool(getattr(view, "lod_active", False))
        vertices, indices = (gpu.coarse_vertices, gpu.coarse_indices) if coarse else (gpu.vertices, gpu.indices)
        count = (self._coarse_indices if coarse else self._indices).size
        walls, wall_indices = (gpu.coarse_walls, gpu.coarse_wall_indices) if coarse else (gpu.walls, gpu.wall_indices)
        wall_count = (self._coarse_wall_indices if coarse else self._wall_indices).size

        GL.glEnable(GL.GL_DEPTH_TEST)
        GL.glDepthMask(GL.GL_TRUE)
        GL.glDisable(GL.GL_BLEND)
        GL.glDisable(GL.GL_CULL_FACE)
        prog = get_program("surface")
        with prog:
            prog.set("u_mvp", mvp)
            prog.set("u_extent", (ex, ey))
            prog.set("u_z_top", self.field.transform.z_top)
            prog.set("u_base_z", self.floor_z())
            prog.set("u_eye", eye)
            prog.set("u_light", light)
            prog.set("u_levels", float(max(self.contours, 1)))
            prog.set("u_major", float(max(self.major_every, 1)))
            prog.set("u_contour", self.contour_strength if self.contours else 0.0)
            prog.set("u_line_px", self.line_px * self.effective_pixel_scale())
            gpu.heights.bind(0)
            prog.set_int("u_height", 0)
            gpu.cmap.bind(1)
            prog.set_int("u_cmap", 1)
            gpu.overlay.bind(2)
            prog.set_int("u_overlay", 2)
            prog.set("u_overlay_on", 1.0 if self._overlay is not None else 0.0)
            vertices.bind()
            attribs.pointer(0, 2, 8, 0)
            prog.set("u_walls", 0.0)
            GL.glVertexAttrib4f(1, 0.0, 0.0, 0.0, 0.0)  # not a wall
            # With the walls closing the block and the eye above its base, every back-facing triangle of the
            # top is hidden behind a front-facing one or a wall: culling them saves raster work. Not where the
            # top has holes: the underside shows through them.
            cull = self.show_walls and eye[2] > self.floor_z() + 1e-6 and not self._holes
            if cull:
                GL.glEnable(GL.GL_CULL_FACE)
                GL.glCullFace(GL.GL_BACK)
                GL.glFrontFace(GL.GL_CCW)
            if coarse:
                GL.glEnable(GL.GL_POLYGON_OFFSET_FILL)
                GL.glPolygonOffset(*COARSE_DEPTH_OFFSET)
            indices.bind()
            GL.glDrawElements(self._mode, count, GL.GL_UNSIGNED_INT, None)
            GL.glDisable(GL.GL_CULL_FACE)
            attribs.release()
            if self.show_walls:
                prog.set("u_walls", 1.0)
                walls.bind()
                attribs.pointer(0, 2, 24, 0)
                attribs.pointer(1, 4, 24, 8)
                wall_indices.bind()
                GL.glDrawElements(GL.GL_TRIANGLES, wall_count, GL.GL_UNSIGNED_INT, None)
                attribs.release()
            GL.glDisable(GL.GL_POLYGON_OFFSET_FILL)
        # The floor goes last: the depth test then skips the pixels the block already covers.
        if self.show_floor:
            self._draw_floor(gpu, mvp, attribs)
        GL.glBindBuffer(GL.GL_ELEMENT_ARRAY_BUFFER, 0)
        for unit in (2, 1):
            GL.glActiveTexture(GL.GL_TEXTURE0 + unit)
            GL.glBindTexture(GL.GL_TEXTURE_2D, 0)

    def _draw_floor(self, gpu: _SurfaceGPU, mvp: np.ndarray, attribs: AttribState) -> None:
        GL.glEnable(GL.GL_DEPTH_TEST)
        GL.glDepthMask(GL.GL_FALSE)  # never hide anything drawn later
        blend_over()
        prog = get_program("floor")
        ex, ey = self.field.extent
        with prog:
            prog.set("u_mvp", mvp)
            prog.set("u_z", self.floor_z())
            prog.set("u_extent", (ex, ey))
            prog.set("u_spacing", self.floor_spacing)
            prog.set("u_origin", self.floor_origin)
            prog.set("u_reach", FLOOR_REACH)
            prog.set("u_line_color", (0.42, 0.46, 0.55, 0.55))
            prog.set("u_fill_color", (0.0, 0.0, 0.0, 0.22))
            gpu.floor.bind()
            attribs.pointer(0, 2, 8, 0)
            GL.glDrawArrays(GL.GL_TRIANGLE_STRIP, 0, 4)
            attribs.release()
        GL.glDepthMask(GL.GL_TRUE)
        GL.glDisable(GL.GL_BLEND)


def coarse_nodes(n: int) -> np.ndarray:
    """Every other grid node along one axis, always including the last (the interactive level of detail)."""
    nodes = np.arange(0, n, 2)
    if nodes[-1] != n - 1:
        nodes = np.append(nodes, n - 1)
    return nodes


def coarse_grid_vertices(ci: np.ndarray, cj: np.ndarray) -> np.ndarray:
    """(len(ci) * len(cj), 2) float32 full-grid indices (i, j) of the sub-grid ci x cj, laid out like
    `grid_vertices`, so `grid_indices(len(ci), len(cj))` strips it with the same diagonals. Its own compact
    buffer rather than indices into the full one: llvmpipe shades the whole index range of a draw."""
    jj, ii = np.meshgrid(cj.astype(np.float32), ci.astype(np.float32), indexing="ij")
    return np.ascontiguousarray(np.stack([ii.ravel(), jj.ravel()], axis=1))


def wall_geometry(
    nx: int, ny: int, ci: np.ndarray | None = None, cj: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Vertices (n, 6: i, j, normal x, normal y, on-base flag, 1) and triangle indices of the four walls;
    `ci` / `cj` restrict the edges to those grid nodes (the coarse mesh's walls)."""
    ci = np.arange(nx) if ci is None else np.asarray(ci)
    cj = np.arange(ny) if cj is None else np.asarray(cj)
    sides = [
        (ci, np.zeros(len(ci)), (0.0, -1.0)),
        (ci, np.full(len(ci), ny - 1), (0.0, 1.0)),
        (np.zeros(len(cj)), cj, (-1.0, 0.0)),
        (np.full(len(cj), nx - 1), cj, (1.0, 0.0)),
    ]
    verts, tris, base = [], [], 0
    for i, j, (nxv, nyv) in sides:
        m = len(i)
        v = np.zeros((m, 2, 6), dtype=np.float32)
        v[:, :, 0] = i[:, None]
        v[:, :, 1] = j[:, None]
        v[:, :, 2] = nxv
        v[:, :, 3] = nyv
        v[:, 1, 4] = 1.0  # second vertex of each pair sits on the base
        v[:, :, 5] = 1.0
        verts.append(v.reshape(-1, 6))
        k = base + 2 * np.arange(m - 1, dtype=np.uint32)
        tris.append(np.stack([k, k + 1, k + 2, k + 1, k + 3, k + 2], axis=1).ravel())
        base += 2 * m
    return np.ascontiguousarray(np.concatenate(verts)), np.ascontiguousarray(np.concatenate(tris).astype(np.uint32))


def defined_wall_triangles(walls: np.ndarray, indices: np.ndarray, defined: np.ndarray) -> np.ndarray:
    """The wall triangles (`wall_geometry`'s) whose every vertex stands on a grid node where f is defined."""
    node_ok = np.asarray(defined, bool)[walls[:, 1].astype(np.intp), walls[:, 0].astype(np.intp)]
    tris = indices.reshape(-1, 3)
    return np.ascontiguousarray(tris[node_ok[tris].all(1)].ravel(), dtype=np.uint32)
