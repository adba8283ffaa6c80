#version 330
// Lit/textured model pass (aimms_fast/viewer3d/render.py). Vertices arrive in world space (Y up,
// metres): node transforms are baked in at load, so one matrix does it. Skinned primitives also get
// joint matrices (viewer3d/skin.py: G(t) * inverseBind * baked^-1) and up to 4 weights per vertex.
uniform mat4 u_mvp;
uniform bool u_skinned;
uniform mat4 u_joints[64];
in vec3 in_pos;
in vec3 in_norm;
in vec2 in_uv;
in vec4 in_color;
in vec4 in_joints;
in vec4 in_weights;
out vec3 v_norm;
out vec3 v_pos;
out vec2 v_uv;
out vec4 v_color;
void main() {
    vec4 p = vec4(in_pos, 1.0);
    vec3 n = in_norm;
    if (u_skinned) {
        mat4 s = in_weights.x * u_joints[int(in_joints.x + 0.5)] + in_weights.y * u_joints[int(in_joints.y + 0.5)]
               + in_weights.z * u_joints[int(in_joints.z + 0.5)] + in_weights.w * u_joints[int(in_joints.w + 0.5)];
        p = s * p;
        n = mat3(s) * n;
    }
    v_norm = n;
    v_pos = p.xyz;
    v_uv = in_uv;
    v_color = in_color;
    gl_Position = u_mvp * p;
}
