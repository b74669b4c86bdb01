// R_feature, DeepInversion's key term: for every BN layer, the batch mean and
// biased variance of the BN input (Darknet keeps it in l.x) against the
// running statistics stored in the layer:
//   R = sum_l  m_l * ( ||mu_l - running_mean_l||_2 + ||var_l - running_var_l||_2 )
// with m_l = first_multiplier for the first BN layer, 1 for the others.
#ifndef INV_BN_STAT_H
#define INV_BN_STAT_H
#include "frozen.h"

// After frozen_forward: computes the statistics, returns weight * R, and sets
// each BN layer's gradient coefficients so that frozen_backward adds
// weight * dR/dx. weight == 0 returns 0 and clears the coefficients.
// On a network on the CPU: a GPU network's is frozen_gpu.c's, and synth_ops.h's
// bn_stat picks the one for the synthesis's device.
double bn_stat_loss(frozen_net *f, float weight, float first_multiplier);
#endif
