// Screen-facing markers (instanced quads): lit balls at the heads, rings, crosses, diamonds.
// Size is in pixels; depth comes from the centre pulled towards the camera by the marker's own radius,
// so a ball resting on a slope is drawn whole while a hill in front still hides it.
layout(location = 0) in vec4 a_center;  // xyz in box coordinates, w = radius in pixels
layout(location = 1) in vec4 a_color;
layout(location = 2) in float a_shape;  // 0 ball, 1 ring, 2 cross, 3 diamond

uniform mat4 u_mv;
uniform mat4 u_proj;
uniform vec2 u_viewport;
uniform float u_pixel_scale;
uniform float u_depth_bias;

out vec2 v_local;    // pixels from the centre
out float v_radius;  // pixels
out vec4 v_color;
flat out int v_shape;

void main() {
    vec2 corner = vec2((gl_VertexID & 1) == 0 ? -1.0 : 1.0, (gl_VertexID & 2) == 0 ? -1.0 : 1.0);
    float radius = a_center.w * u_pixel_scale;
    float pad = radius + 1.5 * u_pixel_scale + 1.0;
    vec4 v = u_mv * vec4(a_center.xyz, 1.0);
    // World size of one pixel at this depth (perspective): 2 * depth / (P[1][1] * viewport height).
    float pixel_world = 2.0 * max(-v.z, 1e-4) / (u_proj[1][1] * u_viewport.y);
    v.xyz += normalize(-v.xyz) * (radius * pixel_world + u_depth_bias);
    vec4 c = u_proj * v;
    c.xy += corner * pad / (0.5 * u_viewport) * c.w;
    v_local = corner * pad;
    v_radius = radius;
    v_color = a_color;
    v_shape = int(a_shape + 0.5);
    gl_Position = c;
}
