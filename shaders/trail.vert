// Trails as ribbons extruded in screen space: width in pixels whatever the zoom, miter joins clamped so
// zig-zags stay readable. Each point is stored twice (one vertex per side); a_prev, a_pos and a_next read
// the same buffer two vertices apart. w is the (fractional) step; the time cursor cuts and fades the trail.
layout(location = 0) in vec4 a_prev;
layout(location = 1) in vec4 a_pos;
layout(location = 2) in vec4 a_next;

uniform mat4 u_mv;
uniform mat4 u_proj;
uniform mat4 u_mvp;
uniform vec2 u_viewport;     // pixels
uniform float u_width;       // core width, pixels
uniform float u_outline;     // outline width on each side, pixels
uniform float u_cursor;      // last visible step (fractional: the head slides along the segment)
uniform float u_fade;        // steps over which the trail fades towards its tail
uniform float u_tail_alpha;  // opacity at the faded end
uniform float u_taper;       // width factor at the faded end
uniform float u_depth_bias;  // box units towards the camera
uniform float u_cut;         // the strip ends at this step: a later neighbour does not bend the last join

out float v_across;          // signed distance from the centre line, pixels
out float v_half;            // half core width here, pixels
out float v_alpha;
out vec2 v_xy;               // box coordinates, to clip the ribbon at the surface's edge

vec4 to_clip(vec3 p) {
    // Moving a point along its own view ray (towards the eye) changes its depth but not where it lands on
    // screen, so only the vertex being emitted needs the bias; its neighbours are projected directly.
    vec4 v = u_mv * vec4(p, 1.0);
    v.xyz += normalize(-v.xyz) * u_depth_bias;
    return u_proj * v;
}

vec2 to_screen(vec4 c) { return c.xy / c.w * 0.5 * u_viewport; }

void main() {
    vec4 prev = a_prev;
    vec4 cur = a_pos;
    vec4 next = a_next;
    if (cur.w > u_cursor) {
        // The point after the cursor: slide it back to where the head is now.
        cur.xyz = mix(prev.xyz, cur.xyz, clamp((u_cursor - prev.w) / max(cur.w - prev.w, 1e-6), 0.0, 1.0));
        next = cur;
    }
    if (next.w > u_cut) next = cur;

    vec4 c_prev = u_mvp * vec4(prev.xyz, 1.0);
    vec4 c_cur = to_clip(cur.xyz);
    vec4 c_next = u_mvp * vec4(next.xyz, 1.0);
    vec2 s_prev = to_screen(c_prev);
    vec2 s_cur = to_screen(c_cur);
    vec2 s_next = to_screen(c_next);

    vec2 d_in = s_cur - s_prev;
    vec2 d_out = s_next - s_cur;
    float l_in = length(d_in);
    float l_out = length(d_out);
    vec2 t_in = l_in > 1e-4 ? d_in / l_in : (l_out > 1e-4 ? d_out / l_out : vec2(1.0, 0.0));
    vec2 t_out = l_out > 1e-4 ? d_out / l_out : t_in;
    vec2 tangent = t_in + t_out;
    tangent = length(tangent) > 1e-3 ? normalize(tangent) : t_in;
    vec2 normal = vec2(-tangent.y, tangent.x);
    float miter = 1.0 / max(dot(normal, vec2(-t_in.y, t_in.x)), 0.5);

    float age = clamp((u_cursor - cur.w) / max(u_fade, 1e-3), 0.0, 1.0);
    float half_core = 0.5 * u_width * mix(1.0, u_taper, age);
    float half_total = half_core + u_outline + 1.0;  // + 1 px for the antialiased edge

    float side = (gl_VertexID % 2 == 0) ? -1.0 : 1.0;
    vec2 offset = normal * side * half_total * miter;
    c_cur.xy += offset / (0.5 * u_viewport) * c_cur.w;

    v_across = side * half_total;
    v_half = half_core;
    v_alpha = mix(1.0, u_tail_alpha, age);
    v_xy = cur.xy;
    gl_Position = c_cur;
}
