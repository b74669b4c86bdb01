#include "continual_loss.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "softmax.h"
#include "util.h"

static double safe_log(double x) { return log(x > 1e-300 ? x : 1e-300); }

// t^2 KL(P || Q) and its delta over the first m new logits (m >= k_old):
// P = softmax(z_old/t) padded with zeros to m classes, Q = softmax of the
// first m new logits / t. Both losses below are this with m = k or k_old.
static double kl_to_old(const float *z_old, const float *z_new, int n, int k_old, int k, int m, float t, float weight,
                        float *delta)
{
    double *p = xcalloc((size_t)m * 2, sizeof(double)), *q = p + m, sum = 0;
    for (int b = 0; b < n; ++b) {
        memset(p, 0, sizeof(double) * m);
        softmax_temperature(z_old + (size_t)b * k_old, k_old, t, p);
        softmax_temperature(z_new + (size_t)b * k, m, t, q);
        for (int j = 0; j < m; ++j) {
            if (p[j] > 0) sum += p[j] * (log(p[j]) - safe_log(q[j]));
            if (delta) delta[(size_t)b * k + j] += (float)(weight * t * (p[j] - q[j]));
        }
    }
    free(p);
    return n ? (double)t * t * sum / n : 0;
}

double continual_syn_loss(const float *z_old, const float *z_new, int n, int k_old, int k, float t, float weight, float *delta)
{
    return kl_to_old(z_old, z_new, n, k_old, k, k, t, weight, delta);
}

double continual_ce_loss(const float *z_new, const int *y, int n, int k, float weight, float *delta)
{
    double *q = xcalloc(k, sizeof(double)), sum = 0;
    for (int b = 0; b < n; ++b) {
        softmax_temperature(z_new + (size_t)b * k, k, 1, q);
        sum -= safe_log(q[y[b]]);
        if (delta)
            for (int j = 0; j < k; ++j) delta[(size_t)b * k + j] += (float)(weight * ((j == y[b]) - q[j]));
    }
    free(q);
    return n ? sum / n : 0;
}

double continual_kd_loss(const float *z_old, const float *z_new, int n, int k_old, int k, float t, float weight, float *delta)
{
    return kl_to_old(z_old, z_new, n, k_old, k, k_old, t, weight, delta);
}

double continual_loss(const continual_weights *w, const float *z_old, const float *z_new, const int *y, int batch, int nsyn,
                      int k_old, int k, float *delta, continual_parts *parts)
{
    int nnew = batch - nsyn;
    if (delta) memset(delta, 0, sizeof(float) * (size_t)batch * k);
    const float *zo = z_old + (size_t)nsyn * k_old, *zn = z_new + (size_t)nsyn * k;
    float *dn = delta ? delta + (size_t)nsyn * k : NULL;
    double syn = continual_syn_loss(z_old, z_new, nsyn, k_old, k, w->t, w->syn, delta);
    double ce = continual_ce_loss(zn, y + nsyn, nnew, k, w->ce, dn);
    double kd = continual_kd_loss(zo, zn, nnew, k_old, k, w->t, w->kd, dn);
    double total = (nsyn * w->syn * syn + nnew * (w->ce * ce + w->kd * kd)) / batch;
    if (parts) *parts = (continual_parts){total, syn, ce, kd};
    return total;
}
