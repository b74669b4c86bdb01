// Adam on a pixel buffer, with the learning-rate schedule DeepInversion uses:
// linear warm-up, then cosine decay to 0 (or constant).
#ifndef INV_ADAM_H
#define INV_ADAM_H
#include <stddef.h>

typedef struct {
    size_t n;
    float beta1, beta2, eps;
    float *m, *v;
    int t;
} adam_state;

adam_state make_adam(size_t n, float beta1, float beta2, float eps);
void reset_adam(adam_state *a);
void free_adam(adam_state *a);
// x -= lr * mhat / (sqrt(vhat) + eps), with bias-corrected moments.
void adam_step(adam_state *a, float *x, const float *grad, float lr);
// Learning rate at iteration it (0-based) of `total`.
float schedule_lr(float base, int it, int total, int warmup, int cosine);
#endif
