#version 330
// Colour is given sRGB-encoded (it is a UI colour, not a surface); the grid fades out with distance
// from its centre so its edge never shows as a hard square.
uniform vec4 u_color;
uniform vec3 u_center;
uniform float u_fade;         // radius where the fade reaches zero; <= 0: no fade
in vec3 v_pos;
out vec4 f_color;
void main() {
    float a = u_color.a;
    if (u_fade > 0.0) a *= 1.0 - smoothstep(0.5 * u_fade, u_fade, length(v_pos.xz - u_center.xz));
    f_color = vec4(u_color.rgb, a);
}
