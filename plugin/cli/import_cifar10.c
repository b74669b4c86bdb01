// `darknet inversion import-cifar10 <bin_dir|archive> <out_dir>`: CIFAR-10's
// official binary version (data_batch_1..5.bin, test_batch.bin) becomes a
// Darknet classifier dataset, as import-fmnist does for Fashion-MNIST. The
// JPEG or PNG image-tree versions are import-folder's job.
//
// A record is one label byte (0..9) then 3072 pixel bytes: the red plane,
// the green plane, the blue plane, each 32x32 row by row. The official files
// hold 10,000 records each; any whole number is accepted (tests write small
// files), a partial record is an error naming the file.
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stb_image_write.h>

#include "dataset.h"
#include "inversion.h"
#include "util.h"

#define CIFAR_CLASSES 10
#define CIFAR_SIDE 32
#define CIFAR_PIXELS (3 * CIFAR_SIDE * CIFAR_SIDE)
#define CIFAR_RECORD (1 + CIFAR_PIXELS)

extern char **environ;

// The data set's own class order (batches.meta.txt). No name contains
// another, so Darknet's substring rule finds exactly one in each path.
static const char *cifar_labels[CIFAR_CLASSES] = {
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"
};

static const char *train_files[] = {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                                    "data_batch_4.bin", "data_batch_5.bin"};
static const char *test_files[] = {"test_batch.bin"};

typedef struct {
    unsigned char *data;   // whole records
    size_t n;              // records
} cifar_batch;

// Reads everything from f; `what` names the source in errors.
static unsigned char *read_stream(FILE *f, const char *what, size_t *len)
{
    size_t cap = (size_t)CIFAR_RECORD * 1024, n = 0, got;
    unsigned char *buf = xcalloc(cap, 1);
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            if (cap > ((size_t)1 << 30)) inv_die("%s: larger than 1 GiB, not a CIFAR-10 batch file", what);
            unsigned char *bigger = realloc(buf, cap * 2);
            if (!bigger) inv_die("out of memory reading %s", what);
            buf = bigger;
            cap *= 2;
        }
    }
    if (ferror(f)) inv_die("cannot read %s: %s", what, strerror(errno));
    *len = n;
    return buf;
}

static cifar_batch check_batch(unsigned char *data, size_t len, const char *what)
{
    if (len == 0) inv_die("%s is empty", what);
    if (len % CIFAR_RECORD)
        inv_die("%s: %zu bytes is not a whole number of %d-byte records (truncated, or not the binary version?)",
                what, len, CIFAR_RECORD);
    cifar_batch b = {data, len / CIFAR_RECORD};
    for (size_t i = 0; i < b.n; ++i)
        if (data[i * CIFAR_RECORD] >= CIFAR_CLASSES)
            inv_die("%s: record %zu has label %d, outside 0..9 (the CIFAR-100 binary version has two label bytes)",
                    what, i, data[i * CIFAR_RECORD]);
    return b;
}

// A directory holding the .bin files, directly or in one wrapping folder
// (cifar-10-batches-bin/ as the archive unpacks).
static void find_bin_dir(const char *dir, char *out, size_t n)
{
    snprintf(out, n, "%s/%s", dir, test_files[0]);
    if (file_exists(out)) { snprintf(out, n, "%s", dir); return; }
    snprintf(out, n, "%s/cifar-10-batches-bin/%s", dir, test_files[0]);
    if (file_exists(out)) { snprintf(out, n, "%s/cifar-10-batches-bin", dir); return; }
    inv_die("%s holds no %s (nor cifar-10-batches-bin/%s): expected CIFAR-10's binary version "
            "(for a folder of JPEG/PNG images use import-folder)", dir, test_files[0], test_files[0]);
}

static cifar_batch read_batch_file(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) inv_die("cannot open %s: %s", path, strerror(errno));
    size_t len;
    unsigned char *data = read_stream(f, path, &len);
    fclose(f);
    return check_batch(data, len, path);
}

// One member of a .tar.gz/.tar, streamed from tar (run directly, no shell):
// no temporary copy of the archive's 180 MB.
static cifar_batch read_batch_archive(const char *archive, const char *name)
{
    char pattern[256], what[4400];
    snprintf(pattern, sizeof pattern, "*%s", name);
    snprintf(what, sizeof what, "%s:%s", archive, name);
    int fd[2];
    if (pipe(fd) != 0) inv_die("cannot create a pipe: %s", strerror(errno));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fd[1], 1);
    posix_spawn_file_actions_addclose(&fa, fd[0]);
    char *args[] = {"tar", "-xOf", (char *)archive, "--wildcards", pattern, NULL};
    pid_t pid;
    int err = posix_spawnp(&pid, "tar", &fa, NULL, args, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fd[1]);
    if (err) inv_die("cannot run tar to read %s: %s", archive, strerror(err));
    FILE *f = fdopen(fd[0], "rb");
    if (!f) inv_die("cannot read from tar: %s", strerror(errno));
    size_t len;
    unsigned char *data = read_stream(f, what, &len);
    fclose(f);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) inv_die("waiting for tar: %s", strerror(errno));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        inv_die("%s: tar could not read %s from it (is it CIFAR-10's binary version?)", archive, name);
    return check_batch(data, len, what);
}

// Writes out_dir/<split>/NNNNN_<label>.png for every record of the files,
// then out_dir/<split>.list (atomically: the list is what says the split is
// complete). Returns the number of images.
static size_t write_split(const char *src, int archive, const char *out_dir, const char *split,
                          const char **files, int nfiles)
{
    char dir[4096], list[4096], path[4200];
    snprintf(dir, sizeof dir, "%s/%s", out_dir, split);
    snprintf(list, sizeof list, "%s/%s.list", out_dir, split);
    make_dir(dir);
    atomic_file a = atomic_open(list);
    unsigned char hwc[CIFAR_PIXELS];
    size_t count = 0;
    for (int k = 0; k < nfiles; ++k) {
        cifar_batch b = archive ? read_batch_archive(src, files[k]) : read_batch_file(src, files[k]);
        for (size_t i = 0; i < b.n; ++i, ++count) {
            const unsigned char *r = b.data + i * CIFAR_RECORD;
            for (int c = 0; c < 3; ++c)
                for (int p = 0; p < CIFAR_SIDE * CIFAR_SIDE; ++p) hwc[p * 3 + c] = r[1 + c * CIFAR_SIDE * CIFAR_SIDE + p];
            snprintf(path, sizeof path, "%s/%05zu_%s.png", dir, count, cifar_labels[r[0]]);
            if (!stbi_write_png(path, CIFAR_SIDE, CIFAR_SIDE, 3, hwc, CIFAR_SIDE * 3)) inv_die("cannot write %s", path);
            fprintf(a.f, "%s\n", path);
        }
        fprintf(stderr, "%s: %zu images from %s\n", split, b.n, files[k]);
        free(b.data);
    }
    atomic_commit(&a);
    return count;
}

int run_import_cifar10(int argc, char **argv)
{
    if (wants_help(argc, argv) || argc != 5) {
        fprintf(stderr,
                "usage: %s inversion import-cifar10 <bin_dir|archive> <out_dir>\n"
                "  CIFAR-10's binary version: a folder holding data_batch_1.bin .. data_batch_5.bin and\n"
                "  test_batch.bin (directly or in cifar-10-batches-bin/), or the cifar-10-binary.tar.gz\n"
                "  archive itself (read through tar, nothing extracted). Writes\n"
                "  out_dir/{train,test}/NNNNN_<label>.png, train.list, test.list, labels.txt and\n"
                "  cifar10.data (classes=10; labels airplane automobile bird cat deer dog frog horse ship truck).\n"
                "  For CIFAR-10 as a folder of images (class subfolders, .jpg/.png), use import-folder.\n",
                argv[0]);
        return wants_help(argc, argv) ? 0 : 1;
    }
    const char *src = argv[3], *out_dir = argv[4];
    struct stat st;
    if (stat(src, &st) != 0) inv_die("cannot open %s: %s", src, strerror(errno));
    // A label string inside out_dir would match every image path.
    for (int k = 0; k < CIFAR_CLASSES; ++k)
        if (strstr(out_dir, cifar_labels[k]))
            inv_die("out_dir '%s' contains the label string '%s': Darknet would match it in every image path",
                    out_dir, cifar_labels[k]);
    int archive = !S_ISDIR(st.st_mode);
    char bin_dir[4096];
    if (!archive) find_bin_dir(src, bin_dir, sizeof bin_dir);
    const char *from = archive ? src : bin_dir;
    // The test split first: the smaller read finds a wrong input sooner.
    make_dir(out_dir);
    size_t ntest = write_split(from, archive, out_dir, "test", test_files, 1);
    size_t ntrain = write_split(from, archive, out_dir, "train", train_files, 5);

    write_classifier_data(out_dir, "cifar10", cifar_labels, CIFAR_CLASSES);
    fprintf(stderr, "%s/cifar10.data written: %zu training and %zu test images\n", out_dir, ntrain, ntest);
    return 0;
}
