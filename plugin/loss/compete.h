// Adaptive DeepInversion's competition term, on the logits of teacher and student:
//   R = 1 - mean_b JS(P_b, Q_b),  P = clip(softmax(z_T / t)), Q = clip(softmax(z_S / t)),
// clipped to [0.01, 0.99] (no gradient where the clip is active), JS with
// natural logarithms (at most ln 2), M = (P + Q) / 2.
// Minimising R drives images to where teacher and student disagree.
#ifndef INV_COMPETE_H
#define INV_COMPETE_H

// Returns weight * R; adds weight * dR/dz_T to grad_t and weight * dR/dz_S to grad_s.
double compete_loss(const float *zt, const float *zs, int batch, int classes, float temperature,
                    float weight, float *grad_t, float *grad_s);
#endif
