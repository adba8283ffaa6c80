#version 330
// Full-screen quad for the compare compositor (aimms_fast/playback/compose.py).
// v_uv (0,0) is the first row/column of the uploaded arrays: rows are never flipped, so a target
// texture holds row 0 of the picture in GL row 0, which is where Dear PyGui's uv (0,0) samples.
in vec2 in_pos;
out vec2 v_uv;
void main() {
    v_uv = in_pos * 0.5 + 0.5;
    gl_Position = vec4(in_pos, 0.0, 1.0);
}
