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
static inline int check_synth_dirs(synth *s, const char *netname, const char *term, int smooth, int nrandom, int ncoords,
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

// The worst agreement of the input gradient of s's loss with finite
// differences, over the gradient's direction, nrandom random directions and
// the ncoords largest coordinates: for each direction, the relative error at
// the best of the steps 2^-5 .. 2^-17 (a wrong gradient is wrong at every
// step; a step that crosses a kink or drowns in float32 rounding spoils only
// itself). The analytic side is the gradient applied to the perturbation
// actually made (x +- h v rounded to float, the differences exact in
// double), so input rounding is no error. Errors are relative to the larger
// of the two derivatives, or to 1% of a typical one for the direction (a
// random direction nearly orthogonal to the gradient). *worst: the worst
// direction's index, analytic and finite-difference derivatives.
typedef struct { int dir; double analytic, fd, err; } fd_worst;

static inline fd_worst fd_worst_direction(synth *s, int nrandom, int ncoords)
{
    frozen_net *f = s->teacher;
    size_t n = (size_t)s->batch * f->inputs;
    rng r = make_rng(42);
    float *x = calloc(n, sizeof(float)), *g = calloc(n, sizeof(float)), *xp = calloc(n, sizeof(float));
    float *xm = calloc(n, sizeof(float)), *v = calloc(n, sizeof(float));
    char *used = calloc(n, 1);
    int targets[8];
    for (int b = 0; b < s->batch; ++b) targets[b] = b % f->classes;
    for (size_t i = 0; i < n; ++i) x[i] = (float)(0.1 + 0.8 * rng_uniform(&r));
    synth_record rec;
    synth_loss(s, x, targets, g, &rec);
    double gnorm = 0;
    for (size_t i = 0; i < n; ++i) gnorm += (double)g[i] * g[i];
    gnorm = sqrt(gnorm);
    fd_worst worst = {-1, 0, 0, gnorm > 0 ? 0 : INFINITY};   // a zero gradient checks nothing: a failure
    for (int dir = 0; gnorm > 0 && dir < 1 + nrandom + ncoords; ++dir) {
        memset(v, 0, n * sizeof(float));
        if (dir == 0) {
            for (size_t i = 0; i < n; ++i) v[i] = (float)(g[i] / gnorm * sqrt((double)n));
        } else if (dir <= nrandom) {
            for (size_t i = 0; i < n; ++i) v[i] = (float)rng_normal(&r);
        } else {
            size_t best = 0;
            for (size_t i = 0; i < n; ++i)
                if (!used[i] && (used[best] || fabsf(g[i]) > fabsf(g[best]))) best = i;
            used[best] = 1;
            v[best] = 1;
        }
        fd_worst d = {dir, 0, 0, INFINITY};
        for (int e = 5; e <= 17 && d.err >= 1e-3; ++e) {
            double h = ldexp(1, -e), an = 0, span = 0;
            for (size_t i = 0; i < n; ++i) {
                xp[i] = x[i] + (float)(h * v[i]);
                xm[i] = x[i] - (float)(h * v[i]);
                double dx = (double)xp[i] - xm[i];
                an += g[i] * dx;
                span += dx * dx;
            }
            double fd = loss_at(s, xp, targets) - loss_at(s, xm, targets);
            double floor = 0.01 * gnorm * sqrt(span / n);
            double err = fabs(fd - an) / fmax(fmax(fabs(fd), fabs(an)), floor);
            // Derivatives per unit step, for the message.
            if (err < d.err) d.err = err, d.analytic = an / (2 * h), d.fd = fd / (2 * h);
        }
        if (d.err > worst.err || worst.dir < 0) worst = d;
    }
    free(x); free(g); free(xp); free(xm); free(v); free(used);
    return worst;
}

// The gradient, two random directions and the six largest coordinates.
static inline void check_synth(synth *s, const char *netname, const char *term, int smooth)
{
    check_synth_dirs(s, netname, term, smooth, 2, 6, 1e-2);
}

#endif
