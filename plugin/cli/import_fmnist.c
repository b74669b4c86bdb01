// `darknet inversion import-fmnist <idx_dir> <out_dir>`: the four raw
// Fashion-MNIST idx files become a Darknet classifier dataset (one PNG per
// image, label string in the file name, list/labels/.data files).
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <stb_image_write.h>

#include "dataset.h"
#include "inversion.h"
#include "util.h"

#define FMNIST_CLASSES 10
#define FMNIST_SIDE 28

// Standard Fashion-MNIST class order. Darknet finds an image's label by
// substring match on its path, so no string may contain another ("shirt"
// would match "t-shirt"): hence "tee" and "boot".
static const char *fmnist_labels[FMNIST_CLASSES] = {
    "tee", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "boot"
};

typedef struct {
    unsigned char *data;
    int n;
} idx_file;

static uint32_t read_be32(FILE *f, const char *path)
{
    unsigned char b[4];
    if (fread(b, 1, 4, f) != 4) inv_die("%s: truncated idx header", path);
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

// Reads an idx file of `n` unsigned bytes per item: magic 0x00000801 for
// labels (dims: count), 0x00000803 for images (dims: count, 28, 28).
static idx_file read_idx(const char *dir, const char *name, int images, int expect_n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) inv_die("cannot open %s: %s (expected the raw, gunzipped idx file)", path, strerror(errno));
    uint32_t magic = read_be32(f, path);
    uint32_t want = images ? 0x803 : 0x801;
    if (magic == 0x1f8b0800 || (magic >> 16) == 0x1f8b) inv_die("%s is gzip-compressed: gunzip it first", path);
    if (magic != want) inv_die("%s: bad idx magic 0x%08x (expected 0x%08x, an %s file)", path, magic, want, images ? "image" : "label");
    uint32_t n = read_be32(f, path);
    if ((int)n != expect_n) inv_die("%s: holds %u items, expected %d", path, n, expect_n);
    size_t item = 1;
    if (images) {
        uint32_t rows = read_be32(f, path), cols = read_be32(f, path);
        if (rows != FMNIST_SIDE || cols != FMNIST_SIDE) inv_die("%s: images are %ux%u, expected 28x28", path, rows, cols);
        item = FMNIST_SIDE * FMNIST_SIDE;
    }
    idx_file r = {xcalloc(n, item), (int)n};
    if (fread(r.data, item, n, f) != n) inv_die("%s: truncated: fewer than %u items of %zu bytes", path, n, item);
    if (fgetc(f) != EOF) inv_die("%s: trailing bytes after %u items", path, n);
    fclose(f);
    if (!images)
        for (int i = 0; i < r.n; ++i)
            if (r.data[i] >= FMNIST_CLASSES) inv_die("%s: item %d has label %d, outside 0..9", path, i, r.data[i]);
    return r;
}

// Writes out_dir/<split>/NNNNN_<label>.png and out_dir/<split>.list.
static void write_split(const char *idx_dir, const char *out_dir, const char *split,
                        const char *images_name, const char *labels_name, int n)
{
    idx_file img = read_idx(idx_dir, images_name, 1, n);
    idx_file lab = read_idx(idx_dir, labels_name, 0, n);
    char dir[4096], list[4096], path[4200];
    snprintf(dir, sizeof dir, "%s/%s", out_dir, split);
    snprintf(list, sizeof list, "%s/%s.list", out_dir, split);
    make_dir(dir);
    atomic_file a = atomic_open(list);
    for (int i = 0; i < n; ++i) {
        snprintf(path, sizeof path, "%s/%05d_%s.png", dir, i, fmnist_labels[lab.data[i]]);
        const unsigned char *pix = img.data + (size_t)i * FMNIST_SIDE * FMNIST_SIDE;
        if (!stbi_write_png(path, FMNIST_SIDE, FMNIST_SIDE, 1, pix, FMNIST_SIDE))
            inv_die("cannot write %s", path);
        fprintf(a.f, "%s\n", path);
    }
    atomic_commit(&a);
    fprintf(stderr, "%s: %d images\n", list, n);
    free(img.data);
    free(lab.data);
}

int run_import_fmnist(int argc, char **argv)
{
    if (wants_help(argc, argv) || argc != 5) {
        fprintf(stderr, "usage: %s inversion import-fmnist <idx_dir> <out_dir>\n"
                "  idx_dir holds the raw (gunzipped) train-images-idx3-ubyte, train-labels-idx1-ubyte,\n"
                "  t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte. Writes out_dir/{train,test}/NNNNN_<label>.png,\n"
                "  train.list, test.list, labels.txt and fmnist.data (classes=10).\n", argv[0]);
        return wants_help(argc, argv) ? 0 : 1;
    }
    const char *idx_dir = argv[3], *out_dir = argv[4];
    // A label string inside out_dir would match every image path.
    for (int k = 0; k < FMNIST_CLASSES; ++k)
        if (strstr(out_dir, fmnist_labels[k]))
            inv_die("out_dir '%s' contains the label string '%s': Darknet would match it in every image path", out_dir, fmnist_labels[k]);
    make_dir(out_dir);
    write_split(idx_dir, out_dir, "train", "train-images-idx3-ubyte", "train-labels-idx1-ubyte", 60000);
    write_split(idx_dir, out_dir, "test", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", 10000);

    write_classifier_data(out_dir, "fmnist", fmnist_labels, FMNIST_CLASSES);
    fprintf(stderr, "%s/fmnist.data written\n", out_dir);
    return 0;
}
