// The view from parameters to network input (gray copy, upsampling, roll
// with wrap-around, flip) against its definition pixel by pixel, and its
// backward as the exact adjoint: <view(p), g> == <p, view^T(g)>.
#include <math.h>

#include "augment.h"
#include "rng.h"
#include "testlib.h"

static int wrap(int i, int n) { i %= n; return i < 0 ? i + n : i; }

int main(void)
{
    rng r = make_rng(5);
    const int shapes[][5] = {   // c, h, w, pc, factor
        {3, 6, 7, 1, 1}, {3, 6, 7, 3, 1}, {1, 5, 9, 1, 1}, {3, 8, 4, 1, 2}, {2, 6, 6, 2, 3}, {1, 1, 1, 1, 1},
    };
    for (size_t k = 0; k < sizeof shapes / sizeof *shapes; ++k)
        for (int trial = 0; trial < 12; ++trial) {
            int c = shapes[k][0], h = shapes[k][1], w = shapes[k][2], pc = shapes[k][3], f = shapes[k][4], batch = 2;
            view v = {batch, c, h, w, pc, f, rng_int(&r, -w - 1, w + 1), rng_int(&r, -w - 1, w + 1), trial % 2};
            v.dy = rng_int(&r, -h - 1, h + 1);
            size_t np = (size_t)batch * pc * (h / f) * (w / f), n = (size_t)batch * c * h * w;
            float *p = malloc(np * sizeof(float)), *in = malloc(n * sizeof(float));
            float *g = malloc(n * sizeof(float)), *gp = malloc(np * sizeof(float));
            for (size_t i = 0; i < np; ++i) p[i] = (float)rng_uniform(&r);
            for (size_t i = 0; i < n; ++i) g[i] = (float)rng_uniform(&r) - .5f;
            view_forward(&v, p, in);
            int bad = 0;
            for (int b = 0; b < batch; ++b)
                for (int ch = 0; ch < c; ++ch)
                    for (int y = 0; y < h; ++y)
                        for (int x = 0; x < w; ++x) {
                            int X = v.flip ? w - 1 - x : x;
                            int sy = wrap(y - v.dy, h) / f, sx = wrap(X - v.dx, w) / f, pch = pc == 1 ? 0 : ch;
                            float want = p[((b * pc + pch) * (h / f) + sy) * (w / f) + sx];
                            bad += in[((b * c + ch) * h + y) * w + x] != want;
                        }
            CHECK(bad == 0, "shape %zu trial %d (dy %d dx %d flip %d): %d pixels differ from the definition", k, trial, v.dy,
                  v.dx, v.flip, bad);
            view_backward(&v, g, gp);
            double lhs = 0, rhs = 0;
            for (size_t i = 0; i < n; ++i) lhs += (double)in[i] * g[i];
            for (size_t i = 0; i < np; ++i) rhs += (double)p[i] * gp[i];
            CHECK(fabs(lhs - rhs) <= 1e-5 * (1 + fabs(lhs)), "shape %zu trial %d: <view p, g> %g != <p, view^T g> %g", k,
                  trial, lhs, rhs);
            free(p); free(in); free(g); free(gp);
        }
    return test_summary();
}
