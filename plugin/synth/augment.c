#include "augment.h"

#include <string.h>

void view_draw(view *v, rng *r, int jitter, int allow_flip)
{
    v->dy = jitter ? rng_int(r, -jitter, jitter) : 0;
    v->dx = jitter ? rng_int(r, -jitter, jitter) : 0;
    v->flip = allow_flip ? rng_int(r, 0, 1) : 0;
}

static int wrap(int i, int n) { i %= n; return i < 0 ? i + n : i; }

// Index into params of the pixel shown at input (b, c, y, x).
static inline int source(const view *v, int b, int c, int y, int x)
{
    int ph = v->h / v->factor, pw = v->w / v->factor;
    int X = v->flip ? v->w - 1 - x : x;
    int sy = wrap(y - v->dy, v->h), sx = wrap(X - v->dx, v->w);
    int pc = v->pc == 1 ? 0 : c;
    return ((b * v->pc + pc) * ph + sy / v->factor) * pw + sx / v->factor;
}

// At full resolution a row of the view is its source row rotated (and, with
// the flip, reversed): two contiguous runs instead of a wrap per pixel.
// dst[x] = src[(x + s) mod w], or src[(s - x) mod w] when flipped.
static void view_row(const float *src, float *restrict dst, int w, int s, int flip)
{
    if (!flip) {
        for (int x = 0; x < w - s; ++x) dst[x] = src[x + s];
        for (int x = w - s; x < w; ++x) dst[x] = src[x + s - w];
    } else {
        for (int x = 0; x <= s; ++x) dst[x] = src[s - x];
        for (int x = s + 1; x < w; ++x) dst[x] = src[s - x + w];
    }
}

// The adjoint of view_row: src[...] += dst[x].
static void view_row_add(const float *g, float *restrict acc, int w, int s, int flip)
{
    if (!flip) {
        for (int x = 0; x < w - s; ++x) acc[x + s] += g[x];
        for (int x = w - s; x < w; ++x) acc[x + s - w] += g[x];
    } else {
        for (int x = 0; x <= s; ++x) acc[s - x] += g[x];
        for (int x = s + 1; x < w; ++x) acc[s - x + w] += g[x];
    }
}

// The rotation view_row applies, from the roll and the flip.
static int row_shift(const view *v) { return v->flip ? wrap(v->w - 1 - v->dx, v->w) : wrap(-v->dx, v->w); }

void view_forward(const view *v, const float *params, float *input)
{
    int s = row_shift(v);
    #pragma omp parallel for schedule(static)
    for (int b = 0; b < v->batch; ++b)
        for (int c = 0; c < v->c; ++c)
            for (int y = 0; y < v->h; ++y) {
                float *row = input + ((b * v->c + c) * v->h + y) * v->w;
                if (v->factor == 1) {
                    int pc = v->pc == 1 ? 0 : c;
                    view_row(params + ((b * v->pc + pc) * v->h + wrap(y - v->dy, v->h)) * v->w, row, v->w, s, v->flip);
                    continue;
                }
                for (int x = 0; x < v->w; ++x) row[x] = params[source(v, b, c, y, x)];
            }
}

void view_backward(const view *v, const float *grad_input, float *grad_params)
{
    int s = row_shift(v);
    memset(grad_params, 0, sizeof(float) * v->batch * v->pc * (v->h / v->factor) * (v->w / v->factor));
    #pragma omp parallel for schedule(static)   // images do not share parameters
    for (int b = 0; b < v->batch; ++b)
        for (int c = 0; c < v->c; ++c)
            for (int y = 0; y < v->h; ++y) {
                const float *row = grad_input + ((b * v->c + c) * v->h + y) * v->w;
                if (v->factor == 1) {
                    int pc = v->pc == 1 ? 0 : c;
                    view_row_add(row, grad_params + ((b * v->pc + pc) * v->h + wrap(y - v->dy, v->h)) * v->w, v->w, s, v->flip);
                    continue;
                }
                for (int x = 0; x < v->w; ++x) grad_params[source(v, b, c, y, x)] += row[x];
            }
}

void shift_flip_image(const float *src, float *dst, int c, int h, int w, int dx, int dy, int flip)
{
    for (int k = 0; k < c; ++k)
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x) {
                int sx = (flip ? w - 1 - x : x) + dx, sy = y + dy;
                dst[(k * h + y) * w + x] = (sx < 0 || sy < 0 || sx >= w || sy >= h) ? 0 : src[(k * h + sy) * w + sx];
            }
}
