#version 330
// Ground grid and wireframe overlay: flat-coloured lines (render.py); the wireframe of a skinned
// primitive is skinned like mesh.vert so it stays on the surface while animating.
uniform mat4 u_mvp;
uniform float u_bias;         // pulls wireframe lines toward the camera so they win the depth test
uniform bool u_skinned;
uniform mat4 u_joints[64];
in vec3 in_pos;
in vec4 in_joints;
in vec4 in_weights;
out vec3 v_pos;
void main() {
    vec4 p = vec4(in_pos, 1.0);
    if (u_skinned) {
        mat4 s = in_weights.x * u_joints[int(in_joints.x + 0.5)] + in_weights.y * u_joints[int(in_joints.y + 0.5)]
               + in_weights.z * u_joints[int(in_joints.z + 0.5)] + in_weights.w * u_joints[int(in_joints.w + 0.5)];
        p = s * p;
    }
    v_pos = p.xyz;
    gl_Position = u_mvp * p;
    gl_Position.z -= u_bias * gl_Position.w;
}
