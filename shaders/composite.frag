uniform sampler2D u_color;
uniform sampler2D u_depth;
uniform vec2 u_origin;  // viewport origin in window pixels

out vec4 frag_color;

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy - u_origin);
    frag_color = texelFetch(u_color, p, 0);
    gl_FragDepth = texelFetch(u_depth, p, 0).r;
}
