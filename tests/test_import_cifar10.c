// import-cifar10 on small binary-version files written here: every pixel of
// every PNG equals its record's plane bytes, labels land in the file names,
// the lists and .data are Darknet's; the .tar.gz gives the same files as the
// folder; a partial record, a label outside 0..9 and a folder without the
// files are refused with the file named.
#include <sys/stat.h>

#include <stb_image.h>

#include "testlib.h"

#define SIDE 32
#define RECORD (1 + 3 * SIDE * SIDE)

static const char *labels[10] = {"airplane", "automobile", "bird", "cat", "deer",
                                 "dog", "frog", "horse", "ship", "truck"};

// Record r of file f: label (f + r) % 10, pixel bytes from a simple hash.
static unsigned char pixel(int f, int r, int i) { return (unsigned char)((f * 131 + r * 31 + i * 7 + (i >> 5)) & 255); }

static void write_bin(const char *path, int f, int records, int extra)
{
    FILE *o = fopen(path, "wb");
    for (int r = 0; r < records; ++r) {
        fputc((f + r) % 10, o);
        for (int i = 0; i < 3 * SIDE * SIDE; ++i) fputc(pixel(f, r, i), o);
    }
    for (int i = 0; i < extra; ++i) fputc(1, o);
    fclose(o);
}

static int run(const char *cmd, char *err, size_t n)
{
    char full[8192];
    snprintf(full, sizeof full, "%s 2>%s.err >/dev/null", cmd, "/tmp/inv-cifar-test");
    int rc = system(full);
    FILE *f = fopen("/tmp/inv-cifar-test.err", "r");
    size_t got = f ? fread(err, 1, n - 1, f) : 0;
    err[got] = 0;
    if (f) fclose(f);
    return rc;
}

// Checks out/<split>/NNNNN_<label>.png of file f's records, numbered from `first`.
static void check_images(const char *out, const char *split, int f, int records, int first)
{
    for (int r = 0; r < records; ++r) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s/%05d_%s.png", out, split, first + r, labels[(f + r) % 10]);
        int w, h, c;
        unsigned char *px = stbi_load(path, &w, &h, &c, 3);
        CHECK(px && w == SIDE && h == SIDE, "%s: a 32x32 image", path);
        if (!px) continue;
        int bad = 0;
        for (int ch = 0; ch < 3; ++ch)
            for (int p = 0; p < SIDE * SIDE; ++p) bad += px[p * 3 + ch] != pixel(f, r, ch * SIDE * SIDE + p);
        CHECK(bad == 0, "%s: %d pixel bytes differ from the record's planes", path, bad);
        stbi_image_free(px);
    }
}

static int same_file(const char *a, const char *b)
{
    char cmd[8400];
    snprintf(cmd, sizeof cmd, "cmp -s %s %s", a, b);
    return system(cmd) == 0;
}

int main(void)
{
    // The program under test (make sanitize runs the suite on ./darknet-asan).
    const char *darknet = getenv("DARKNET") ? getenv("DARKNET") : "./darknet";
    // A scratch folder whose random name holds no label (Darknet's substring rule).
    char dir[64];
    for (int named = 0; !named;) {
        snprintf(dir, sizeof dir, "/tmp/inv-c10-XXXXXX");
        if (!mkdtemp(dir)) { perror("mkdtemp"); return 2; }
        named = 1;
        for (int k = 0; k < 10; ++k) named &= !strstr(dir, labels[k]);
        if (!named) rmdir(dir);
    }
    char bin[4096], path[4096], out[4096], cmd[8192], err[4096];
    snprintf(bin, sizeof bin, "%s/cifar-10-batches-bin", dir);
    mkdir(bin, 0777);
    int counts[6] = {3, 2, 1, 2, 4, 5};   // data_batch_1..5, test_batch
    for (int f = 0; f < 5; ++f) {
        snprintf(path, sizeof path, "%s/data_batch_%d.bin", bin, f + 1);
        write_bin(path, f, counts[f], 0);
    }
    snprintf(path, sizeof path, "%s/test_batch.bin", bin);
    write_bin(path, 5, counts[5], 0);

    // The folder (given as its parent: the wrapping folder is found).
    snprintf(out, sizeof out, "%s/set", dir);
    snprintf(cmd, sizeof cmd, "%s inversion import-cifar10 %s %s", darknet, dir, out);
    CHECK(run(cmd, err, sizeof err) == 0, "import from a folder: %s", err);
    int first = 0;
    for (int f = 0; f < 5; first += counts[f], ++f) check_images(out, "train", f, counts[f], first);
    check_images(out, "test", 5, counts[5], 0);
    snprintf(path, sizeof path, "wc -l < %s/train.list | grep -qx 12 && wc -l < %s/test.list | grep -qx 5", out, out);
    CHECK(system(path) == 0, "train.list has 12 lines and test.list 5");
    snprintf(path, sizeof path, "%s/cifar10.data", out);
    FILE *f = fopen(path, "r");
    char text[4096] = {0};
    if (f) { (void)!fread(text, 1, sizeof text - 1, f); fclose(f); }
    CHECK(strstr(text, "classes=10\n") && strstr(text, "/train.list\n") && strstr(text, "valid=") &&
              strstr(text, "labels="), "cifar10.data: %s", text);
    snprintf(path, sizeof path, "%s/labels.txt", out);
    f = fopen(path, "r");
    memset(text, 0, sizeof text);
    if (f) { (void)!fread(text, 1, sizeof text - 1, f); fclose(f); }
    CHECK(!strcmp(text, "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n"), "labels.txt: %s", text);

    // The .tar.gz, read through tar: the same images.
    char archive[4096], out2[4096];
    snprintf(archive, sizeof archive, "%s/cifar-10-binary.tar.gz", dir);
    snprintf(cmd, sizeof cmd, "tar -czf %s -C %s cifar-10-batches-bin", archive, dir);
    CHECK(system(cmd) == 0, "tar writes the archive");
    snprintf(out2, sizeof out2, "%s/set2", dir);
    snprintf(cmd, sizeof cmd, "%s inversion import-cifar10 %s %s", darknet, archive, out2);
    CHECK(run(cmd, err, sizeof err) == 0, "import from the archive: %s", err);
    char a[4200], b[4200];
    snprintf(a, sizeof a, "%s/train/00011_%s.png", out, labels[(4 + 3) % 10]);
    snprintf(b, sizeof b, "%s/train/00011_%s.png", out2, labels[(4 + 3) % 10]);
    CHECK(same_file(a, b), "archive and folder give the same last training image");
    check_images(out2, "test", 5, counts[5], 0);

    // Bad input: each refused, naming the file.
    snprintf(path, sizeof path, "%s/test_batch.bin", bin);
    write_bin(path, 5, 2, 100);
    snprintf(cmd, sizeof cmd, "%s inversion import-cifar10 %s %s/bad1", darknet, bin, dir);
    CHECK(run(cmd, err, sizeof err) != 0 && strstr(err, "test_batch.bin") && strstr(err, "whole number of 3073-byte records"),
          "a partial record is refused: %s", err);
    write_bin(path, 5, 2, 0);
    FILE *o = fopen(path, "r+b");
    fseek(o, RECORD, SEEK_SET);
    fputc(10, o);
    fclose(o);
    CHECK(run(cmd, err, sizeof err) != 0 && strstr(err, "test_batch.bin: record 1 has label 10"),
          "a label outside 0..9 is refused: %s", err);
    snprintf(cmd, sizeof cmd, "%s inversion import-cifar10 %s %s/bad2", darknet, out, dir);
    CHECK(run(cmd, err, sizeof err) != 0 && strstr(err, "holds no test_batch.bin"), "a folder without the files: %s", err);
    snprintf(cmd, sizeof cmd, "%s inversion import-cifar10 %s %s/cat", darknet, bin, dir);
    CHECK(run(cmd, err, sizeof err) != 0 && strstr(err, "contains the label string 'cat'"),
          "an out_dir holding a label is refused: %s", err);

    snprintf(cmd, sizeof cmd, "rm -rf %s /tmp/inv-cifar-test.err", dir);
    (void)!system(cmd);
    return test_summary();
}
