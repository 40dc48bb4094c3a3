// Lit colormap colour (from the vertex stage on the surface, looked up here on the walls), antialiased
// contour lines (fwidth-based: constant pixel width at any zoom, fading out where the lines would crowd).
// An optional overlay (basins of attraction) replaces the colormap on the top, read per fragment so its
// category borders stay sharp, lit like the colormap, with the contour lines drawn over it.
in float v_t;
in float v_wall;
in vec3 v_color;
in vec2 v_uv;
in vec2 v_shade;

uniform sampler2D u_cmap;      // 256 x 1 RGBA8
uniform float u_walls;         // 1 while drawing the side walls
uniform float u_levels;        // contour bands over the height range; 0 disables
uniform float u_major;         // every u_major-th contour is a major line
uniform float u_contour;       // contour strength, 0..1
uniform float u_line_px;       // minor line width in pixels
uniform sampler2D u_overlay;   // RGBA8 over the domain; alpha 0 lets the colormap through
uniform float u_overlay_on;    // 1 while an overlay is shown

out vec4 frag_color;

// Coverage of lines at integer values of f, `width` pixels wide, given fw = fwidth(f).
float level_lines(float f, float fw, float width) {
    float d = abs(fract(f + 0.5) - 0.5) / fw;  // distance to the nearest level, in pixels
    float line = 1.0 - smoothstep(0.5 * width - 0.5, 0.5 * width + 0.5, d);
    return line * (1.0 - smoothstep(0.18, 0.45, fw));
}

void main() {
    float t = clamp(v_t, 0.0, 1.0);
    vec3 color = v_color;
    if (u_walls > 0.5) {
        color = texture(u_cmap, vec2(t * (255.0 / 256.0) + 0.5 / 256.0, 0.5)).rgb * v_color.x;
    } else if (u_overlay_on > 0.5) {
        vec4 overlay = texture(u_overlay, v_uv);
        color = mix(color, overlay.rgb * v_shade.x + vec3(v_shade.y), overlay.a);
    }

    if (u_contour > 0.0) {
        float f = t * u_levels;
        float fw = max(fwidth(f), 1e-6);
        float minor = level_lines(f, fw, u_line_px);
        float major = level_lines(f / u_major, fw / u_major, u_line_px * 1.8);
        // Dark lines on bright colours, light lines on dark ones: readable across the whole colormap.
        float dark = smoothstep(0.12, 0.32, dot(color, vec3(0.2126, 0.7152, 0.0722)));
        vec3 line_color = mix(color + vec3(0.30), color * 0.30, dark);
        float strength = v_wall > 0.5 ? 0.35 * major : max(0.55 * minor, major);  // quieter on the walls
        color = mix(color, line_color, u_contour * strength);
    }

    frag_color = vec4(color, 1.0);
}
