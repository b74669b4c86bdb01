#include <stdlib.h>
#include <string.h>

#include "evaluate.h"
#include "load_network.h"
#include "util.h"

classifier_score new_classifier_score(int classes)
{
    classifier_score r = {0, 0, 0, classes, xcalloc(classes, sizeof(int)), xcalloc(classes, sizeof(int))};
    return r;
}

classifier_score evaluate_classifier(network *net, const labelled_set *s)
{
    classifier_score r = new_classifier_score(s->classes);
    evaluate_classifier_into(net, s, &r);
    return r;
}

// How many outputs of p (k of them) are above p[y]: 0 means y is the argmax
// (ties go to the lower index, as the argmax below does).
static int rank_of(const float *p, int k, int y)
{
    int above = 0;
    for (int j = 0; j < k; ++j) above += p[j] > p[y] || (p[j] == p[y] && j < y);
    return above;
}

void evaluate_classifier_into(network *net, const labelled_set *s, classifier_score *r)
{
    int size = s->c * s->h * s->w;
    const layer *out = &net->layers[output_layer_index(net)];
    if (net->inputs != size)
        inv_die("the network takes %dx%dx%d inputs, the images are %dx%dx%d", net->w, net->h, net->c, s->w, s->h, s->c);
    if (out->outputs != s->classes || r->classes != s->classes)
        inv_die("the network has %d outputs, the data has %d classes", out->outputs, s->classes);
    int train = net->train;
    float *truth = net->truth, *delta = net->delta;
    net->train = 0;
    net->truth = NULL;   // no cost computed against stale truth
    net->delta = NULL;
    int batch = net->batch;
    for (int i = 0; i < s->n; i += batch) {
        int m = s->n - i < batch ? s->n - i : batch;
        memcpy(net->input, labelled_image(s, i), (size_t)m * size * sizeof(float));
        if (m < batch) memset(net->input + (size_t)m * size, 0, (size_t)(batch - m) * size * sizeof(float));
        forward_network(net);
        for (int b = 0; b < m; ++b) {
            const float *p = out->output + (size_t)b * out->outputs;
            int y = s->y[i + b], rank = rank_of(p, out->outputs, y);
            ++r->n;
            ++r->class_total[y];
            if (rank == 0) { ++r->correct; ++r->class_correct[y]; }
            if (rank < 5) ++r->correct5;
        }
    }
    net->train = train;
    net->truth = truth;
    net->delta = delta;
}

void print_classifier_score(FILE *f, const classifier_score *r, char **labels)
{
    print_classifier_score_classes(f, r, labels, 0);
}

void print_classifier_score_classes(FILE *f, const classifier_score *r, char **labels, int per_class)
{
    int n = r->n ? r->n : 1;
    fprintf(f, "top-1 %.2f%% (%d/%d images)", 100.0 * r->correct / n, r->correct, r->n);
    if (r->classes >= 20) fprintf(f, ", top-5 %.2f%% (%d)", 100.0 * r->correct5 / n, r->correct5);
    fprintf(f, "\n");
    if (!per_class && r->classes > 100) {
        fprintf(f, "  (%d classes: per-class lines not shown; valid -per-class shows them)\n", r->classes);
        return;
    }
    for (int k = 0; k < r->classes; ++k)
        fprintf(f, "  %2d %-16s %6.2f%% (%d/%d)\n", k, labels[k],
                100.0 * r->class_correct[k] / (r->class_total[k] ? r->class_total[k] : 1), r->class_correct[k], r->class_total[k]);
}

void free_classifier_score(classifier_score *r)
{
    free(r->class_total);
    free(r->class_correct);
    r->class_total = r->class_correct = NULL;
}

void report_classifier(network *net, const char *list, const classifier_data *d, const char *name)
{
    report_classifier_classes(net, list, d, name, 0);
}

void report_classifier_classes(network *net, const char *list, const classifier_data *d, const char *name, int per_class)
{
    int n;
    char **paths = read_lines(list, "image list", &n);
    if (n == 0) inv_die("image list %s is empty", list);
    // Chunks of whole batches, about 64 MiB of pixels each.
    size_t image_bytes = sizeof(float) * (size_t)net->c * net->h * net->w;
    int chunk = (int)((64u << 20) / image_bytes);
    chunk = chunk < net->batch ? net->batch : chunk / net->batch * net->batch;
    classifier_score r = new_classifier_score(d->classes);
    for (int i = 0; i < n; i += chunk) {
        int m = n - i < chunk ? n - i : chunk;
        labelled_set s = load_labelled_paths(paths + i, m, list, d->labels, d->classes, net->w, net->h, net->c);
        evaluate_classifier_into(net, &s, &r);
        free_labelled_set(&s);
    }
    printf("%s on %s:\n", name, list);
    print_classifier_score_classes(stdout, &r, d->labels, per_class);
    free_classifier_score(&r);
    free_lines(paths, n);
}
