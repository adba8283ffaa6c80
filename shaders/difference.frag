#version 330
// Difference: |A - B| * gain per colour channel, clipped to white; opaque.
uniform sampler2D tex_a;
uniform sampler2D tex_b;
uniform float gain;
in vec2 v_uv;
out vec4 f_color;
void main() {
    vec3 d = abs(texture(tex_a, v_uv).rgb - texture(tex_b, v_uv).rgb) * gain;
    f_color = vec4(min(d, vec3(1.0)), 1.0);
}
