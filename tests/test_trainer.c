// The trainer's loop on a two-layer classifier and a fixed pool: a CSV row a
// batch with evaluation at its cadence and at the last batch, one backup kept
// (the latest, every backup_every batches, none at the end), and a run
// stopped mid-way then rerun ends exactly where an uninterrupted one does,
// also when the stop fell between the CSV (or a weights file) and the state
// file of a backup. A damaged state file is refused.
#include <math.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "load_network.h"
#include "testlib.h"
#include "trainer.h"
#include "util.h"

enum { B = 4, N = 12, C = 3, SIDE = 4, MAX = 20, BACKUP = 5, VALID = 7, STOP = 12 };
static const char *CFG_TEXT = "[net]\nbatch=4\nwidth=4\nheight=4\nchannels=1\nlearning_rate=0.1\nmomentum=0.9\ndecay=0.0005\n"
                              "max_batches=20\npolicy=constant\n[connected]\noutput=3\nactivation=linear\n[softmax]\n";

typedef struct {
    image_pool pool;
    int y[B];
    int stop;       // > 0: the process ends (as if killed) when this batch is about to run
} toy;

static void fill(void *ctx, rng *r, network *net)
{
    toy *t = ctx;
    if (t->stop && get_current_batch(net) == (size_t)t->stop) _exit(0);
    for (int i = 0; i < B; ++i) {
        int k = rng_int(r, 0, t->pool.n - 1);
        memcpy(net->input + i * SIDE * SIDE, pool_image(&t->pool, k), sizeof(float) * SIDE * SIDE);
        t->y[i] = t->pool.y[k];
    }
}

// Cross-entropy on the pool's labels: Darknet's delta is onehot - softmax.
static double ce_delta(void *ctx, const float *z, int batch, int outputs, float *delta)
{
    toy *t = ctx;
    double loss = 0;
    for (int b = 0; b < batch; ++b) {
        const float *zb = z + b * outputs;
        double m = zb[0], sum = 0;
        for (int k = 1; k < outputs; ++k) m = fmax(m, zb[k]);
        for (int k = 0; k < outputs; ++k) sum += exp(zb[k] - m);
        for (int k = 0; k < outputs; ++k) delta[b * outputs + k] = (k == t->y[b]) - (float)(exp(zb[k] - m) / sum);
        loss += log(sum) + m - zb[t->y[b]];
    }
    return loss / batch;
}

static void row(void *ctx, network *net, int b, double loss, int validate, char *line, size_t n)
{
    snprintf(line, n, "%d,%s,%.6g\n", b, validate ? "valid" : "-", loss);
}

static void progress(void *ctx, network *net, double loss, double avg, char *line, size_t n)
{
    snprintf(line, n, "loss %.4f  avg %.4f", loss, avg);
}

static const trainer_ops ops = {fill, ce_delta, row, progress};
static char dir[] = "/tmp/inv-test-trainer-XXXXXX", *cfg;

// One run into dir/name until max_batches (or t->stop); returns 1 when it resumed.
static int run(const char *name, int stop, int *resumed_at)
{
    char out[4096];
    snprintf(out, sizeof out, "%s/%s", dir, name);
    toy t = {make_pool(1, SIDE, SIDE), {0}, stop};
    float img[SIDE * SIDE];
    for (int i = 0; i < N; ++i) {
        for (int p = 0; p < SIDE * SIDE; ++p) img[p] = (float)((i * 7 + p * 3) % 11) / 10.f;
        pool_add(&t.pool, img, i % C);
    }
    synth_pool sp = {.out = out, .pool = &t.pool, .nlisted = N};
    trainer tr = {.verb = "test", .out = out, .csv_name = "train.csv", .csv_header = "batch,valid,loss\n",
                  .weights_name = "final.weights", .ops = &ops, .ctx = &t, .seed = 5, .sp = &sp,
                  .pool_required = 1, .backup_every = BACKUP, .valid_every = VALID};
    srand(3);
    tr.net = load_checked_network(cfg, trainer_weights(&tr, NULL), 0, LAYERS_TRAIN);
    make_student_dirs(out);
    int resumed = trainer_start(&tr);
    if (resumed_at) *resumed_at = resumed ? tr.resume.batches : -1;
    trainer_run(&tr);
    free_trainer(&tr);
    free_network(tr.net);
    free_pool(&t.pool);
    return resumed;
}

// Runs run() in a child; its exit status (-1: killed by a signal).
static int run_in_child(const char *name, int stop)
{
    pid_t pid = fork();
    if (pid == 0) {
        freopen("/dev/null", "w", stderr);
        run(name, stop, NULL);
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *path(const char *name, const char *file)
{
    static char buf[4][4096];
    static int i;
    i = (i + 1) % 4;
    snprintf(buf[i], sizeof buf[i], "%s/%s/%s", dir, name, file);
    return buf[i];
}

static int same_file(const char *a, const char *b)
{
    size_t na, nb;
    char *x = read_whole_file(a, "file", 64, &na), *y = read_whole_file(b, "file", 64, &nb);
    int same = na == nb && !memcmp(x, y, na);
    free(x);
    free(y);
    return same;
}

static void append(const char *file, const char *text)
{
    FILE *f = fopen(file, "a");
    if (!f) { perror(file); exit(2); }
    fputs(text, f);
    fclose(f);
}

int main(void)
{
    if (!mkdtemp(dir)) { perror("mkdtemp"); return 2; }
    char cfgpath[4096];
    snprintf(cfgpath, sizeof cfgpath, "%s/toy.cfg", dir);
    append(cfgpath, CFG_TEXT);
    cfg = cfgpath;
    // Stopped runs first, in children, before this process starts any threads.
    CHECK(run_in_child("stopped", STOP) == 0, "the stopped run failed");
    CHECK(run_in_child("torn", STOP) == 0, "the second stopped run failed");
    mkdir(path("damaged", ""), 0755);
    mkdir(path("damaged", "backup"), 0755);
    append(path("damaged", "backup/state"), "batches=x\n");
    CHECK(run_in_child("damaged", 0) == 1, "a damaged backup/state is not refused");

    CHECK(run("whole", 0, NULL) == 0, "a fresh folder resumed");
    size_t len;
    char *csv = read_whole_file(path("whole", "train.csv"), "csv", 1, &len);
    int rows = 0, valid = 0;
    for (char *l = strchr(csv, '\n'); l && l[1]; l = strchr(l + 1, '\n')) {
        int b = 0;
        char mark[8] = "";
        sscanf(l + 1, "%d,%7[^,]", &b, mark);
        ++rows;
        CHECK(b == rows, "row %d holds batch %d", rows, b);
        int v = !strcmp(mark, "valid");
        valid += v;
        CHECK(v == (b % VALID == 0 || b == MAX), "batch %d evaluated: %d", b, v);
    }
    CHECK(rows == MAX && valid == 3, "%d rows, %d evaluated", rows, valid);
    free(csv);
    char *state = read_whole_file(path("whole", "backup/state"), "state", 1, &len);
    CHECK(!strncmp(state, "batches=15\n", 11), "last backup: %s", state);
    free(state);
    CHECK(file_exists(path("whole", "backup/student-0000015.weights")) && file_exists(path("whole", "backup/momentum-0000015.bin")),
          "the backup at 15 is missing");
    CHECK(!file_exists(path("whole", "backup/student-0000010.weights")) && !file_exists(path("whole", "backup/momentum-0000010.bin")),
          "the backup at 10 was not removed");
    CHECK(file_exists(path("whole", "final.weights")) && file_exists(path("whole", "pool.list")), "final files missing");

    // Stopped before batch 12: the backup at 10 is the resume point.
    int at;
    CHECK(run("stopped", 0, &at) == 1 && at == 10, "resumed at %d", at);
    CHECK(same_file(path("whole", "final.weights"), path("stopped", "final.weights")), "resumed weights differ");
    CHECK(same_file(path("whole", "train.csv"), path("stopped", "train.csv")), "resumed csv differs");

    // Stopped while writing the next backup: the CSV holds rows past the
    // state's batch and a weights file of the next backup is torn.
    append(path("torn", "train.csv"), "11,-,9\n12,-,9\n");
    append(path("torn", "backup/student-0000015.weights"), "torn");
    CHECK(run("torn", 0, &at) == 1 && at == 10, "resumed at %d", at);
    CHECK(same_file(path("whole", "final.weights"), path("torn", "final.weights")), "weights after a torn backup differ");
    CHECK(same_file(path("whole", "train.csv"), path("torn", "train.csv")), "csv after a torn backup differs");

    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", dir);
    return test_summary();
}
