#include "kd.h"

#include <math.h>
#include <stdlib.h>

#include "softmax.h"
#include "util.h"

double kd_loss(const float *zt, const float *zs, int batch, int classes, float t, float *delta)
{
    double *p = xcalloc(classes * 2, sizeof(double)), *q = p + classes, sum = 0;
    for (int b = 0; b < batch; ++b) {
        softmax_temperature(zt + b * classes, classes, t, p);
        softmax_temperature(zs + b * classes, classes, t, q);
        for (int k = 0; k < classes; ++k) {
            if (p[k] > 0) sum += p[k] * (log(p[k]) - log(q[k] > 1e-300 ? q[k] : 1e-300));
            if (delta) delta[b * classes + k] = (float)(t * (p[k] - q[k]));
        }
    }
    free(p);
    return (double)t * t * sum / batch;
}
