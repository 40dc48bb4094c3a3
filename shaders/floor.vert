// A large quad under the surface; the fragment shader draws a fading grid on it.
layout(location = 0) in vec2 a_xy;

uniform mat4 u_mvp;
uniform float u_z;

out vec2 v_xy;

void main() {
    v_xy = a_xy;
    gl_Position = u_mvp * vec4(a_xy, u_z, 1.0);
}
