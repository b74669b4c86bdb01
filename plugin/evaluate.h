// Single-crop top-1 evaluation of a classifier on an in-memory labelled set.
#ifndef INV_EVALUATE_H
#define INV_EVALUATE_H
#include <stdio.h>

#include "darknet.h"
#include "dataset.h"

typedef struct {
    int n, correct;
    int classes;
    int *class_total, *class_correct;
} classifier_score;

// Forwards the set in batches of net->batch in inference mode (rolling BN
// statistics, no dropout) and counts argmax == label. Leaves net->train,
// input, truth and delta as it found them. Dies if the network's input or
// output size does not fit the set.
classifier_score evaluate_classifier(network *net, const labelled_set *s);
// "top-1 91.23% (9123/10000)" then one line per class with its label.
void print_classifier_score(FILE *f, const classifier_score *r, char **labels);
void free_classifier_score(classifier_score *r);
// Loads the images of list (d's labels and classes), evaluates net on them and
// prints "<name> on <list>:" and the score to stdout.
void report_classifier(network *net, const char *list, const classifier_data *d, const char *name);
#endif
