in vec2 v_uv;

uniform sampler2D u_atlas;
uniform vec4 u_color;

out vec4 frag_color;

void main() {
    float a = texture(u_atlas, v_uv).a * u_color.a;
    if (a < 0.004) discard;
    frag_color = vec4(u_color.rgb, a);
}
