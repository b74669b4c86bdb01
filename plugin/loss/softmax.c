#include "softmax.h"

#include <math.h>

void softmax_temperature(const float *z, int classes, float temperature, double *p)
{
    double mx = z[0], sum = 0;
    for (int k = 1; k < classes; ++k) if (z[k] > mx) mx = z[k];
    for (int k = 0; k < classes; ++k) sum += p[k] = exp((z[k] - mx) / temperature);
    for (int k = 0; k < classes; ++k) p[k] /= sum;
}
