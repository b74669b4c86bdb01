// The files of a dream set (images/, train.list, labels.txt, dream.data,
// grid.png, losses.csv, dream.progress), written alike by dream and merge.
#ifndef INV_DREAM_SET_H
#define INV_DREAM_SET_H
#include <stddef.h>
#include <stdint.h>

#include "grid.h"
#include "labels.h"

#define DREAM_LOSSES_HEADER "batch,stage,iteration,lr,total,ce,bn,tv_l1,tv_l2,l2,target_p\n"

// "<out>/images/<k, 6 digits>_<label>.png", the name Darknet reads the class from.
void dream_image_path(char *buf, size_t n, const char *out, int k, const char *label);
// <out>/dream.progress: the run's identity and its finished batches.
void save_dream_progress(const char *out, uint64_t run, int batches);
// Reads it back: -1 when there is none, 0 when it is damaged, 1 with *run and
// *batches (>= 0) set.
int read_dream_progress(const char *out, uint64_t *run, int *batches);
// <out>/labels.txt, one label a line.
void save_dream_labels(const char *out, const label_set *labels);
// grid.png, train.list, labels.txt, then dream.data last: a run that stops on
// the way leaves no .data pointing at a set without its list or labels.
void save_dream_set(const char *out, const class_grid *grid, const char *list, const label_set *labels, int classes);
#endif
