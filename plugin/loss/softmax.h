// The softmax every loss on logits shares (class, KD, competition, continual).
#ifndef INV_SOFTMAX_H
#define INV_SOFTMAX_H

// Softmax of logits / temperature, in double for accuracy; p has `classes` entries.
void softmax_temperature(const float *z, int classes, float temperature, double *p);
#endif
