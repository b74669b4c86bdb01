// The class grid: bounded size for ImageNet-size inputs (1000 classes of
// 448x448 RGB), the right classes in the right rows, area-averaged shrinking,
// the 28x28 Fashion-MNIST layout byte for byte as it always was, the PNG size
// guard, and -grid-classes parsing.
#include <sys/stat.h>
#include <sys/wait.h>

#include <stb_image.h>

#include "grid.h"
#include "imageio.h"
#include "testlib.h"
#include "util.h"

static char dir[] = "/tmp/inv-test-grid-XXXXXX";

static char *path_in_dir(const char *name)
{
    char *p = malloc(strlen(dir) + strlen(name) + 2);
    sprintf(p, "%s/%s", dir, name);
    return p;
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) ? -1 : (long)st.st_size;
}

// Exit status of fn(arg) run in a child (inv_die exits 1).
static int child_status(void (*fn)(const void *), const void *arg)
{
    fflush(NULL);
    pid_t pid = fork();
    if (!pid) {
        freopen("/dev/null", "w", stderr);
        fn(arg);
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static unsigned rng_state = 12345;
static float noise(void)
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return (rng_state >> 8) / 16777216.f;
}

// Byte that encodes (class, image index): the image is that uniform value.
static unsigned char code_of(int k, int j) { return (unsigned char)((k * 37 + j * 11 + 5) % 256); }

static void fill(float *im, size_t n, unsigned char v)
{
    for (size_t i = 0; i < n; ++i) im[i] = v / 255.f;
}

// 1000 classes of 448x448 RGB images, three per class, streamed through the
// grid as dream does: only the images the grid wants are made at all.
static void test_imagenet_size(const int *list, int nlist, const char *name)
{
    const int classes = 1000, per = 3, n = classes * per, c = 3, h = 448, w = 448;
    int *labels = xcalloc(n, sizeof(int));
    for (int i = 0; i < n; ++i) labels[i] = i % classes;
    class_grid g = make_class_grid(list, nlist, labels, n, classes, GRID_COLS, c, h, w);
    int rows = nlist ? nlist : GRID_ROWS;
    CHECK(g.rows == rows, "%s: %d rows, expected %d", name, g.rows, rows);
    float *im = xcalloc((size_t)c * h * w, sizeof(float));
    int made = 0, seen[1000] = {0};
    for (int i = 0; i < n; ++i) {
        int k = labels[i], j = seen[k]++;
        if (!class_grid_wants(&g, k)) continue;
        fill(im, (size_t)c * h * w, code_of(k, j));
        class_grid_add(&g, k, im);
        ++made;
    }
    CHECK(made == rows * per, "%s: %d images copied into the grid, expected %d", name, made, rows * per);
    char *path = path_in_dir(name);
    save_class_grid(path, &g);
    int W, H, C;
    unsigned char *px = stbi_load(path, &W, &H, &C, 0);
    CHECK(px != NULL, "%s: grid PNG unreadable", name);
    if (!px) return;
    grid_layout L = class_grid_layout(rows, GRID_COLS, h, w);
    CHECK(W == L.width && H == L.height && C == 3, "%s: %dx%dx%d, layout %dx%d", name, W, H, C, L.width, L.height);
    CHECK(W <= GRID_MAX_SIDE && H <= GRID_MAX_SIDE, "%s: %dx%d exceeds %d", name, W, H, GRID_MAX_SIDE);
    CHECK(L.cell_w < w && L.cell_w == L.cell_h, "%s: cells %dx%d for %dx%d images", name, L.cell_w, L.cell_h, w, h);
    CHECK(file_size(path) > 0 && file_size(path) < 2 << 20, "%s: %ld bytes", name, file_size(path));
    // Row r shows the expected class, its images in order, then background.
    int bad = 0;
    for (int r = 0; r < rows; ++r) {
        int k = nlist ? list[r] : r;
        for (int col = 0; col < GRID_COLS; ++col) {
            int x = GRID_GAP + col * (L.cell_w + GRID_GAP) + L.cell_w / 2, y = GRID_GAP + r * (L.cell_h + GRID_GAP) + L.cell_h / 2;
            unsigned char want = col < per ? code_of(k, col) : 64;
            for (int ch = 0; ch < 3; ++ch) bad += px[((size_t)y * W + x) * 3 + ch] != want;
            // corners of the cell too: a uniform image stays uniform when shrunk
            int x1 = x - L.cell_w / 2, y1 = y - L.cell_h / 2;
            bad += px[((size_t)y1 * W + x1) * 3] != want;
            bad += px[((size_t)(y1 + L.cell_h - 1) * W + x1 + L.cell_w - 1) * 3] != want;
        }
    }
    CHECK(bad == 0, "%s: %d cell pixels of the wrong class or image", name, bad);
    stbi_image_free(px);
    free(im); free(labels); free(path);
    free_class_grid(&g);
}

// A full 10 x 10 grid of 448x448 RGB noise, the worst case for PNG size.
static void test_noise_bound(void)
{
    const int c = 3, h = 448, w = 448, n = GRID_ROWS * GRID_COLS;
    int labels[GRID_ROWS * GRID_COLS];
    for (int i = 0; i < n; ++i) labels[i] = i % GRID_ROWS;
    class_grid g = make_class_grid(NULL, 0, labels, n, GRID_ROWS, GRID_COLS, c, h, w);
    float *im = xcalloc((size_t)c * h * w, sizeof(float));
    for (int i = 0; i < n; ++i) {
        for (size_t p = 0; p < (size_t)c * h * w; ++p) im[p] = noise();
        class_grid_add(&g, labels[i], im);
    }
    char *path = path_in_dir("noise.png");
    save_class_grid(path, &g);
    long size = file_size(path);
    CHECK(size > 0 && size < 8 << 20, "noise grid: %ld bytes", size);
    int W, H, C;
    CHECK(stbi_info(path, &W, &H, &C) && W <= GRID_MAX_SIDE && H <= GRID_MAX_SIDE, "noise grid %dx%d", W, H);
    printf("ok 10x10 grid of 448x448 RGB noise: %dx%d, %.2f MiB\n", W, H, size / 1048576.0);
    free(im); free(path);
    free_class_grid(&g);
}

// Shrinking averages areas: a one-pixel checkerboard halved is flat grey
// (nearest-pixel sampling would keep black and white).
static void test_area_average(void)
{
    const int h = 2 * 151, w = 2 * 151;   // halves exactly into the 151 px cells of a 10-column grid
    grid_layout L = class_grid_layout(1, GRID_COLS, h, w);
    CHECK(L.cell_w == 151 && L.cell_h == 151, "cells %dx%d, expected 151x151", L.cell_w, L.cell_h);
    int label = 0;
    class_grid g = make_class_grid(NULL, 0, &label, 1, 1, GRID_COLS, 1, h, w);
    float *im = xcalloc((size_t)h * w, sizeof(float));
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) im[y * w + x] = (x + y) % 2;
    class_grid_add(&g, 0, im);
    char *path = path_in_dir("checker.png");
    save_class_grid(path, &g);
    int W, H, C;
    unsigned char *px = stbi_load(path, &W, &H, &C, 0);
    int bad = 0;
    for (int y = 0; px && y < L.cell_h; ++y)
        for (int x = 0; x < L.cell_w; ++x) bad += px[(size_t)(GRID_GAP + y) * W + GRID_GAP + x] != 128;
    CHECK(px && C == 1 && bad == 0, "%d shrunk checkerboard pixels are not 128", bad);
    stbi_image_free(px);
    free(im); free(path);
    free_class_grid(&g);
}

// The 28x28 Fashion-MNIST grid as it always was: 10 classes, each image
// doubled, 2 px gaps, grey 64 background: byte for byte.
static void test_fmnist_layout(void)
{
    const int h = 28, w = 28, classes = 10, n = 137, scale = 2, gap = 2, cols = 10;
    float *images = xcalloc((size_t)n * h * w, sizeof(float));
    int labels[137];
    for (int i = 0; i < n; ++i) {
        labels[i] = (i * 7) % classes;
        for (int p = 0; p < h * w; ++p) images[(size_t)i * h * w + p] = noise() * 1.2f - 0.1f;
    }
    char *path = path_in_dir("fmnist.png");
    save_class_grid_of(path, images, labels, n, classes, NULL, 0, 1, h, w);
    // The former drawing, as it was written.
    int W = cols * (w * scale + gap) + gap, H = classes * (h * scale + gap) + gap;
    unsigned char *want = xcalloc((size_t)W * H, 1);
    memset(want, 64, (size_t)W * H);
    int used[10] = {0};
    for (int i = 0; i < n; ++i) {
        int k = labels[i];
        if (used[k] >= cols) continue;
        int x0 = gap + used[k]++ * (w * scale + gap), y0 = gap + k * (h * scale + gap);
        for (int y = 0; y < h * scale; ++y)
            for (int x = 0; x < w * scale; ++x)
                want[(size_t)(y0 + y) * W + x0 + x] = pixel_to_byte(images[(size_t)i * h * w + (y / scale) * w + x / scale]);
    }
    int gw, gh, gc;
    unsigned char *got = stbi_load(path, &gw, &gh, &gc, 0);
    CHECK(got && gw == W && gh == H && gc == 1, "fmnist grid %dx%dx%d, expected %dx%dx1", gw, gh, gc, W, H);
    CHECK(got && gw == W && gh == H && !memcmp(got, want, (size_t)W * H), "fmnist grid pixels differ from the former layout");
    stbi_image_free(got);
    free(want); free(images); free(path);
}

static void write_huge(const void *arg)
{
    static unsigned char px[16];
    save_png_bytes((const char *)arg, px, 3, 20000, 20000);
}

static void parse_bad(const void *arg)
{
    int *l;
    parse_grid_classes((const char *)arg, "-grid-classes", &l);
}

static void check_list_bad(const void *arg)
{
    int l[] = {0, 1000};
    (void)arg;
    class_grid_check_list(l, 2, 1000, "-grid-classes", "net.cfg");
}

int main(void)
{
    if (!mkdtemp(dir)) { perror(dir); return 2; }
    test_imagenet_size(NULL, 0, "auto.png");
    int list[] = {17, 5, 999};
    test_imagenet_size(list, 3, "list.png");
    test_noise_bound();
    test_area_average();
    test_fmnist_layout();

    // Layouts: small images doubled, large ones shrunk, all within bounds.
    grid_layout a = class_grid_layout(10, 10, 28, 28), b = class_grid_layout(100, 10, 4096, 4096), d = class_grid_layout(3, 10, 64, 640);
    CHECK(a.cell_w == 56 && a.width == 582 && a.height == 582, "28x28: %dx%d cells, %dx%d", a.cell_w, a.cell_h, a.width, a.height);
    CHECK(b.width <= GRID_MAX_SIDE && b.height <= GRID_MAX_SIDE && b.cell_w >= 1, "100 rows of 4096: %dx%d", b.width, b.height);
    CHECK(d.width <= GRID_MAX_SIDE && d.cell_w > 10 * d.cell_h - 10, "64x640 keeps its aspect: %dx%d", d.cell_w, d.cell_h);

    // The PNG guard dies before stb sees a 20000x20000 image, writing nothing.
    // (A static path: the children that die here and later would report a
    // heap copy as leaked.)
    static char huge[sizeof dir + 16];
    snprintf(huge, sizeof huge, "%s/huge.png", dir);
    CHECK(child_status(write_huge, huge) == 1 && file_size(huge) < 0, "oversized PNG not refused");

    int *l, m = parse_grid_classes("0,5,17", "-grid-classes", &l);
    CHECK(m == 3 && l[0] == 0 && l[1] == 5 && l[2] == 17, "0,5,17 parsed as %d classes", m);
    free(l);
    m = parse_grid_classes("20,0-9", "-grid-classes", &l);
    CHECK(m == 11 && l[0] == 20 && l[1] == 0 && l[10] == 9, "20,0-9 parsed as %d classes", m);
    free(l);
    const char *bad[] = {"", "a", "1,", "1,,2", "3-1", "-1", "1,1", "0-100", "5 ,6", NULL};
    for (int i = 0; bad[i]; ++i) CHECK(child_status(parse_bad, bad[i]) == 1, "'%s' accepted", bad[i]);
    CHECK(child_status(check_list_bad, NULL) == 1, "class 1000 of 1000 accepted");

    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) perror(cmd);
    return test_summary();
}
