// The checks before Darknet's parser, on buffers: section errors with file and
// line, the [net] batch override, NUL bytes, long lines; weights file sizes.
#include "load_network.h"
#include "testlib.h"

static int fails(const char *text, int batch, layer_set allowed, const char *msg)
{
    char err[512], *copy = NULL;
    int rc = check_cfg_text(text, strlen(text), "x.cfg", batch, allowed, &copy, err, sizeof err);
    if (rc == 0) { free(copy); return 0; }
    if (!strstr(err, msg)) { fprintf(stderr, "message: %s\n", err); return 0; }
    return copy == NULL;
}

int main(void)
{
    const char *cfg = "[net]\nbatch=128\n subdivisions = 4\nwidth=4\n# c\n[convolutional]\nfilters=2\nbatch=9\n[softmax]";
    char err[512], *copy = NULL;
    CHECK(check_cfg_text(cfg, strlen(cfg), "x.cfg", 0, LAYERS_FROZEN, &copy, err, sizeof err) == 0, "%s", err);
    CHECK(copy && !strcmp(copy, cfg), "batch <= 0 keeps the text: %s", copy);
    free(copy);
    CHECK(check_cfg_text(cfg, strlen(cfg), "x.cfg", 3, LAYERS_FROZEN, &copy, err, sizeof err) == 0, "%s", err);
    CHECK(copy && !strcmp(copy, "[net]\nbatch=3\nsubdivisions=1\nwidth=4\n# c\n[convolutional]\nfilters=2\nbatch=9\n[softmax]"),
          "batch replaced in [net] only: %s", copy);
    free(copy);
    CHECK(check_cfg_text(cfg, strlen(cfg), "x.cfg", 3, LAYERS_FROZEN, NULL, err, sizeof err) == 0, "no copy wanted");

    CHECK(fails("[net]\n[conv]\n[softmaxx]\n", 0, LAYERS_TRAIN, "x.cfg:3: unknown section [softmaxx]"), "unknown section");
    CHECK(fails("[net]\n[conv\n", 0, LAYERS_TRAIN, "x.cfg:2: malformed section header '[conv'"), "malformed header");
    CHECK(fails("[conv]\n[net]\n", 0, LAYERS_TRAIN, "x.cfg:1: the first section must be [net], not [conv]"), "net first");
    CHECK(fails("[net]\n[conv]\n[network]\n", 0, LAYERS_TRAIN, "x.cfg:3: a second [network] section"), "two nets");
    CHECK(fails("[net]\n[conv]\n[yolo]\n", 0, LAYERS_FROZEN, "x.cfg:3: layer 1 [yolo] is not supported"), "frozen set");
    CHECK(!fails("[net]\n[conv]\n[yolo]\n", 0, LAYERS_TRAIN, "x"), "training set takes [yolo]");
    CHECK(!fails("[net]\n[crop]\ncrop_height=2\ncrop_width=2\n[conv]\n", 0, LAYERS_FROZEN, "x"), "frozen set takes [crop]");
    CHECK(fails("[net]\n[crop]\ncrop_height=0\n", 0, LAYERS_FROZEN, "x.cfg:3: [crop] crop_height=0: must be a positive integer"),
          "crop height 0");
    // A softmax tree (darknet9000.cfg): Darknet reads the tree file while
    // parsing; refused first, for every layer set.
    CHECK(fails("[net]\n[conv]\n[avgpool]\n\n[softmax]\ngroups=1\n tree = data/9k.tree\n[cost]\n", 0, LAYERS_FROZEN,
                "x.cfg:7: layer 2 [softmax] tree=data/9k.tree: hierarchical softmax (a softmax tree) is not supported"),
          "softmax tree");
    CHECK(fails("[net]\n[conv]\n[soft]\ntree=\n", 0, LAYERS_TRAIN, "x.cfg:4: layer 1 [soft] tree=: hierarchical softmax"),
          "softmax tree, training set, empty value");
    CHECK(!fails("[net]\n[conv]\ntree=1\n[softmax]\n#tree=x\n", 0, LAYERS_FROZEN, "x"), "tree= elsewhere or commented out");
    CHECK(fails("width=3\n", 0, LAYERS_TRAIN, "x.cfg: no [net] section"), "no net");
    CHECK(fails("[net]\nwidth=3\n", 0, LAYERS_TRAIN, "x.cfg: the cfg has no layers"), "no layers");
    CHECK(fails("", 0, LAYERS_TRAIN, "x.cfg: no [net] section"), "empty");
    // Values Darknet's parser would divide by or crash on.
    CHECK(fails("[net]\nwidth=0\n[conv]\n", 0, LAYERS_TRAIN, "x.cfg:2: [net] width=0: must be a positive integer"), "width 0");
    CHECK(fails("[net]\n[conv]\ngroups = 0\n", 0, LAYERS_TRAIN, "x.cfg:3: [conv] groups=0: must be a positive integer"), "groups 0");
    CHECK(fails("[net]\n[convolutional]\nfilters=-3\n", 0, LAYERS_TRAIN, "[convolutional] filters=-3"), "negative filters");
    CHECK(fails("[net]\n[connected]\noutput=abc\n", 0, LAYERS_TRAIN, "[connected] output=abc"), "output not a number");
    CHECK(fails("[net]\n[maxpool]\nstride=99999999999\n", 0, LAYERS_TRAIN, "[maxpool] stride=99999999999"), "huge stride");
    CHECK(!fails("[net]\nwidth=28\n[upsample]\nstride=-2\n[shortcut]\nfrom=-3\n[route]\nlayers=-1,-4\n", 0, LAYERS_TRAIN, "x"),
          "negative values where Darknet means them");
    CHECK(check_cfg_text("[net]\n\0[conv]\n", 14, "x.cfg", 0, LAYERS_TRAIN, NULL, err, sizeof err) == -1
          && strstr(err, "NUL byte"), "NUL byte: %s", err);
    // A line longer than any buffer is one line: the next is still line 3.
    size_t n = 100000;
    char *big = malloc(n + 64);
    strcpy(big, "[net]\n#");
    memset(big + 7, 'a', n);
    strcpy(big + 7 + n, "\n[nope]\n");
    CHECK(fails(big, 0, LAYERS_TRAIN, "x.cfg:3: unknown section [nope]"), "long line");
    free(big);
    // Messages are truncated to the buffer, never overrun.
    char small[6];
    CHECK(check_cfg_text("[x]", 3, "x.cfg", 0, LAYERS_TRAIN, NULL, small, sizeof small) == -1 && !strcmp(small, "x.cfg"), "%s", small);

    // Weights: a network with known size, files of every kind.
    char *tiny = write_temp("[net]\nwidth=4\nheight=4\nchannels=1\n[convolutional]\nbatch_normalize=1\nfilters=2\nsize=3\npad=1\n"
                            "[connected]\noutput=3\n[softmax]\n", ".cfg");
    network *net = load_checked_network(tiny, NULL, 1, LAYERS_FROZEN);
    size_t want = expected_weights_bytes(net);
    CHECK(want == 20 + 4 * (2 * 4 + 18 + 3 + 3 * 32), "expected %zu bytes", want);
    char *w = malloc(want + 16);
    memset(w, 0, want + 16);
    int header[3] = {0, 2, 0};
    memcpy(w, header, sizeof header);
    char path[] = "/tmp/inv-test-check-XXXXXX";
    int fd = mkstemp(path);
    struct { size_t size; const char *msg; } cases[] = {
        {want, NULL}, {want - 1, "the file ends inside layer 1 (connected, 396 bytes from offset 124)"},
        {want + 4, "4 bytes left after the last layer"}, {8, "truncated header (8 bytes)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; ++i) {
        if (ftruncate(fd, 0) != 0 || pwrite(fd, w, cases[i].size, 0) != (ssize_t)cases[i].size) return 2;
        int rc = check_weights_file_size(net, "tiny.cfg", path, err, sizeof err);
        if (!cases[i].msg) CHECK(rc == 0, "exact size accepted: %s", err);
        else CHECK(rc == -1 && strstr(err, cases[i].msg), "size %zu: %s", cases[i].size, err);
    }
    const char *text = "[net]\nwidth=28\n";
    if (ftruncate(fd, 0) != 0 || pwrite(fd, text, strlen(text), 0) != (ssize_t)strlen(text)) return 2;
    CHECK(check_weights_file_size(net, "tiny.cfg", path, err, sizeof err) == -1 && strstr(err, "not a Darknet weights file"),
          "a cfg given as weights: %s", err);
    header[0] = 0, header[1] = 1;   // version 0.1: a 4-byte "seen"
    memcpy(w, header, sizeof header);
    if (ftruncate(fd, 0) != 0 || pwrite(fd, w, want - 4, 0) != (ssize_t)(want - 4)) return 2;
    CHECK(check_weights_file_size(net, "tiny.cfg", path, err, sizeof err) == 0, "old header: %s", err);
    close(fd);
    unlink(path);
    unlink(tiny);
    free(tiny);
    free(w);
    free_network(net);
    return test_summary();
}
