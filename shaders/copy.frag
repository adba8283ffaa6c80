#version 330
// One picture scaled into the target viewport (linear filtering): a live pane's frame when it is
// larger than the pane.
uniform sampler2D tex_a;
in vec2 v_uv;
out vec4 f_color;
void main() {
    f_color = texture(tex_a, v_uv);
}
