// Finite-difference check of a synth's loss gradient with respect to the input
// pixels (shared by test_gradients.c and test_zoo_gradients.c).
#ifndef INV_FDCHECK_H
#define INV_FDCHECK_H
#include <math.h>

#include "frozen.h"
#include "rng.h"
#include "synth.h"
#include "testlib.h"

// Step sizes of the central differences, largest first: the first fd_nsteps
// are tried. Deep networks with many kinks need the smaller ones (a step
// crosses fewer kinks); float32 rounding limits how small they can go.
static const double fd_steps[] = {1e-2, 3e-3, 1e-3, 3e-4, 1e-4, 3e-5, 1e-5, 3e-6};
static int fd_nsteps = 5;
// Derivatives below fd_floor times a typical one for the direction's length
// (|g| |v| / sqrt(n)) are compared in absolute terms: a random direction can
// be nearly orthogonal to the gradient, leaving only float32 noise to compare.
static double fd_floor = 0;

static double loss_at(synth *s, const float *x, const int *t)
{
    synth_record r;
    return synth_loss(s, x, t, NULL, &r);
}

// Directional derivatives along the gradient, nrandom random directions and
// ncoords single coordinates (the largest gradients, where relative error is
// meaningful in float32); grad_tol: the relative tolerance along the gradient.
// Returns the number of directions that failed.
static int check_synth_dirs(synth *s, const char *netname, const char *term, int smooth, int nrandom, int ncoords,
                            double grad_tol)
{
    frozen_net *f = s->teacher;
    int batch = s->batch;
    size_t n = (size_t)batch * f->inputs;
    rng r = make_rng(42);
    float *x = calloc(n, sizeof(float)), *g = calloc(n, sizeof(float)), *xp = calloc(n, sizeof(float));
    int targets[8];
    for (int b = 0; b < batch; ++b) targets[b] = b % f->classes;
    for (size_t i = 0; i < n; ++i) x[i] = (float)(0.1 + 0.8 * rng_uniform(&r));
    synth_record rec;
    synth_loss(s, x, targets, g, &rec);
    double gnorm = 0;
    for (size_t i = 0; i < n; ++i) gnorm += (double)g[i] * g[i];
    CHECK(gnorm > 0, "%s/%s: zero gradient", netname, term);
    float *gsave = calloc(n, sizeof(float));
    memcpy(gsave, g, n * sizeof(float));
    // Kinks (ReLU-like activations, max-pool switches, |.| in tv_l1) and
    // float32 rounding each spoil some step sizes; a wrong gradient is wrong
    // at every step size, so the best agreement over several steps is taken.
    // Directions: the gradient itself (largest signal over float32 noise),
    // random ones (small derivatives that cross many kinks: loose unless the
    // network is smooth), and the largest single coordinates.
    float *v = calloc(n, sizeof(float));
    int bad = 0, nrand_end = 1 + nrandom;
    for (int dir = 0; dir < nrand_end + ncoords; ++dir) {
        double tol = dir == 0 ? grad_tol : dir < nrand_end ? (smooth ? 1e-2 : 0.15) : (smooth ? 2e-2 : 4e-2);
        memset(v, 0, n * sizeof(float));
        if (dir == 0) {
            for (size_t i = 0; i < n; ++i) v[i] = g[i] / (float)sqrt(gnorm / n);
        } else if (dir < nrand_end) {
            for (size_t i = 0; i < n; ++i) v[i] = (float)rng_normal(&r);
        } else {
            size_t best = 0;
            for (size_t i = 0; i < n; ++i) if (fabsf(g[i]) > fabsf(g[best])) best = i;
            v[best] = 1;
            g[best] = 0;   // the next largest next time; gsave keeps the value
        }
        double an = 0, vnorm = 0;
        for (size_t i = 0; i < n; ++i) an += (double)(dir < nrand_end ? g[i] : gsave[i]) * v[i], vnorm += (double)v[i] * v[i];
        double floor = fmax(1e-4, fd_floor * sqrt(gnorm * vnorm / n));
        double best_err = 1e30, best_fd = 0;
        for (int k = 0; k < fd_nsteps; ++k) {
            for (size_t i = 0; i < n; ++i) xp[i] = x[i] + (float)fd_steps[k] * v[i];
            double lp = loss_at(s, xp, targets);
            for (size_t i = 0; i < n; ++i) xp[i] = x[i] - (float)fd_steps[k] * v[i];
            double lm = loss_at(s, xp, targets);
            double fd = (lp - lm) / (2 * fd_steps[k]);
            double err = fabs(fd - an) / fmax(fmax(fabs(fd), fabs(an)), floor);
            if (err < best_err) best_err = err, best_fd = fd;
            if (best_err < tol) break;
        }
        bad += best_err >= tol;
        CHECK(best_err < tol, "%s/%s direction %d: analytic %.6g, finite difference %.6g (rel err %.3g)", netname, term, dir, an, best_fd, best_err);
    }
    free(v);
    free(gsave);
    free(x); free(g); free(xp);
    return bad;
}

// The gradient, two random directions and the six largest coordinates.
static inline void check_synth(synth *s, const char *netname, const char *term, int smooth)
{
    check_synth_dirs(s, netname, term, smooth, 2, 6, 1e-2);
}

#endif
