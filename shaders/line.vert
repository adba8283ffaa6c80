#version 330
// Ground grid and wireframe overlay: flat-coloured lines (render.py).
uniform mat4 u_mvp;
uniform float u_bias;         // pulls wireframe lines toward the camera so they win the depth test
in vec3 in_pos;
out vec3 v_pos;
void main() {
    v_pos = in_pos;
    gl_Position = u_mvp * vec4(in_pos, 1.0);
    gl_Position.z -= u_bias * gl_Position.w;
}
