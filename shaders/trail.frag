in float v_across;
in float v_half;
in float v_alpha;
in vec2 v_xy;

uniform vec4 u_color;
uniform vec4 u_outline_color;
uniform float u_outline;
uniform vec2 u_clip;          // box half sizes: nothing is drawn outside the surface's footprint
uniform float u_shade;        // 0: flat ribbon, 1: tube-like shading across the width
uniform float u_opacity;      // whole-pass opacity (the x-ray pass of hidden parts is faint)

out vec4 frag_color;

void main() {
    if (abs(v_xy.x) > u_clip.x || abs(v_xy.y) > u_clip.y) discard;
    float d = abs(v_across);
    float outer = v_half + u_outline;
    float coverage = clamp(outer + 0.5 - d, 0.0, 1.0);
    float core = clamp(v_half + 0.5 - d, 0.0, 1.0);
    float r = clamp(d / max(v_half, 0.5), 0.0, 1.0);
    vec3 body = u_color.rgb * mix(1.0, 1.12 - 0.35 * r * r, u_shade);
    vec3 color = mix(u_outline_color.rgb, body, core);
    float alpha = coverage * mix(u_outline_color.a, u_color.a, core) * v_alpha * u_opacity;
    if (alpha < 0.003) discard;
    frag_color = vec4(color, alpha);
}
