#include <stdlib.h>
#include <string.h>

#include "evaluate.h"
#include "check.h"
#include "util.h"

classifier_score evaluate_classifier(network *net, const labelled_set *s)
{
    int size = s->c * s->h * s->w;
    const layer *out = &net->layers[output_layer_index(net)];
    if (net->inputs != size)
        inv_die("the network takes %dx%dx%d inputs, the images are %dx%dx%d", net->w, net->h, net->c, s->w, s->h, s->c);
    if (out->outputs != s->classes)
        inv_die("the network has %d outputs, the data has %d classes", out->outputs, s->classes);
    classifier_score r = {s->n, 0, s->classes, xcalloc(s->classes, sizeof(int)), xcalloc(s->classes, sizeof(int))};
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
            int best = 0;
            for (int k = 1; k < out->outputs; ++k) if (p[k] > p[best]) best = k;
            int y = s->y[i + b];
            ++r.class_total[y];
            if (best == y) { ++r.correct; ++r.class_correct[y]; }
        }
    }
    net->train = train;
    net->truth = truth;
    net->delta = delta;
    return r;
}

void print_classifier_score(FILE *f, const classifier_score *r, char **labels)
{
    fprintf(f, "top-1 %.2f%% (%d/%d images)\n", 100.0 * r->correct / (r->n ? r->n : 1), r->correct, r->n);
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
    labelled_set s = load_labelled_list(list, d->labels, d->classes, net->w, net->h, net->c);
    classifier_score r = evaluate_classifier(net, &s);
    printf("%s on %s:\n", name, list);
    print_classifier_score(stdout, &r, d->labels);
    free_classifier_score(&r);
    free_labelled_set(&s);
}
