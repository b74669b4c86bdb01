// Top-1 and top-5 counting of evaluate_classifier, on a network that is only
// a [softmax] over its 25 inputs, so the images are the logits.
#include "load_network.h"
#include "evaluate.h"
#include "testlib.h"

int main(void)
{
    char *cfg = write_temp("[net]\nbatch=2\nwidth=1\nheight=1\nchannels=25\n[softmax]\n", ".cfg");
    network *net = load_checked_network(cfg, NULL, 2, LAYERS_TRAIN);
    enum { N = 5, K = 25 };
    float x[N * K];
    int y[N] = {3, 3, 3, 0, 24};
    for (int i = 0; i < N * K; ++i) x[i] = 0;
    x[0 * K + 3] = 5;                                                  // label first: top-1
    for (int k = 0; k < 4; ++k) x[1 * K + 10 + k] = 9;                 // 4 above the label: top-5 only
    x[1 * K + 3] = 1;
    for (int k = 0; k < 5; ++k) x[2 * K + 10 + k] = 9;                 // 5 above: neither
    x[2 * K + 3] = 1;
    // All equal: the argmax is class 0 (lowest index), so label 0 is top-1
    // and label 24 has 24 classes ranked before it.
    labelled_set s = {N, 1, 1, K, K, x, y};
    classifier_score r = evaluate_classifier(net, &s);
    CHECK(r.n == N && r.correct == 2 && r.correct5 == 3, "n %d top-1 %d top-5 %d", r.n, r.correct, r.correct5);
    CHECK(r.class_total[3] == 3 && r.class_correct[3] == 1 && r.class_correct[0] == 1 && r.class_correct[24] == 0,
          "per class %d/%d", r.class_correct[3], r.class_total[3]);
    // Adding a second set accumulates (report_classifier evaluates in chunks).
    labelled_set first = {2, 1, 1, K, K, x, y}, rest = {3, 1, 1, K, K, x + 2 * K, y + 2};
    classifier_score a = new_classifier_score(K);
    evaluate_classifier_into(net, &first, &a);
    evaluate_classifier_into(net, &rest, &a);
    CHECK(a.n == r.n && a.correct == r.correct && a.correct5 == r.correct5 && a.class_total[3] == 3, "chunked counts differ");
    free_classifier_score(&a);
    free_classifier_score(&r);
    free_network(net);
    unlink(cfg);
    free(cfg);
    return test_summary();
}
