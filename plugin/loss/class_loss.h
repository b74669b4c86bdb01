// Cross-entropy of softmax outputs to target classes, mean over the batch.
#ifndef INV_CLASS_LOSS_H
#define INV_CLASS_LOSS_H

// p: [batch][classes] probabilities; writes weight * dCE/du into grad
// (u = logits/temperature, so dCE/du = (p - onehot) / batch) when grad != NULL.
double cross_entropy(const float *p, const int *targets, int batch, int classes, float weight, float *grad);
// Mean probability the outputs give their targets.
double target_probability(const float *p, const int *targets, int batch, int classes);
#endif
