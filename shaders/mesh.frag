#version 330
// One directional light + hemisphere ambient, shaded in linear light and encoded to sRGB on output.
// Base-colour textures are GL_SRGB8_ALPHA8, so sampling already returns linear values (and filtering
// happens in linear, which is what glTF asks for); factors and vertex colours are linear by spec.
uniform vec4 u_base;          // linear base colour factor
uniform bool u_has_tex;
uniform sampler2D u_tex;
uniform vec3 u_light_dir;     // unit vector from the surface TOWARD the light, world space
uniform vec3 u_light;         // light colour * intensity (linear)
uniform vec3 u_sky;           // ambient from above (linear)
uniform vec3 u_ground;        // ambient from below (linear)
uniform vec3 u_eye;
uniform float u_facing;       // +1, or -1 when the projection is mirrored (top-row-first output)
uniform float u_dim;          // 1 normally; < 1 under a wireframe overlay
in vec3 v_norm;
in vec3 v_pos;
in vec2 v_uv;
in vec4 v_color;
out vec4 f_color;

vec3 to_srgb(vec3 c) {
    c = clamp(c, 0.0, 1.0);
    return mix(c * 12.92, 1.055 * pow(c, vec3(1.0 / 2.4)) - 0.055, step(0.0031308, c));
}

void main() {
    vec4 albedo = u_base * v_color;
    if (u_has_tex) albedo *= texture(u_tex, v_uv);
    if (albedo.a < 0.05) discard;
    vec3 n = normalize(v_norm);
    if (length(v_norm) < 1e-6) n = vec3(0.0, 1.0, 0.0);
    bool front = (u_facing > 0.0) == gl_FrontFacing;
    if (!front) n = -n;                       // double-sided: light the side we see
    vec3 v = normalize(u_eye - v_pos);
    float ndl = max(dot(n, u_light_dir), 0.0);
    vec3 h = normalize(u_light_dir + v);
    float spec = pow(max(dot(n, h), 0.0), 48.0) * 0.12 * step(0.0, ndl);
    vec3 ambient = mix(u_ground, u_sky, 0.5 + 0.5 * n.y);
    vec3 c = albedo.rgb * (ambient + u_light * ndl) + u_light * spec;
    f_color = vec4(to_srgb(c * u_dim), 1.0);
}
