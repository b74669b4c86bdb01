#include "adam.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

adam_state make_adam(size_t n, float beta1, float beta2, float eps)
{
    adam_state a = {n, beta1, beta2, eps, xcalloc(n, sizeof(float)), xcalloc(n, sizeof(float)), 0};
    return a;
}

void reset_adam(adam_state *a)
{
    memset(a->m, 0, a->n * sizeof(float));
    memset(a->v, 0, a->n * sizeof(float));
    a->t = 0;
}

void free_adam(adam_state *a)
{
    free(a->m);
    free(a->v);
    a->m = a->v = NULL;
}

void adam_step(adam_state *a, float *x, const float *g, float lr)
{
    ++a->t;
    float c1 = 1 - powf(a->beta1, a->t), c2 = 1 - powf(a->beta2, a->t);
    float step = lr / c1, rc2 = 1 / sqrtf(c2);
    #pragma omp parallel for schedule(static)
    for (size_t i = 0; i < a->n; ++i) {
        a->m[i] = a->beta1 * a->m[i] + (1 - a->beta1) * g[i];
        a->v[i] = a->beta2 * a->v[i] + (1 - a->beta2) * g[i] * g[i];
        x[i] -= step * a->m[i] / (sqrtf(a->v[i]) * rc2 + a->eps);
    }
}

float schedule_lr(float base, int it, int total, int warmup, int cosine)
{
    if (it < warmup) return base * (it + 1) / warmup;
    if (!cosine || total <= warmup) return base;
    double e = (double)(it - warmup) / (total - warmup);
    return (float)(0.5 * (1 + cos(M_PI * e)) * base);
}
