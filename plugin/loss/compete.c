#include "compete.h"
#include "softmax.h"

#include <math.h>
#include <stdlib.h>

#include "util.h"

static double clip(double p, int *inside)
{
    *inside = p > 0.01 && p < 0.99;
    return p < 0.01 ? 0.01 : p > 0.99 ? 0.99 : p;
}

// Through softmax at temperature t: dL/dz_j = p_j (g_j - sum_k p_k g_k) / t.
static void softmax_backward(const double *p, const double *g, int classes, float t, double scale, float *grad)
{
    double dot = 0;
    for (int k = 0; k < classes; ++k) dot += p[k] * g[k];
    for (int k = 0; k < classes; ++k) grad[k] += (float)(scale * p[k] * (g[k] - dot) / t);
}

double compete_loss(const float *zt, const float *zs, int batch, int classes, float t,
                    float weight, float *grad_t, float *grad_s)
{
    double *p = xcalloc(classes * 4, sizeof(double)), *q = p + classes, *gp = q + classes, *gq = gp + classes;
    double js_sum = 0;
    for (int b = 0; b < batch; ++b) {
        softmax_temperature(zt + b * classes, classes, t, p);
        softmax_temperature(zs + b * classes, classes, t, q);
        double js = 0;
        for (int k = 0; k < classes; ++k) {
            int in_p, in_q;
            double pk = clip(p[k], &in_p), qk = clip(q[k], &in_q), m = 0.5 * (pk + qk);
            js += 0.5 * (pk * log(pk / m) + qk * log(qk / m));
            // dJS/dP = 0.5 log(P / M), dJS/dQ = 0.5 log(Q / M); R = 1 - JS.
            gp[k] = in_p ? -0.5 * log(pk / m) : 0;
            gq[k] = in_q ? -0.5 * log(qk / m) : 0;
        }
        js_sum += js;
        if (grad_t) softmax_backward(p, gp, classes, t, weight / batch, grad_t + b * classes);
        if (grad_s) softmax_backward(q, gq, classes, t, weight / batch, grad_s + b * classes);
    }
    free(p);
    return weight * (1 - js_sum / batch);
}
