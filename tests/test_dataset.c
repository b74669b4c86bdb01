// Labelled image lists and .data files: pixel layout, Darknet's substring
// label rule, and the errors (exit 1, never Darknet's silent exit(0)).
#include <math.h>
#include <sys/wait.h>

#include <stb_image_write.h>

#include "dataset.h"
#include "testlib.h"

static char dir[] = "/tmp/inv-test-dataset-XXXXXX";

static char *path_in_dir(const char *name)
{
    char *p = malloc(strlen(dir) + strlen(name) + 2);
    sprintf(p, "%s/%s", dir, name);
    return p;
}

static void write_png(const char *name, int w, int h, int c, unsigned char base)
{
    unsigned char pix[64 * 3];
    for (int i = 0; i < w * h * c; ++i) pix[i] = (unsigned char)(base + i);
    char *p = path_in_dir(name);
    if (!stbi_write_png(p, w, h, c, pix, w * c)) { perror(p); exit(2); }
    free(p);
}

static char *write_file(const char *name, const char *text)
{
    char *p = path_in_dir(name);
    FILE *f = fopen(p, "w");
    if (!f) { perror(p); exit(2); }
    fputs(text, f);
    fclose(f);
    return p;
}

static char *labels[] = {"cat", "dog"};

// Runs a loader in a child; true when it exits 1 (a clear error, not a crash).
// Frees list (a path from write_file).
static int dies(char *list, int w)
{
    pid_t pid = fork();
    if (pid == 0) {
        freopen("/dev/null", "w", stderr);
        load_labelled_list(list, labels, 2, w, 2, 3);
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    free(list);
    return WIFEXITED(st) && WEXITSTATUS(st) == 1;
}

int main(void)
{
    if (!mkdtemp(dir)) { perror("mkdtemp"); return 2; }
    write_png("0_cat.png", 3, 2, 1, 10);      // grayscale
    write_png("1_dog.png", 3, 2, 3, 100);     // RGB
    write_png("2_cat.png", 4, 2, 1, 0);       // wrong size
    char list[512];
    snprintf(list, sizeof list, "%s/0_cat.png\n\n  %s/1_dog.png \n", dir, dir);
    char *good = write_file("good.list", list);

    labelled_set s = load_labelled_list(good, labels, 2, 3, 2, 3);
    CHECK(s.n == 2 && s.y[0] == 0 && s.y[1] == 1, "n %d labels %d %d", s.n, s.y[0], s.y[1]);
    // Gray replicated into every plane, CHW order.
    CHECK(fabsf(labelled_image(&s, 0)[0] - 10 / 255.f) < 1e-6 && fabsf(labelled_image(&s, 0)[6] - 10 / 255.f) < 1e-6
          && fabsf(labelled_image(&s, 0)[13] - 11 / 255.f) < 1e-6, "grayscale replicated");
    // RGB interleaved -> planar: pixel 1's green is byte 4.
    CHECK(fabsf(labelled_image(&s, 1)[6 + 1] - 104 / 255.f) < 1e-6, "planar RGB: %g", labelled_image(&s, 1)[7] * 255);
    free_labelled_set(&s);
    s = load_labelled_list(good, labels, 2, 3, 2, 1);
    CHECK(s.c == 1 && fabsf(labelled_image(&s, 0)[2] - 12 / 255.f) < 1e-6, "one channel of gray");
    free_labelled_set(&s);

    // Another size: scaled to cover the network's input, then centre-cropped
    // (Darknet's single-crop validation). 4x2 gray into 2x2: no scaling,
    // columns 1 and 2 of each row.
    snprintf(list, sizeof list, "%s/2_cat.png\n", dir);
    char *size_list = write_file("size.list", list);
    s = load_labelled_list(size_list, labels, 2, 2, 2, 3);
    const float *x = labelled_image(&s, 0);
    CHECK(s.n == 1 && fabsf(x[0] - 1 / 255.f) < 1e-6 && fabsf(x[1] - 2 / 255.f) < 1e-6 && fabsf(x[2] - 5 / 255.f) < 1e-6
          && fabsf(x[3] - 6 / 255.f) < 1e-6 && fabsf(x[4 + 3] - 6 / 255.f) < 1e-6,
          "centre crop: %g %g %g %g", x[0] * 255, x[1] * 255, x[2] * 255, x[3] * 255);
    free_labelled_set(&s);
    // 4x2 into 4x4: scaled to 8x4 (bilinear), then columns 2..5; values stay
    // within the image's range and each row increases left to right.
    s = load_labelled_list(size_list, labels, 2, 4, 4, 1);
    x = labelled_image(&s, 0);
    int monotone = 1, in_range = 1;
    for (int i = 0; i < 16; ++i) in_range &= x[i] >= -1e-6f && x[i] <= 7 / 255.f + 1e-6f;
    for (int r = 0; r < 4; ++r)
        for (int c = 1; c < 4; ++c) monotone &= x[r * 4 + c] >= x[r * 4 + c - 1] - 1e-6f;
    CHECK(s.n == 1 && in_range && monotone && x[3] > x[0], "upscaled crop: %g .. %g", x[0] * 255, x[3] * 255);
    free_labelled_set(&s);
    free(size_list);
    snprintf(list, sizeof list, "%s/missing_cat.png\n", dir);
    CHECK(dies(write_file("missing.list", list), 3), "unreadable image must die");
    write_png("3_catdog.png", 3, 2, 1, 0);
    snprintf(list, sizeof list, "%s/3_catdog.png\n", dir);
    CHECK(dies(write_file("two.list", list), 3), "two matching labels must die");
    write_png("4_bird.png", 3, 2, 1, 0);
    snprintf(list, sizeof list, "%s/4_bird.png\n", dir);
    CHECK(dies(write_file("none.list", list), 3), "no matching label must die");

    char *lab = write_file("labels.txt", "cat\ndog\n");
    char text[1024];
    snprintf(text, sizeof text, "classes = 2\ntrain=%s\n# comment\nlabels=%s\n", good, lab);
    char *data = write_file("x.data", text);
    classifier_data d = read_classifier_data(data);
    CHECK(d.classes == 2 && !strcmp(d.labels[1], "dog") && d.train && !strcmp(d.train, good) && !d.valid, "data file");
    CHECK(!strcmp(classifier_list(&d, "train"), good), "train list");
    free_classifier_data(&d);
    free(data); free(lab); free(good);

    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -r %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return test_summary();
}
