#include "class_loss.h"

#include <math.h>

double cross_entropy(const float *p, const int *targets, int batch, int classes, float weight, float *grad)
{
    double loss = 0;
    for (int b = 0; b < batch; ++b) {
        const float *pb = p + b * classes;
        // Darknet's softmax can underflow to exactly 0 (flush-to-zero).
        loss -= log(pb[targets[b]] > 1e-30f ? pb[targets[b]] : 1e-30f);
        if (grad)
            for (int k = 0; k < classes; ++k)
                grad[b * classes + k] = weight * (pb[k] - (k == targets[b])) / batch;
    }
    return weight * loss / batch;
}

double target_probability(const float *p, const int *targets, int batch, int classes)
{
    double s = 0;
    for (int b = 0; b < batch; ++b) s += p[b * classes + targets[b]];
    return s / batch;
}
