#version 330
// Lit/textured model pass (aimms_fast/viewer3d/render.py). Vertices arrive in world space (Y up,
// metres): node transforms are baked in at load, so one matrix does it.
uniform mat4 u_mvp;
in vec3 in_pos;
in vec3 in_norm;
in vec2 in_uv;
in vec4 in_color;
out vec3 v_norm;
out vec3 v_pos;
out vec2 v_uv;
out vec4 v_color;
void main() {
    v_norm = in_norm;
    v_pos = in_pos;
    v_uv = in_uv;
    v_color = in_color;
    gl_Position = u_mvp * vec4(in_pos, 1.0);
}
