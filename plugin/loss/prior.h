// Image priors on a batch x [batch][c][h][w]:
//   tv_l2: sum over 4 directions of the L2 norm of the difference tensor
//   tv_l1: sum over 4 directions of the mean absolute difference
//   l2:    mean over images of each image's L2 norm
// Directions: right (y, x+1), down (y+1, x), down-right (y+1, x+1), down-left (y+1, x-1).
#ifndef INV_PRIOR_H
#define INV_PRIOR_H

typedef struct { double tv_l1, tv_l2, l2; } prior_terms;

// Returns the weighted terms and adds w * d(term)/dx to grad (when grad != NULL).
prior_terms prior_loss(const float *x, int batch, int c, int h, int w,
                       float w_tv_l1, float w_tv_l2, float w_l2, float *grad);
#endif
