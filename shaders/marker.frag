in vec2 v_local;
in float v_radius;
in vec4 v_color;
flat in int v_shape;

uniform float u_pixel_scale;
uniform vec4 u_outline_color;
uniform float u_opacity;  // the hidden-part pass draws fainter

out vec4 frag_color;

// Distance (pixels, negative inside) to the shape's edge.
float shape_distance(vec2 p, float r) {
    if (v_shape == 1) {                       // ring
        return abs(length(p) - 0.72 * r) - 0.26 * r;
    } else if (v_shape == 2) {                // cross (X)
        vec2 q = abs(p);
        float arm = abs(q.x - q.y) * 0.70710678;
        return max(arm - 0.24 * r, max(q.x, q.y) - 0.9 * r);
    } else if (v_shape == 3) {                // diamond
        vec2 q = abs(p);
        return (q.x + q.y - r) * 0.70710678;
    }
    return length(p) - r;                     // ball / disc
}

void main() {
    float outline = 1.3 * u_pixel_scale;
    float d = shape_distance(v_local, v_radius);
    float coverage = clamp(0.5 - (d - outline), 0.0, 1.0);
    if (coverage <= 0.0) discard;
    float inner = clamp(0.5 - d, 0.0, 1.0);

    vec3 body = v_color.rgb;
    if (v_shape == 0) {
        vec2 q = v_local / max(v_radius, 1e-3);
        float z = sqrt(max(1.0 - dot(q, q), 0.0));
        vec3 n = vec3(q.x, -q.y, z);
        vec3 L = normalize(vec3(-0.45, 0.55, 0.70));
        float diffuse = max(dot(n, L), 0.0);
        float spec = pow(max(dot(reflect(-L, n), vec3(0.0, 0.0, 1.0)), 0.0), 24.0);
        body = body * (0.45 + 0.70 * diffuse) + vec3(0.55 * spec);
    }
    vec3 color = mix(u_outline_color.rgb, body, inner);
    float alpha = coverage * mix(u_outline_color.a, v_color.a, inner);
    frag_color = vec4(color, alpha * u_opacity);
}
