// Widening a classifier's head for class-incremental learning. The head is
// the last layer with parameters before the final [softmax] (a [cost] may
// follow it): a [convolutional] whose filters= is the class count (any size,
// groups=1; the zoo's 1x1 convolution before or after a global [avgpool]) or
// a [connected] whose output= is. Only [avgpool] and [dropout], which have no
// parameters and keep the channel count, may stand between the head and the
// [softmax]. The head gets more filters/outputs; the old ones keep their
// parameters, so the old classes' logits are unchanged.
#ifndef INV_WIDEN_H
#define INV_WIDEN_H
#include <stddef.h>

#include "darknet.h"

typedef struct {
    int k_old;          // the head's filters=/output= in the old cfg
    int head;           // layer index of the head
    int softmax;        // layer index of the final [softmax]
    int head_line;      // their section headers' lines in the cfg (1-based)
    int softmax_line;
    int conv;           // 1: [convolutional] head (filters=), 0: [connected] (output=)
} widen_head;

// The cfg text `text` (named `cfg` in messages) with the head's filters=K_old
// or output=K_old replaced by K_old + add and every other line kept. Returns
// a malloc'd text and the head in *h, or NULL with the reason in err (no
// [softmax] at the end, a grouped or tree softmax, a layer other than
// [avgpool]/[dropout] between it and the head, a head without its count, a
// grouped convolution).
char *widen_head_cfg_text(const char *text, const char *cfg, int add, widen_head *h, char *err, size_t errlen);
// The same on a file; dies with the reason.
char *widen_head_cfg(const char *cfg, int add, widen_head *h);

// What the text cannot tell: on the parsed old network, the head must give one
// logit per class, i.e. the [softmax] reads exactly K_old values (a
// convolutional head with a spatial output and no [avgpool] is refused).
// Returns 0, or -1 with the reason in err.
int check_widen_head(const network *old, const widen_head *h, const char *cfg, char *err, size_t errlen);

// Copies every parameter of `src` into `dst`, a network of the same cfg with
// the head layer `head` widened: there, the first filters/rows (weights in
// Darknet's [n][c/groups][size][size] or [outputs][inputs] layout, biases, BN
// scales and rolling statistics) are src's and the others are left as they are.
void copy_params_widened(network *dst, const network *src, int head);
#endif
