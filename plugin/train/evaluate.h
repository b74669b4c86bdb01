// Single-crop top-1 (and top-5) evaluation of a classifier on labelled images.
#ifndef INV_EVALUATE_H
#define INV_EVALUATE_H
#include <stdio.h>

#include "darknet.h"
#include "dataset.h"

typedef struct {
    int n, correct;
    int correct5;                    // label among the 5 highest outputs
    int classes;
    int *class_total, *class_correct;
} classifier_score;

// Forwards the set in batches of net->batch in inference mode (rolling BN
// statistics, no dropout) and counts argmax == label. Leaves net->train,
// input, truth and delta as it found them. Dies if the network's input or
// output size does not fit the set.
classifier_score evaluate_classifier(network *net, const labelled_set *s);
// The same, adding the set's counts to r (made by evaluate_classifier or zeroed
// by new_classifier_score).
classifier_score new_classifier_score(int classes);
void evaluate_classifier_into(network *net, const labelled_set *s, classifier_score *r);
// "top-1 91.23% (9123/10000 images)" (", top-5 ..." with 20 classes or more),
// then one line per class with its label (per_class 0: only up to 100 classes).
void print_classifier_score(FILE *f, const classifier_score *r, char **labels);
void print_classifier_score_classes(FILE *f, const classifier_score *r, char **labels, int per_class);
void free_classifier_score(classifier_score *r);
// Evaluates net on the images of list (d's labels and classes), loaded a
// chunk at a time so that any list fits in memory, and prints
// "<name> on <list>:" and the score to stdout.
void report_classifier(network *net, const char *list, const classifier_data *d, const char *name);
void report_classifier_classes(network *net, const char *list, const classifier_data *d, const char *name, int per_class);
#endif
