#include "prior.h"

#include <math.h>
#include <stddef.h>

#include "simd.h"

static const int dirs[4][2] = {{0, 1}, {1, 0}, {1, 1}, {1, -1}};   // (dy, dx)

// Pairs (p, q = p + (dy, dx)) with both ends inside the image: rows y < h - dy,
// columns [x0, x1) of p.
static void pair_columns(int w, int dx, int *x0, int *x1)
{
    *x0 = dx < 0 ? -dx : 0;
    *x1 = dx > 0 ? w - dx : w;
}

// Sums over one plane of e^2 and |e| (e = x[p] - x[q]) for each direction,
// a row at a time in float, the rows in double.
INV_SIMD static void plane_sums(const float *x, int h, int w, int with_abs, double sq[4], double ab[4])
{
    for (int d = 0; d < 4; ++d) {
        int dy = dirs[d][0], dx = dirs[d][1], x0, x1;
        pair_columns(w, dx, &x0, &x1);
        for (int y = 0; y + dy < h; ++y) {
            const float *p = x + y * w, *q = x + (y + dy) * w + dx;
            float s = 0, a = 0;
            #pragma omp simd reduction(+ : s)
            for (int i = x0; i < x1; ++i) s += (p[i] - q[i]) * (p[i] - q[i]);
            if (with_abs) {
                #pragma omp simd reduction(+ : a)
                for (int i = x0; i < x1; ++i) a += fabsf(p[i] - q[i]);
            }
            sq[d] += s;
            ab[d] += a;
        }
    }
}

// grad[p] += g, grad[q] -= g with g = k2 e + k1 sign(e), for every pair of one plane.
INV_SIMD static void plane_grad(const float *x, int h, int w, const float k2[4], const float k1[4], float *grad)
{
    for (int d = 0; d < 4; ++d) {
        int dy = dirs[d][0], dx = dirs[d][1], x0, x1;
        pair_columns(w, dx, &x0, &x1);
        float a = k2[d], b = k1[d];
        for (int y = 0; y + dy < h; ++y) {
            const float *p = x + y * w, *q = x + (y + dy) * w + dx;
            float *gp = grad + y * w, *gq = grad + (y + dy) * w + dx;
            if (dy == 0) {
                // Same row: gq overlaps gp, so in two sweeps.
                for (int i = x0; i < x1; ++i) {
                    float e = p[i] - q[i];
                    gp[i] += a * e + b * (float)((e > 0) - (e < 0));
                }
                for (int i = x0; i < x1; ++i) {
                    float e = p[i] - q[i];
                    gq[i] -= a * e + b * (float)((e > 0) - (e < 0));
                }
                continue;
            }
            float *restrict rp = gp, *restrict rq = gq;
            for (int i = x0; i < x1; ++i) {
                float e = p[i] - q[i], g = a * e + b * (float)((e > 0) - (e < 0));
                rp[i] += g;
                rq[i] -= g;
            }
        }
    }
}

// Image b's share of the L2 term, w_l2 * ||x_b|| / batch, and its gradient.
INV_SIMD static double image_l2(const float *x, int b, size_t n, int batch, float w_l2, float *grad)
{
    const float *xb = x + b * n;
    double sq = 0;
    #pragma omp simd reduction(+ : sq)
    for (size_t i = 0; i < n; ++i) sq += (double)xb[i] * xb[i];
    double norm = sqrt(sq);
    if (grad && norm > 0) {
        float k = (float)(w_l2 / (batch * norm));
        float *gb = grad + b * n;
        for (size_t i = 0; i < n; ++i) gb[i] += k * xb[i];
    }
    return w_l2 * norm / batch;
}

prior_terms prior_loss(const float *x, int batch, int c, int h, int w,
                       float w_tv_l1, float w_tv_l2, float w_l2, float *grad)
{
    prior_terms t = {0, 0, 0};
    int planes = batch * c;
    size_t plane = (size_t)h * w;
    double sq[4] = {0, 0, 0, 0}, ab[4] = {0, 0, 0, 0};
    if (w_tv_l1 != 0 || w_tv_l2 != 0) {
        #pragma omp parallel for reduction(+ : sq[:4], ab[:4]) schedule(static)
        for (int k = 0; k < planes; ++k) plane_sums(x + k * plane, h, w, w_tv_l1 != 0, sq, ab);
    }
    float k2[4], k1[4];
    for (int d = 0; d < 4; ++d) {
        int dy = dirs[d][0], dx = dirs[d][1];
        double count = (double)planes * (h - dy) * (w - (dx < 0 ? -dx : dx));
        double norm = sqrt(sq[d]);
        k2[d] = k1[d] = 0;
        if (count <= 0) continue;
        t.tv_l2 += w_tv_l2 * norm;
        t.tv_l1 += w_tv_l1 * ab[d] / count;
        k2[d] = norm > 0 ? (float)(w_tv_l2 / norm) : 0;
        k1[d] = (float)(w_tv_l1 / count);
    }
    if (grad && (w_tv_l1 != 0 || w_tv_l2 != 0)) {
        #pragma omp parallel for schedule(static)
        for (int k = 0; k < planes; ++k) plane_grad(x + k * plane, h, w, k2, k1, grad + k * plane);
    }
    if (w_l2 != 0) {
        double l2 = 0;
        #pragma omp parallel for reduction(+ : l2) schedule(static)
        for (int b = 0; b < batch; ++b) l2 += image_l2(x, b, (size_t)c * plane, batch, w_l2, grad);
        t.l2 = l2;
    }
    return t;
}
