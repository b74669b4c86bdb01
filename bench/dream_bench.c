// Benchmark harness for the DeepInversion step: the plugin's side of
// bench/speed.py (which compares it with the PyTorch reference in
// bench/torch_reference.py). Linked against the plugin's objects.
//
//   dream_bench loss  <inversion.cfg> <cfg> <weights> <batch> <in.f32> <out>
//       loss terms and input gradient of synth_loss at the input batch in
//       in.f32 ([batch][c][h][w] floats, then batch int32 targets);
//       writes <out>.txt (resolved parameters, terms) and <out>.grad (floats)
//   dream_bench step  <inversion.cfg> <cfg> <weights> <batch> <in.f32> <out> <iters> <dy> <dx> <flip>
//       <iters> full steps (view, loss, view^T, Adam, clip) from the first
//       batch*pc*h*w floats of in.f32 as parameters, with a fixed view; writes
//       the parameters to <out>.params and the resolved settings to <out>.txt
//   dream_bench time  <inversion.cfg> <cfg> <weights|-> <batch> <iters|0> [min_seconds]
//       synth_batch with the cfg's settings after two warm-up iterations
//       (iters 0: as many as take min_seconds, default 3); one line of
//       key=value results
//   dream_bench params <inversion.cfg> <cfg> <weights|-> <batch> <out.txt>
//       the inversion settings as the plugin resolves them
//   dream_bench sgemm <n> <reps>
//       square OpenBLAS sgemm, GFLOP/s (the machine's peak for this kernel)
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "augment.h"
#include "load_network.h"
#include "flops.h"
#include "frozen.h"
#include "icfg.h"
#include "inversion.h"
#include "synth.h"
#include "util.h"

static void read_floats(const char *path, void *dst, size_t bytes)
{
    FILE *f = fopen(path, "rb");
    if (!f) inv_die("cannot open %s", path);
    if (fread(dst, 1, bytes, f) != bytes) inv_die("%s: expected at least %zu bytes", path, bytes);
    fclose(f);
}

static void write_bytes(const char *path, const void *src, size_t bytes)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(src, 1, bytes, f) != bytes || fclose(f)) inv_die("cannot write %s", path);
}

static double peak_rss_mib(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss / 1024.0;
}

typedef struct {
    network *net;
    frozen_net *f;
    synth *s;
    inversion_params p;
} teacher;

static teacher load(const char *icfg, const char *cfg, const char *weights, int batch)
{
    teacher t;
    t.p = read_inversion_cfg(icfg);
    t.p.batch = batch;
    t.net = load_checked_network(cfg, strcmp(weights, "-") ? weights : NULL, batch, LAYERS_FROZEN);
    t.f = make_frozen_net(t.net, cfg);
    t.s = make_synth(t.f, NULL, &t.p);
    return t;
}

static void write_params(FILE *o, const synth *s)
{
    const inversion_params *p = &s->p;
    fprintf(o, "batch %d\nc %d\nh %d\nw %d\npc %d\nclasses %d\n", s->batch, s->c, s->h, s->w, s->pc, s->teacher->classes);
    fprintf(o, "ce_weight %.9g\nbn_weight %.9g\nfirst_bn_multiplier %.9g\n", p->class_weight, p->bn_stat_weight, p->bn_stat_first_multiplier);
    fprintf(o, "tv_l1 %.9g\ntv_l2 %.9g\nl2 %.9g\n", p->prior_tv_l1, p->prior_tv_l2, p->prior_l2);
    fprintf(o, "lr %.9g\nbeta1 %.9g\nbeta2 %.9g\neps %.9g\nwarmup %d\niterations %d\ncosine %d\n", p->adam_lr, p->adam_beta1,
            p->adam_beta2, p->adam_eps, p->adam_warmup, p->iterations, !strcmp(p->adam_policy, "cosine"));
    fprintf(o, "jitter %d\nflip %d\ngray %d\n", p->augment_jitter, p->augment_flip, p->gray);
}

static int cmd_loss(int argc, char **argv, int step)
{
    if (argc != (step ? 12 : 8)) inv_die("usage: see bench/dream_bench.c");
    teacher t = load(argv[2], argv[3], argv[4], atoi(argv[5]));
    synth *s = t.s;
    size_t n = (size_t)s->batch * s->c * s->h * s->w, np = (size_t)s->batch * s->pc * s->h * s->w;
    float *in = xcalloc(n + s->batch, sizeof(float));
    read_floats(argv[6], in, (n + s->batch) * sizeof(float));
    int *targets = (int *)(in + n);
    char path[4096];
    if (!step) {
        synth_record r = {0};
        float *grad = xcalloc(n, sizeof(float));
        synth_loss(s, in, targets, grad, &r);
        snprintf(path, sizeof path, "%s.txt", argv[7]);
        FILE *o = fopen(path, "w");
        if (!o) inv_die("cannot write %s", path);
        write_params(o, s);
        fprintf(o, "term ce %.17g\nterm bn %.17g\nterm tv_l1 %.17g\nterm tv_l2 %.17g\nterm l2 %.17g\nterm total %.17g\n",
                r.ce, r.bn, r.tv_l1, r.tv_l2, r.l2, r.total);
        if (fclose(o)) inv_die("cannot write %s", path);
        snprintf(path, sizeof path, "%s.grad", argv[7]);
        write_bytes(path, grad, n * sizeof(float));
        return 0;
    }
    // The body of synth_batch's loop at full resolution with a fixed view.
    int iters = atoi(argv[8]);
    view v = {s->batch, s->c, s->h, s->w, s->pc, 1, atoi(argv[9]), atoi(argv[10]), atoi(argv[11])};
    memcpy(s->params, in, np * sizeof(float));
    reset_adam(&s->adam);
    for (int it = 0; it < iters; ++it) {
        synth_record r = {0};
        float lr = schedule_lr(s->p.adam_lr, it, s->p.iterations, s->p.adam_warmup, !strcmp(s->p.adam_policy, "cosine"));
        view_forward(&v, s->params, s->input);
        synth_loss(s, s->input, targets, s->grad_input, &r);
        view_backward(&v, s->grad_input, s->grad_params);
        adam_step(&s->adam, s->params, s->grad_params, lr);
        for (size_t i = 0; i < np; ++i) s->params[i] = s->params[i] < 0 ? 0 : s->params[i] > 1 ? 1 : s->params[i];
    }
    snprintf(path, sizeof path, "%s.params", argv[7]);
    write_bytes(path, s->params, np * sizeof(float));
    snprintf(path, sizeof path, "%s.txt", argv[7]);
    FILE *o = fopen(path, "w");
    if (!o) inv_die("cannot write %s", path);
    write_params(o, s);
    if (fclose(o)) inv_die("cannot write %s", path);
    return 0;
}

// The convolutional and connected layers' own time (forward and backward,
// im2col, GEMM, BN and activation passes included), per thread, as wall
// seconds with every thread busy; one stderr line per layer.
static double conv_layer_seconds(const frozen_net *f, long images)
{
    const network *net = f->net;
    double total = 0;
    for (int i = 0; i < net->n; ++i) {
        const layer *l = &net->layers[i];
        double sec[2] = {0, 0};
        for (int t = 0; t < f->threads; ++t)
            for (int p = 0; p < 2; ++p) sec[p] += f->layer_seconds[((size_t)t * net->n + i) * 2 + p] / f->threads;
        network one = *net;
        one.n = 1;
        one.layers = (layer *)l;
        double flop = network_flops(&one);
        fprintf(stderr, "layer %2d %-14s forward %8.2f us/image  backward %8.2f us/image", i, layer_type_name(l->type),
                1e6 * sec[0] / images, 1e6 * sec[1] / images);
        if (flop > 0) fprintf(stderr, "  %6.1f GFLOP/s", 2 * flop * images / (sec[0] + sec[1]) / 1e9);
        // The shape, so that the layers' times can be summed by kind of convolution.
        if (l->type == CONVOLUTIONAL)
            fprintf(stderr, "  %dx%d/%d%s %d->%d %dx%d", l->size, l->size, l->stride, l->groups > 1 ? " grouped" : "",
                    l->c, l->n, l->out_w, l->out_h);
        fputc('\n', stderr);
        if (flop > 0) total += sec[0] + sec[1];
    }
    return total;
}

static int cmd_time(int argc, char **argv)
{
    if (argc < 7) inv_die("usage: see bench/dream_bench.c");
    teacher t = load(argv[2], argv[3], argv[4], atoi(argv[5]));
    synth *s = t.s;
    int iters = atoi(argv[6]);
    double min_seconds = argc > 7 ? atof(argv[7]) : 3;
    int *targets = xcalloc(s->batch, sizeof(int));
    for (int b = 0; b < s->batch; ++b) targets[b] = b % t.f->classes;
    float *images = xcalloc((size_t)s->batch * s->c * s->h * s->w, sizeof(float));
    // Warm-up (first touch of every buffer), which also sizes the timed run.
    s->p.iterations = 2;
    double t0 = now_seconds();
    synth_batch(s, targets, 1, 0, images, NULL, NULL);
    double per = (now_seconds() - t0) / 2;
    if (iters <= 0) iters = per > 0 ? (int)ceil(min_seconds / per) : 2;
    if (iters < 2) iters = 2;
    s->p.iterations = iters;
    frozen_time_layers(t.f);
    t0 = now_seconds();
    synth_batch(s, targets, 2, 0, images, NULL, NULL);
    double sec = now_seconds() - t0;
    double flop = 2 * network_flops(t.net);   // forward + input-gradient backward, per image
    double ips = (double)iters * s->batch / sec;
    double conv_sec = conv_layer_seconds(t.f, iters * s->batch);
    const char *env = getenv("OPENBLAS_NUM_THREADS");
    printf("impl=plugin batch=%d threads=%s kernel=%s iters=%d seconds=%.4f img_it_s=%.2f conv_mflop=%.3f gflops=%.2f "
           "conv_seconds=%.4f conv_gflops=%.2f rss_mib=%.1f\n",
           s->batch, env ? env : "?", openblas_get_corename(), iters, sec, ips, flop / 1e6, ips * flop / 1e9, conv_sec,
           flop * iters * s->batch / conv_sec / 1e9, peak_rss_mib());
    return 0;
}

static int cmd_params(int argc, char **argv)
{
    if (argc != 7) inv_die("usage: see bench/dream_bench.c");
    teacher t = load(argv[2], argv[3], argv[4], atoi(argv[5]));
    FILE *o = fopen(argv[6], "w");
    if (!o) inv_die("cannot write %s", argv[6]);
    write_params(o, t.s);
    if (fclose(o)) inv_die("cannot write %s", argv[6]);
    return 0;
}

static int cmd_sgemm(int argc, char **argv)
{
    int n = argc > 2 ? atoi(argv[2]) : 2048, reps = argc > 3 ? atoi(argv[3]) : 5;
    float *a = xcalloc((size_t)n * n, sizeof(float)), *b = xcalloc((size_t)n * n, sizeof(float)),
          *c = xcalloc((size_t)n * n, sizeof(float));
    for (size_t i = 0; i < (size_t)n * n; ++i) a[i] = (float)(i % 7) * .1f, b[i] = (float)(i % 5) * .1f;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
    double best = 1e30;
    for (int r = 0; r < reps; ++r) {
        double t0 = now_seconds();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
        double dt = now_seconds() - t0;
        if (dt < best) best = dt;
    }
    const char *env = getenv("OPENBLAS_NUM_THREADS");
    printf("impl=sgemm n=%d threads=%s kernel=%s gflops=%.2f\n", n, env ? env : "?", openblas_get_corename(),
           2.0 * n * n * n / best / 1e9);
    return 0;
}

int main(int argc, char **argv)
{
    select_blas_kernel(argv);
    if (argc < 2) inv_die("usage: dream_bench loss|step|time|params|sgemm ... (see bench/dream_bench.c)");
    if (!strcmp(argv[1], "loss")) return cmd_loss(argc, argv, 0);
    if (!strcmp(argv[1], "step")) return cmd_loss(argc, argv, 1);
    if (!strcmp(argv[1], "time")) return cmd_time(argc, argv);
    if (!strcmp(argv[1], "params")) return cmd_params(argc, argv);
    if (!strcmp(argv[1], "sgemm")) return cmd_sgemm(argc, argv);
    inv_die("unknown command %s", argv[1]);
}
