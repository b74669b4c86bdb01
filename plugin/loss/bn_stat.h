// R_feature, DeepInversion's key term: for every BN layer, the batch mean and
// biased variance of the BN input (Darknet keeps it in l.x) against the
// running statistics stored in the layer:
//   R = sum_l  m_l * ( ||mu_l - running_mean_l||_2 + ||var_l - running_var_l||_2 )
// with m_l = first_multiplier for the first BN layer, 1 for the others.
#ifndef INV_BN_STAT_H
#define INV_BN_STAT_H
#include "frozen.h"

// Fast mode's BN momentum (Fang et al., 2022): with rate a and m_l the running
// average of layer l's batch statistics over the past rounds, the term
// matches (1 - a) mu_l + a m_l (and the same for var_l) to the running
// statistics instead of mu_l alone, so one round's batch may stray where the
// average over rounds does not:
//   ||(1 - a) mu + a m - rm|| = (1 - a) ||mu - (rm - a m) / (1 - a)||.
// Before the first round there is no average: the term is the plain one.
typedef struct {
    float rate;             // a, in [0, 1)
    int set;                // an average exists
    int n;                  // doubles in avg
    double *avg;            // per BN layer in network order: [mean C][var C]
} bn_momentum;

bn_momentum *make_bn_momentum(const frozen_net *f, float rate);
void free_bn_momentum(bn_momentum *m);
// After a round: folds the statistics of the last forward into the average.
void bn_momentum_update(bn_momentum *m, const frozen_net *f);
// The average (for exact resume); load dies naming the file on a wrong size.
void save_bn_momentum(const bn_momentum *m, const char *path);
void load_bn_momentum(bn_momentum *m, const char *path);

// After frozen_forward: computes the statistics, returns weight * R, and sets
// each BN layer's gradient coefficients so that frozen_backward adds
// weight * dR/dx. weight == 0 returns 0 and clears the coefficients.
// m (may be NULL) is the BN momentum above.
// On a network on the CPU: a GPU network's is frozen_gpu.c's, and synth_ops.h's
// bn_stat picks the one for the synthesis's device.
double bn_stat_loss(frozen_net *f, float weight, float first_multiplier, const bn_momentum *m);
#endif
