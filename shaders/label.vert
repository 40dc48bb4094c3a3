// Text labels: instanced screen-aligned quads textured from a glyph atlas rendered by QPainter.
layout(location = 0) in vec3 a_anchor;  // box coordinates
layout(location = 1) in vec4 a_rect;    // offset x, y and size w, h in pixels (y up)
layout(location = 2) in vec4 a_uv;      // atlas rectangle u0, v0, u1, v1

uniform mat4 u_mvp;
uniform vec2 u_viewport;
uniform float u_pixel_scale;

out vec2 v_uv;

void main() {
    vec2 corner = vec2((gl_VertexID & 1) == 0 ? 0.0 : 1.0, (gl_VertexID & 2) == 0 ? 0.0 : 1.0);
    vec4 c = u_mvp * vec4(a_anchor, 1.0);
    vec2 px = (a_rect.xy + corner * a_rect.zw) * u_pixel_scale;
    // Snap the anchor to the pixel grid so glyphs stay crisp.
    vec2 ndc = c.xy / c.w;
    vec2 screen = floor((ndc * 0.5 + 0.5) * u_viewport + 0.5) + px;
    c.xy = ((screen / u_viewport) * 2.0 - 1.0) * c.w;
    v_uv = mix(a_uv.xy, a_uv.zw, corner);
    gl_Position = c;
}
