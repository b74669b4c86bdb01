// Knowledge distillation loss on logits:
//   L = t^2 * mean_b KL(P_b || Q_b),  P = softmax(z_T / t) (teacher), Q = softmax(z_S / t) (student)
// The t^2 keeps gradient magnitudes comparable across temperatures (Hinton et al.).
#ifndef INV_KD_H
#define INV_KD_H

// Returns L. When delta != NULL writes, per sample, Darknet's delta for the
// student's logits: -(d t^2 KL(P_b || Q_b) / d z_S) = t (P - Q); Darknet's
// update divides by the batch, which makes it the gradient of the mean.
double kd_loss(const float *zt, const float *zs, int batch, int classes, float t, float *delta);
#endif
