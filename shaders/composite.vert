// Full-screen triangle that lays the cached static layer (colour and depth) into the frame.
layout(location = 0) in vec2 a_pos;

void main() {
    gl_Position = vec4(a_pos, 0.0, 1.0);
}
