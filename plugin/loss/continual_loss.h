// The continual-learning losses on logits (class-incremental: the new
// network has k = k_old + k_new outputs, the old one k_old), each the mean
// over n rows. Each adds weight * Darknet's delta (-dLoss_b/dz_new, per row)
// into delta (n x k) and returns the unweighted loss; Darknet's update divides
// by the batch, which makes the deltas the gradient of the batch mean.
#ifndef INV_CONTINUAL_LOSS_H
#define INV_CONTINUAL_LOSS_H

// Synthesized images of the old classes: t^2 KL(P || Q), P = softmax(z_old/t)
// padded with zeros over the new classes, Q = softmax(z_new/t) over all k.
double continual_syn_loss(const float *z_old, const float *z_new, int n, int k_old, int k, float t, float weight, float *delta);
// New data: cross-entropy of softmax(z_new) (all k classes) to labels y in 0..k-1.
double continual_ce_loss(const float *z_new, const int *y, int n, int k, float weight, float *delta);
// New data: t^2 KL(softmax(z_old/t) || softmax(z_new[0..k_old-1]/t)), the new
// network's old-class logits alone; the new classes' delta is left as it is.
double continual_kd_loss(const float *z_old, const float *z_new, int n, int k_old, int k, float t, float weight, float *delta);

typedef struct { float syn, ce, kd, t; } continual_weights;
typedef struct { double total, syn, ce, kd; } continual_parts;

// A mixed batch of `batch` rows: rows 0..nsyn-1 synthesized (syn term), the
// others new data with labels y[row] (ce and kd terms). Overwrites delta
// (batch x k); returns the batch mean of the weighted sum, and the unweighted
// mean of each term over its rows in *parts (may be NULL).
double continual_loss(const continual_weights *w, const float *z_old, const float *z_new, const int *y, int batch, int nsyn,
                      int k_old, int k, float *delta, continual_parts *parts);
#endif
