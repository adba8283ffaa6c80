#version 330
// Blend: A * opacity + B * (1 - opacity), all four channels.
uniform sampler2D tex_a;
uniform sampler2D tex_b;
uniform float opacity;
in vec2 v_uv;
out vec4 f_color;
void main() {
    f_color = mix(texture(tex_b, v_uv), texture(tex_a, v_uv), opacity);
}
