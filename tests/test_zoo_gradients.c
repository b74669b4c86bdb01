// The input gradient of the whole DeepInversion loss (cross-entropy, BN
// statistics, priors) against finite differences through every classifier
// cfg Debian's darknet ships, at a reduced input size: a copy of the cfg with
// width/height set to SIZE (and [crop] sizes SIZE - 8), random parameters and
// trained-looking BN statistics. Each network runs in a child process, so that
// one that is refused or crashes is named and the others still run.
//   test_zoo_gradients [net or path/to.cfg ...]   (default: the whole zoo)
#include <errno.h>
#include <sys/wait.h>

#include "bn_calibrate.h"
#include "load_network.h"
#include "fdcheck.h"
#include "icfg.h"
#include "util.h"

#define ZOO_DIR "/usr/share/darknet/cfg/"
// The reduced input size (ZOO_SIZE overrides, to look at a failure).
static int SIZE = 64;

static const char *zoo[] = {
    "alexnet", "cifar", "darknet", "darknet19", "darknet19_448", "darknet53", "darknet53_448",
    "densenet201", "extraction", "extraction22k", "resnet18", "resnet34", "resnet50", "resnet101",
    "resnet152", "resnext50", "resnext101-32x4d", "resnext152-32x4d", "strided", "tiny", "vgg-16",
};

// The cfg's text with its input size (when above SIZE) and crop sizes reduced.
static char *reduced_cfg(const char *path, int *size)
{
    FILE *f = fopen(path, "r");
    if (!f) { fprintf(stderr, "cannot open %s: %s\n", path, strerror(errno)); return NULL; }
    size_t cap = 1 << 16, len = 0;
    char *out = malloc(cap), line[4096];
    int w = 0;
    while (fgets(line, sizeof line, f)) {
        const char *t = line + strspn(line, " \t");   // Darknet ignores whitespace
        if (!strncmp(t, "width=", 6)) w = atoi(t + 6);
    }
    *size = w > SIZE ? SIZE : w;
    rewind(f);
    while (fgets(line, sizeof line, f)) {
        char buf[4200];
        const char *t = line + strspn(line, " \t");
        if (w > SIZE && (!strncmp(t, "width=", 6) || !strncmp(t, "height=", 7)))
            snprintf(buf, sizeof buf, "%.*s=%d\n", (int)(strchr(t, '=') - t), t, SIZE);
        else if (w > SIZE && (!strncmp(t, "crop_width=", 11) || !strncmp(t, "crop_height=", 12)))
            snprintf(buf, sizeof buf, "%.*s=%d\n", (int)(strchr(t, '=') - t), t, SIZE - 8);
        else
            snprintf(buf, sizeof buf, "%s", line);
        size_t n = strlen(buf);
        if (len + n + 1 > cap) out = realloc(out, cap *= 2);
        memcpy(out + len, buf, n + 1);
        len += n;
    }
    fclose(f);
    return out;
}

// One network, in the child: the total loss with every term on, the gradient
// direction and two random ones. A deep leaky/ReLU network crosses many kinks
// along any finite step, and along the gradient the slopes beyond them are
// smaller, so finite differences fall short of it: steps down to 3e-6, and
// tolerances of 5% along the gradient and 15% along random directions (whose
// derivatives are compared absolutely below 5% of a typical one). The mistakes
// this guards against (a layer's backward off by a factor, a lost branch)
// are far larger.
static void check_zoo_network(const char *name)
{
    char path[256], label[64];
    if (strchr(name, '/')) snprintf(path, sizeof path, "%s", name);   // a cfg outside the zoo
    else snprintf(path, sizeof path, ZOO_DIR "%s.cfg", name);
    int size;
    char *text = reduced_cfg(path, &size);
    CHECK(text != NULL, "%s: cfg readable", name);
    if (!text) return;
    char *cfg = write_temp(text, ".cfg");
    int batch = 2;
    srand(1);   // Darknet's initialisation draws from rand()
    network *net = load_checked_network(cfg, NULL, batch, LAYERS_FROZEN);
    calibrate_bn(net);
    frozen_net *f = make_frozen_net(net, cfg);
    inversion_params p = default_inversion_params();
    p.batch = batch;
    p.class_weight = 1; p.bn_stat_weight = 0.05; p.bn_stat_first_multiplier = 10; p.prior_tv_l1 = 0.3; p.prior_tv_l2 = 0.1; p.prior_l2 = 0.2;
    synth *s = make_synth(f, NULL, &p);
    snprintf(label, sizeof label, "%s at %dx%d", name, size, size);
    fd_nsteps = 8;
    fd_floor = 5e-2;
    check_synth_dirs(s, label, "total", 0, 2, 0, 5e-2);
    free_synth(s);
    free_frozen_net(f);
    free_network(net);
    unlink(cfg);
    free(cfg);
    free(text);
}

int main(int argc, char **argv)
{
    if (getenv("ZOO_SIZE")) SIZE = atoi(getenv("ZOO_SIZE"));
    int n = argc > 1 ? argc - 1 : (int)(sizeof zoo / sizeof *zoo);
    for (int i = 0; i < n; ++i) {
        const char *name = argc > 1 ? argv[i + 1] : zoo[i];
        int fds[2];
        if (pipe(fds)) { perror("pipe"); return 2; }
        fflush(stdout); fflush(stderr);
        pid_t pid = fork();
        if (pid == 0) {
            close(fds[0]);
            tests_passed = tests_failed = 0;
            check_zoo_network(name);
            dprintf(fds[1], "%d %d\n", tests_passed, tests_failed);
            _exit(0);
        }
        close(fds[1]);
        char buf[64] = "";
        ssize_t got = read(fds[0], buf, sizeof buf - 1);
        close(fds[0]);
        int status = 0;
        waitpid(pid, &status, 0);
        int p = 0, fl = 0;
        if (got > 0 && sscanf(buf, "%d %d", &p, &fl) == 2 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
            tests_passed += p;
            tests_failed += fl;
            if (fl) printf("FAIL %s: %d of %d checks failed\n", name, fl, p + fl);
            else printf("ok %s (%d checks)\n", name, p);
        } else {
            // Refused (inv_die names file, line and layer on stderr above) or crashed.
            ++tests_failed;
            fprintf(stderr, "FAIL %s: %s %d before finishing its checks\n", name,
                    WIFSIGNALED(status) ? "killed by signal" : "exited with status",
                    WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
        }
    }
    return test_summary();
}
