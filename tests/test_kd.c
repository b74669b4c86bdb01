// The distillation loss: its student-logit delta against finite differences,
// zero at agreement, and positive otherwise.
#include <math.h>

#include "kd.h"
#include "rng.h"
#include "testlib.h"

int main(void)
{
    enum { B = 3, K = 5 };
    rng r = make_rng(5);
    float zt[B * K], zs[B * K], delta[B * K];
    for (int i = 0; i < B * K; ++i) zt[i] = (float)(3 * rng_normal(&r)), zs[i] = (float)(3 * rng_normal(&r));
    const float temps[] = {1, 4, 20};
    for (int ti = 0; ti < 3; ++ti) {
        float t = temps[ti];
        double l = kd_loss(zt, zs, B, K, t, delta);
        CHECK(l > 0, "KL of different outputs must be positive (t=%g: %g)", t, l);
        for (int i = 0; i < B * K; ++i) {
            const double eps = 1e-3;
            float keep = zs[i];
            zs[i] = keep + (float)eps;
            double lp = kd_loss(zt, zs, B, K, t, NULL);
            zs[i] = keep - (float)eps;
            double lm = kd_loss(zt, zs, B, K, t, NULL);
            zs[i] = keep;
            // delta is per sample and negative: gradient of the mean = -delta / B.
            double fd = (lp - lm) / (2 * eps), an = -delta[i] / B;
            CHECK(fabs(fd - an) < 1e-4 + 1e-2 * fabs(fd), "t=%g logit %d: analytic %g, finite difference %g", t, i, an, fd);
        }
        CHECK(fabs(kd_loss(zt, zt, B, K, t, NULL)) < 1e-9, "KL of identical outputs must be 0");
    }
    return test_summary();
}
