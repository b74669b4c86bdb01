// A masked network (prune_mask.h) written as the smaller network it
// computes: each [convolutional] section's filters= counts its surviving
// channels, and every consumer reads only them: a convolution's weights lose
// the input slices, a [connected] layer after a convolution loses the columns
// of the channel's h*w values, and [route] concatenations shrink with their
// inputs (its layers= are layer indices and stay). Nothing else in the cfg
// changes, so stock Darknet reads the result.
#ifndef INV_PRUNE_COMPACT_H
#define INV_PRUNE_COMPACT_H
#include "darknet.h"
#include "prune_mask.h"

// The cfg text (named `cfg` in messages) with filters= of every
// [convolutional] layer i set to filters[i] (other layers: ignored), a line
// added where a section has none, and `header` (may be NULL) as a first line
// (a # comment). Returns a malloc'd text; dies if the text's sections do not
// match the network's n layers.
char *compact_cfg_text(const char *text, const char *cfg, int n, const int *filters, const char *header);

// Writes the compacted cfg of `net` (parsed from `cfg`, masked as p says) to
// `out_cfg` atomically and returns that network, parsed with `batch`
// (<= 0: the cfg's) and holding the surviving parameters.
network *compact_network(const network *net, const prune_plan *p, const char *cfg, const char *out_cfg, int batch);

// Copies the surviving parameters of src (masked as p says) into dst, a
// network of the compacted cfg.
void copy_params_compacted(network *dst, const network *src, const prune_plan *p);
#endif
