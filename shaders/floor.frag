in vec2 v_xy;

uniform vec2 u_extent;      // box half sizes (the surface footprint)
uniform vec2 u_spacing;     // grid spacing in box units (the axis tick spacing)
uniform vec2 u_origin;      // a grid line position in box units (a tick)
uniform float u_reach;      // how far beyond the footprint the grid fades out, box units
uniform vec4 u_line_color;
uniform vec4 u_fill_color;  // footprint tint

out vec4 frag_color;

void main() {
    vec2 g = (v_xy - u_origin) / u_spacing;
    vec2 fw = max(fwidth(g), vec2(1e-6));
    vec2 d = abs(fract(g + 0.5) - 0.5) / fw;
    float line = 1.0 - smoothstep(0.0, 1.0, min(d.x, d.y));
    line *= 1.0 - smoothstep(0.15, 0.5, max(fw.x, fw.y));  // fade where lines crowd (grazing views)

    vec2 outside = max(abs(v_xy) - u_extent, vec2(0.0));
    float fade = 1.0 - smoothstep(0.0, u_reach, length(outside));
    float inside = 1.0 - smoothstep(0.0, 0.01, max(outside.x, outside.y));

    vec4 color = mix(vec4(u_fill_color.rgb, 0.0), u_fill_color, inside);
    color = mix(color, vec4(u_line_color.rgb, 1.0), line * u_line_color.a);
    color.a = max(color.a, line * u_line_color.a) * fade;
    frag_color = color;
}
