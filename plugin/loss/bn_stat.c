#include "bn_stat.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

// Per channel c over M = batch*spatial values: mu_c = sum x / M,
// var_c = sum (x - mu_c)^2 / M. With D = ||mu - rm|| and E = ||var - rv||,
// dD/dx = (mu_c - rm_c) / (D M) and dE/dx = 2 (var_c - rv_c)(x - mu_c) / (E M)
// (the mean's own dependence cancels because sum (x - mu_c) = 0).
// The batch mean and variance of every channel into s->mean, s->var, and in
// double precision mu - rolling_mean and var into s->work[0..C), [C..2C); from
// the slices' sums (a convolution) or from l.x.
static void batch_statistics(const frozen_net *f, const layer *l, bn_stat_layer *s)
{
    int C = s->channels, S = s->spatial, B = l->batch;
    double M = (double)B * S;
    if (s->part) {
        // Sums of d = x - rolling_mean: mu = rm + E[d], var = E[d^2] - E[d]^2
        // (d is centred near 0, so the difference loses little).
        for (int c = 0; c < C; ++c) {
            double s1 = 0, s2 = 0;
            for (int k = 0; k < f->nslices; ++k) {
                const double *p = s->part + (size_t)k * 2 * C;
                s1 += p[c];
                s2 += p[C + c];
            }
            double md = s1 / M, var = s2 / M - md * md;
            if (var < 0) var = 0;
            s->work[c] = md;
            s->work[C + c] = var;
            s->mean[c] = (float)(l->rolling_mean[c] + md);
            s->var[c] = (float)var;
        }
        return;
    }
    #pragma omp parallel for schedule(static)
    for (int c = 0; c < C; ++c) {
        double sum = 0, sq = 0;
        for (int b = 0; b < B; ++b) {
            const float *x = l->x + ((size_t)b * C + c) * S;
            for (int i = 0; i < S; ++i) sum += x[i];
        }
        double mu = sum / M;
        for (int b = 0; b < B; ++b) {
            const float *x = l->x + ((size_t)b * C + c) * S;
            for (int i = 0; i < S; ++i) sq += (x[i] - mu) * (x[i] - mu);
        }
        s->work[c] = mu - l->rolling_mean[c];
        s->work[C + c] = sq / M;
        s->mean[c] = (float)mu;
        s->var[c] = (float)(sq / M);
    }
}

// avg: the layer's [mean C][var C] running average and rate a > 0, or NULL.
static double layer_term(const frozen_net *f, const layer *l, bn_stat_layer *s, double scale, const double *avg, double a)
{
    int C = s->channels;
    double M = (double)l->batch * s->spatial, dmu2 = 0, dvar2 = 0;
    batch_statistics(f, l, s);
    if (avg) {
        // Against the shifted targets t = (r - a m) / (1 - a), scaled by 1 - a:
        // work holds mu - rm and var, and the loop below subtracts rv.
        for (int c = 0; c < C; ++c) {
            s->work[c] += a * (avg[c] - l->rolling_mean[c]) / (1 - a);
            s->work[C + c] += a * (avg[C + c] - l->rolling_variance[c]) / (1 - a);
        }
        scale *= 1 - a;
    }
    for (int c = 0; c < C; ++c) {
        double dm = s->work[c], dv = s->work[C + c] - l->rolling_variance[c];
        dmu2 += dm * dm;
        dvar2 += dv * dv;
    }
    double D = sqrt(dmu2), E = sqrt(dvar2);
    // A zero norm has no gradient direction; 1e-12 keeps the subgradient at 0.
    double kd = scale / ((D > 1e-12 ? D : 1e-12) * M), ke = 2 * scale / ((E > 1e-12 ? E : 1e-12) * M);
    for (int c = 0; c < C; ++c) {
        s->ga[c] = (float)(kd * s->work[c]);
        s->gb[c] = (float)(ke * (s->work[C + c] - l->rolling_variance[c]));
    }
    return scale * (D + E);
}

double bn_stat_loss(frozen_net *f, float weight, float first_multiplier, const bn_momentum *m)
{
    if (weight == 0) {
        frozen_clear_bn_grad(f);
        return 0;
    }
    int shift = m && m->set && m->rate > 0;
    double total = 0;
    int first = 1;
    size_t at = 0;
    for (int i = 0; i < f->net->n; ++i) {
        if (!f->bn[i].channels) continue;
        total += layer_term(f, &f->net->layers[i], &f->bn[i], weight * (first ? first_multiplier : 1.0),
                            shift ? m->avg + at : NULL, shift ? m->rate : 0);
        at += 2 * (size_t)f->bn[i].channels;
        first = 0;
    }
    return total;
}

bn_momentum *make_bn_momentum(const frozen_net *f, float rate)
{
    bn_momentum *m = xcalloc(1, sizeof *m);
    m->rate = rate;
    for (int i = 0; i < f->net->n; ++i) m->n += 2 * f->bn[i].channels;
    m->avg = xcalloc(m->n ? m->n : 1, sizeof(double));
    return m;
}

void free_bn_momentum(bn_momentum *m)
{
    if (!m) return;
    free(m->avg);
    free(m);
}

void bn_momentum_update(bn_momentum *m, const frozen_net *f)
{
    double a = m->set ? m->rate : 0;
    size_t at = 0;
    for (int i = 0; i < f->net->n; ++i) {
        const bn_stat_layer *s = &f->bn[i];
        for (int c = 0; c < s->channels; ++c) {
            m->avg[at + c] = a * m->avg[at + c] + (1 - a) * s->mean[c];
            m->avg[at + s->channels + c] = a * m->avg[at + s->channels + c] + (1 - a) * s->var[c];
        }
        at += 2 * (size_t)s->channels;
    }
    m->set = 1;
}

void save_bn_momentum(const bn_momentum *m, const char *path)
{
    atomic_file a = atomic_open(path);
    fwrite(&m->set, sizeof(int), 1, a.f);
    fwrite(m->avg, sizeof(double), m->n, a.f);
    atomic_commit(&a);
}

void load_bn_momentum(bn_momentum *m, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) inv_die("cannot open %s: %s", path, strerror(errno));
    if (fread(&m->set, sizeof(int), 1, f) != 1 || fread(m->avg, sizeof(double), m->n, f) != (size_t)m->n)
        inv_die("%s: truncated (BN momentum of %d values)", path, m->n);
    if (fgetc(f) != EOF) inv_die("%s: longer than the BN momentum of %d values", path, m->n);
    fclose(f);
}
