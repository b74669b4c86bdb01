// The competition term's gradients against finite differences, and its range.
#include <math.h>

#include "compete.h"
#include "rng.h"
#include "testlib.h"

static double loss(const float *zt, const float *zs, int batch, int classes, float t)
{
    return compete_loss(zt, zs, batch, classes, t, 0.7f, NULL, NULL);
}

int main(void)
{
    enum { B = 4, K = 6 };
    rng r = make_rng(11);
    float zt[B * K], zs[B * K], gt[B * K] = {0}, gs[B * K] = {0};
    for (int i = 0; i < B * K; ++i) zt[i] = (float)(2 * rng_normal(&r)), zs[i] = (float)(2 * rng_normal(&r));
    const float t = 3;
    compete_loss(zt, zs, B, K, t, 0.7f, gt, gs);
    const double eps = 1e-3;
    for (int which = 0; which < 2; ++which)
        for (int i = 0; i < B * K; ++i) {
            float *z = which ? zs : zt, keep = z[i];
            z[i] = keep + (float)eps;
            double lp = loss(zt, zs, B, K, t);
            z[i] = keep - (float)eps;
            double lm = loss(zt, zs, B, K, t);
            z[i] = keep;
            double fd = (lp - lm) / (2 * eps), an = which ? gs[i] : gt[i];
            CHECK(fabs(fd - an) < 1e-4 + 1e-2 * fabs(fd), "%s logit %d: analytic %g, finite difference %g", which ? "student" : "teacher", i, an, fd);
        }
    // Identical outputs: JS = 0, R = weight. Opposite confident outputs are
    // clipped to (0.99, 0.01) and (0.01, 0.99): JS = 0.99 ln 1.98 + 0.01 ln 0.02.
    CHECK(fabs(loss(zt, zt, B, K, t) - 0.7) < 1e-6, "agreeing networks must give R = weight (%g)", loss(zt, zt, B, K, t));
    float a[2] = {40, 0}, b[2] = {0, 40};
    double far = compete_loss(a, b, 1, 2, 1, 1, NULL, NULL);
    double expect = 1 - (0.99 * log(1.98) + 0.01 * log(0.02));
    CHECK(fabs(far - expect) < 1e-6, "disagreeing networks: R = %g, expected %g", far, expect);
    // Saturated (clipped) probabilities carry no gradient.
    float g1[2] = {0}, g2[2] = {0};
    compete_loss(a, b, 1, 2, 1, 1, g1, g2);
    CHECK(g1[0] == 0 && g1[1] == 0 && g2[0] == 0 && g2[1] == 0, "clipped probabilities must have zero gradient");
    return test_summary();
}
