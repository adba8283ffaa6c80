#version 330
// Wipe: columns x < split show A, the rest B, and column `divider` is a white 1 px line.
// split and divider are integers computed on the CPU (compose.wipe_split) so the GL and numpy paths
// cut at exactly the same column; x counts output pixels from the viewport's left edge.
uniform sampler2D tex_a;
uniform sampler2D tex_b;
uniform int split;
uniform int divider;
uniform int origin_x;
in vec2 v_uv;
out vec4 f_color;
void main() {
    int x = int(gl_FragCoord.x) - origin_x;
    if (x == divider) {
        f_color = vec4(1.0);
    } else if (x < split) {
        f_color = texture(tex_a, v_uv);
    } else {
        f_color = texture(tex_b, v_uv);
    }
}
