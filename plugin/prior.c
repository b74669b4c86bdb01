#include "prior.h"

#include <math.h>
#include <stddef.h>

static const int dirs[4][2] = {{0, 1}, {1, 0}, {1, 1}, {1, -1}};   // (dy, dx)

// Visits every pair (p, q = p + dir) inside the image: f(x[p] - x[q]).
// Pairs never cross planes, so the planes run in parallel (OMP: the pragma
// for the outer loop, given by the caller).
#define FOR_EACH_PAIR(OMP, body)                                                     \
    _Pragma(OMP)                                                                     \
    for (int b = 0; b < batch * c; ++b)                                              \
        for (int y = 0; y + dy < h; ++y)                                             \
            for (int xx = (dx < 0 ? -dx : 0); xx < w && xx + dx < w; ++xx) {         \
                size_t p = (size_t)b * h * w + (size_t)y * w + xx;                   \
                size_t q = p + (size_t)dy * w + dx;                                  \
                float e = x[p] - x[q];                                               \
                body                                                                 \
            }

prior_terms prior_loss(const float *x, int batch, int c, int h, int w,
                       float w_tv_l1, float w_tv_l2, float w_l2, float *grad)
{
    prior_terms t = {0, 0, 0};
    for (int d = 0; d < 4; ++d) {
        int dy = dirs[d][0], dx = dirs[d][1];
        double sq = 0, ab = 0;
        size_t count = 0;
        FOR_EACH_PAIR("omp parallel for reduction(+ : sq, ab, count) schedule(static)", sq += (double)e * e; ab += fabsf(e); ++count;)
        if (!count) continue;
        double norm = sqrt(sq);
        t.tv_l2 += w_tv_l2 * norm;
        t.tv_l1 += w_tv_l1 * ab / count;
        if (!grad) continue;
        float k2 = norm > 0 ? (float)(w_tv_l2 / norm) : 0, k1 = (float)(w_tv_l1 / count);
        FOR_EACH_PAIR("omp parallel for schedule(static)", {
            float g = k2 * e + k1 * (float)((e > 0) - (e < 0));
            grad[p] += g;
            grad[q] -= g;
        })
    }
    if (w_l2 != 0) {
        size_t n = (size_t)c * h * w;
        for (int b = 0; b < batch; ++b) {
            double sq = 0;
            for (size_t i = 0; i < n; ++i) sq += (double)x[b * n + i] * x[b * n + i];
            double norm = sqrt(sq);
            t.l2 += w_l2 * norm / batch;
            if (grad && norm > 0)
                for (size_t i = 0; i < n; ++i) grad[b * n + i] += (float)(w_l2 / (batch * norm)) * x[b * n + i];
        }
    }
    return t;
}
