// Widening a classifier's head for class-incremental learning: the
// [connected] layer right before the final [softmax] gets more outputs; the
// old rows keep their parameters, so the old classes' logits are unchanged.
#ifndef INV_WIDEN_H
#define INV_WIDEN_H
#include <stddef.h>

#include "darknet.h"

// The cfg text `text` (named `cfg` in messages) with the head's output=K_old
// replaced by K_old + add. Returns a malloc'd text and K_old in *k_old, or
// NULL with the reason in err (no [softmax] at the end, no [connected] with
// output= right before it, a grouped softmax).
char *widen_head_cfg_text(const char *text, const char *cfg, int add, int *k_old, char *err, size_t errlen);
// The same on a file; dies with the reason.
char *widen_head_cfg(const char *cfg, int add, int *k_old);

// Copies every parameter of `src` into `dst`, a network of the same cfg with
// the head layer `head` widened: there, the first rows (weights, biases, BN
// scales and running statistics) are src's and the others are left as they are.
void copy_params_widened(network *dst, const network *src, int head);
#endif
