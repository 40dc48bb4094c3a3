// Height-field surface. Vertices carry only their grid index; heights live in a float texture that is
// overwritten in place when the surface changes, and normals come from central differences of that texture
// (smooth at any resolution, nothing computed on the CPU). The same program draws the block's side walls,
// whose vertices also carry an outward normal and whether they sit on the base or on the surface's edge.
layout(location = 0) in vec2 a_ij;
layout(location = 1) in vec4 a_wall;  // walls: outward normal xy, 1 on the base, 1; surface: all 0

uniform mat4 u_mvp;
uniform sampler2D u_height;  // R32F, nx by ny, display heights in box units
uniform vec2 u_extent;       // box half sizes in x and y
uniform float u_z_top;
uniform float u_base_z;      // height of the walls' bottom edge
uniform vec3 u_eye;          // camera position, box coordinates
uniform vec3 u_light;        // direction towards the key light, box coordinates
uniform sampler2D u_cmap;    // 256 x 1 RGBA8 colormap

out vec3 v_pos;
out vec3 v_normal;
out float v_t;
out float v_wall;
out vec3 v_color;            // surface: lit colormap colour; walls: (shade factor, 0, 0), see below
out vec2 v_uv;               // position over the domain, 0..1: where the overlay texture is read
out vec2 v_shade;            // the lighting (factor, added) an overlay colour gets instead of the colormap's

float height_at(ivec2 ij, ivec2 size) {
    return texelFetch(u_height, clamp(ij, ivec2(0), size - 1), 0).r;
}

// A neighbour's height for the central differences, and its distance in cells (0 where f is undefined
// there: the texture holds -1, and the difference becomes one-sided at the edge of a hole).
vec2 neighbour(ivec2 ij, ivec2 size, int cells, float z) {
    float h = height_at(ij, size);
    return h < 0.0 ? vec2(z, 0.0) : vec2(h, float(cells));
}

void main() {
    ivec2 size = textureSize(u_height, 0);
    ivec2 ij = ivec2(a_ij + 0.5);
    vec2 cells = vec2(size - 1);
    vec2 xy = (a_ij / cells * 2.0 - 1.0) * u_extent;
    float z = max(height_at(ij, size), 0.0);  // an undefined node (-1) is in no drawn triangle

    // Central differences (one-sided at the border and beside a hole) in box units.
    ivec2 il = ivec2(max(ij.x - 1, 0), ij.y), ir = ivec2(min(ij.x + 1, size.x - 1), ij.y);
    ivec2 jd = ivec2(ij.x, max(ij.y - 1, 0)), ju = ivec2(ij.x, min(ij.y + 1, size.y - 1));
    vec2 step = 2.0 * u_extent / cells;
    vec2 l = neighbour(il, size, ij.x - il.x, z), r = neighbour(ir, size, ir.x - ij.x, z);
    vec2 d = neighbour(jd, size, ij.y - jd.y, z), u = neighbour(ju, size, ju.y - ij.y, z);
    float dzdx = (r.x - l.x) / max((r.y + l.y) * step.x, 1e-9);
    float dzdy = (u.x - d.x) / max((u.y + d.y) * step.y, 1e-9);

    v_normal = normalize(vec3(-dzdx, -dzdy, 1.0));
    v_wall = a_wall.w;
    if (a_wall.w > 0.5) {
        if (a_wall.z > 0.5) z = u_base_z;
        v_normal = vec3(a_wall.xy, 0.0);
    }
    v_pos = vec3(xy, z);
    v_t = z / u_z_top;

    // Lighting per vertex: at the grid sizes drawn (a few pixels per cell) it is indistinguishable from
    // per-pixel lighting and halves the fragment cost on software rasterisers.
    vec3 n = v_normal;
    vec3 V = normalize(u_eye - v_pos);
    if (dot(n, V) < 0.0) n = -n;  // seen from below
    vec3 L = normalize(u_light);
    float wrap = clamp(dot(n, L) * 0.6 + 0.4, 0.0, 1.0);  // wrapped diffuse: a soft terminator
    vec2 shade;  // x: multiplies the colormap colour, y: added (specular and rim)
    if (a_wall.w > 0.5) {
        // Side walls: dimmed, darkening towards the base.
        shade = vec2((0.22 + 0.38 * wrap) * mix(0.55, 1.0, clamp(v_t, 0.0, 1.0)), 0.0);
    } else {
        float hemi = 0.55 + 0.45 * n.z;                  // sky above, ground bounce below
        vec3 H = normalize(L + V);
        float spec = pow(max(dot(n, H), 0.0), 40.0) * 0.22;
        float rim = pow(1.0 - max(dot(n, V), 0.0), 4.0) * 0.10;
        shade = vec2(0.30 * hemi + 0.80 * wrap * wrap, spec + rim);
    }
    // On the surface the colour too is looked up per vertex and interpolated: a cell spans a small
    // fraction of the colormap, where it is linear, so the fragment stage (the costly one on software
    // rasterisers) keeps only the contour lines. A wall's triangle spans the whole colormap from the base
    // to the edge: there the fragment stage looks the colour up, and gets only the shade factor.
    v_uv = a_ij / cells;
    v_shade = shade;
    if (a_wall.w > 0.5) {
        v_color = vec3(shade.x, 0.0, 0.0);
    } else {
        float t = clamp(v_t, 0.0, 1.0);
        vec3 base = textureLod(u_cmap, vec2(t * (255.0 / 256.0) + 0.5 / 256.0, 0.5), 0.0).rgb;
        v_color = base * shade.x + vec3(shade.y);
    }
    gl_Position = u_mvp * vec4(v_pos, 1.0);
}
