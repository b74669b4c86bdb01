#include "grid.h"

#include <stdlib.h>
#include <string.h>

#include "imageio.h"
#include "util.h"

grid_layout class_grid_layout(int rows, int cols, int h, int w)
{
    const size_t gap = GRID_GAP, max = GRID_MAX_SIDE;
    if (rows < 1 || cols < 1 || h < 1 || w < 1 || (size_t)rows > (max - gap) / (gap + 1) || (size_t)cols > (max - gap) / (gap + 1))
        inv_die("a class grid of %d x %d images of %dx%d pixels does not fit in %zux%zu pixels", rows, cols, w, h, max, max);
    // The largest cell that keeps the whole grid within max x max.
    size_t avail_w = (max - gap) / cols - gap, avail_h = (max - gap) / rows - gap;
    size_t cw, ch;
    if (2 * (size_t)w <= avail_w && 2 * (size_t)h <= avail_h) cw = 2 * (size_t)w, ch = 2 * (size_t)h;
    else if ((size_t)w <= avail_w && (size_t)h <= avail_h) cw = w, ch = h;
    else {
        double r = (double)avail_w / w < (double)avail_h / h ? (double)avail_w / w : (double)avail_h / h;
        cw = (size_t)(w * r), ch = (size_t)(h * r);
        if (cw < 1) cw = 1;
        if (ch < 1) ch = 1;
        if (cw > avail_w) cw = avail_w;
        if (ch > avail_h) ch = avail_h;
    }
    grid_layout g = {(int)cw, (int)ch, (int)(cols * (cw + gap) + gap), (int)(rows * (ch + gap) + gap)};
    return g;
}

int parse_grid_classes(const char *spec, const char *flag, int **list)
{
    int *l = xcalloc(GRID_MAX_ROWS, sizeof(int)), n = 0;
    const char *s = spec;
    while (1) {
        char *end;
        long a = strtol(s, &end, 10), b = a;
        if (end == s || a < 0 || *s == '-' || *s == '+' || *s == ' ') inv_die("%s %s: expected class numbers such as 0,5,17 or 0-9", flag, spec);
        s = end;
        if (*s == '-') {
            ++s;
            b = strtol(s, &end, 10);
            if (end == s || *s == '-' || *s == '+' || *s == ' ' || b < a) inv_die("%s %s: expected class numbers such as 0,5,17 or 0-9", flag, spec);
            s = end;
        }
        if (b >= 1 << 24) inv_die("%s %s: class %ld is far beyond any network's classes", flag, spec, b);
        for (long k = a; k <= b; ++k) {
            if (n == GRID_MAX_ROWS) inv_die("%s %s: more than %d classes; a grid shows at most %d rows", flag, spec, GRID_MAX_ROWS, GRID_MAX_ROWS);
            for (int i = 0; i < n; ++i)
                if (l[i] == k) inv_die("%s %s: class %ld is listed twice", flag, spec, k);
            l[n++] = (int)k;
        }
        if (!*s) break;
        if (*s != ',') inv_die("%s %s: expected class numbers such as 0,5,17 or 0-9", flag, spec);
        ++s;
    }
    *list = l;
    return n;
}

int opt_grid_classes(int argc, char **argv, int **list)
{
    const char *spec = opt_str(argc, argv, "-grid-classes", NULL);
    *list = NULL;
    return spec ? parse_grid_classes(spec, "-grid-classes", list) : 0;
}

void class_grid_check_list(const int *list, int n, int classes, const char *flag, const char *net)
{
    for (int i = 0; i < n; ++i)
        if (list[i] >= classes) inv_die("%s: class %d, but %s has %d classes (0 to %d)", flag, list[i], net, classes, classes - 1);
}

class_grid make_class_grid(const int *list, int nlist, const int *labels, int n, int classes,
                           int cols, int c, int h, int w)
{
    class_grid g = {0, cols, c, h, w, classes, NULL, NULL, NULL, NULL};
    g.row_of = xcalloc(classes, sizeof(int));
    for (int k = 0; k < classes; ++k) g.row_of[k] = -1;
    int cap = nlist > 0 ? nlist : GRID_ROWS;
    g.row_class = xcalloc(cap, sizeof(int));
    if (nlist > 0) {
        for (int i = 0; i < nlist; ++i) {
            if (list[i] < 0 || list[i] >= classes) inv_die("class grid: class %d of %d", list[i], classes);
            g.row_class[g.rows] = list[i];
            g.row_of[list[i]] = g.rows++;
        }
    } else {
        // The first classes present, in class order.
        char *present = xcalloc(classes, 1);
        for (int i = 0; i < n; ++i)
            if (labels[i] >= 0 && labels[i] < classes) present[labels[i]] = 1;
        for (int k = 0; k < classes && g.rows < cap; ++k)
            if (present[k]) g.row_class[g.rows] = k, g.row_of[k] = g.rows++;
        free(present);
    }
    if (!g.rows) g.rows = 1, g.row_class[0] = -1;   // nothing to show: one empty row
    class_grid_layout(g.rows, cols, h, w);          // dies now, not after the work, if it cannot fit
    g.count = xcalloc(g.rows, sizeof(int));
    g.images = xcalloc((size_t)g.rows * cols * c * h * w, sizeof(float));
    return g;
}

int class_grid_wants(const class_grid *g, int label)
{
    if (label < 0 || label >= g->classes) return 0;
    int r = g->row_of[label];
    return r >= 0 && g->count[r] < g->cols;
}

void class_grid_add(class_grid *g, int label, const float *chw)
{
    if (!class_grid_wants(g, label)) return;
    int r = g->row_of[label];
    size_t im = (size_t)g->c * g->h * g->w;
    memcpy(g->images + ((size_t)r * g->cols + g->count[r]++) * im, chw, im * sizeof(float));
}

// Input pixels [lo[o], hi[o]) and their overlap weights with output pixel o,
// when n input pixels are averaged down to m (area averaging, m <= n).
typedef struct { int *lo, *hi; float *wt; int span; } box_axis;

static box_axis make_box_axis(int n, int m)
{
    box_axis a = {xcalloc(m, sizeof(int)), xcalloc(m, sizeof(int)), NULL, n / m + 2};
    a.wt = xcalloc((size_t)m * a.span, sizeof(float));
    double s = (double)n / m;
    for (int o = 0; o < m; ++o) {
        double x0 = o * s, x1 = (o + 1) * s;
        a.lo[o] = (int)x0;
        a.hi[o] = (int)x1 + (x1 > (int)x1);
        if (a.hi[o] > n) a.hi[o] = n;
        for (int i = a.lo[o]; i < a.hi[o]; ++i) {
            double l = i > x0 ? i : x0, r = i + 1 < x1 ? i + 1 : x1;
            a.wt[(size_t)o * a.span + i - a.lo[o]] = (float)((r - l) / s);
        }
    }
    return a;
}

static void free_box_axis(box_axis *a) { free(a->lo); free(a->hi); free(a->wt); }

// One image into its cell: nearest-pixel copies at whole multiples of its
// size (exactly what the grid always drew), area averages when shrunk.
static void draw_cell(unsigned char *px, size_t stride, int oc, const float *im, int c, int h, int w,
                      int cw, int ch, const box_axis *bx, const box_axis *by)
{
    size_t plane = (size_t)h * w;
    if (cw % w == 0 && ch % h == 0 && cw / w == ch / h) {
        int scale = cw / w;
        for (int y = 0; y < ch; ++y)
            for (int x = 0; x < cw; ++x)
                for (int k = 0; k < oc; ++k)
                    px[(size_t)y * stride + (size_t)x * oc + k] = pixel_to_byte(im[(k % c) * plane + (size_t)(y / scale) * w + x / scale]);
        return;
    }
    for (int y = 0; y < ch; ++y)
        for (int x = 0; x < cw; ++x)
            for (int k = 0; k < oc; ++k) {
                const float *p = im + (k % c) * plane;
                float sum = 0;
                for (int iy = by->lo[y]; iy < by->hi[y]; ++iy) {
                    float row = 0;
                    for (int ix = bx->lo[x]; ix < bx->hi[x]; ++ix)
                        row += bx->wt[(size_t)x * bx->span + ix - bx->lo[x]] * p[(size_t)iy * w + ix];
                    sum += by->wt[(size_t)y * by->span + iy - by->lo[y]] * row;
                }
                px[(size_t)y * stride + (size_t)x * oc + k] = pixel_to_byte(sum);
            }
}

void save_class_grid(const char *path, const class_grid *g)
{
    grid_layout L = class_grid_layout(g->rows, g->cols, g->h, g->w);
    const int gap = GRID_GAP, oc = g->c == 1 ? 1 : 3;
    size_t stride = (size_t)L.width * oc, im = (size_t)g->c * g->h * g->w;
    unsigned char *px = xcalloc(stride * L.height, 1);
    memset(px, 64, stride * L.height);   // dark grey background
    int shrink = L.cell_w < g->w || L.cell_h < g->h;
    box_axis bx = {0}, by = {0};
    if (shrink) bx = make_box_axis(g->w, L.cell_w), by = make_box_axis(g->h, L.cell_h);
    for (int r = 0; r < g->rows; ++r)
        for (int i = 0; i < g->count[r]; ++i) {
            size_t x0 = gap + (size_t)i * (L.cell_w + gap), y0 = gap + (size_t)r * (L.cell_h + gap);
            draw_cell(px + y0 * stride + x0 * oc, stride, oc, g->images + ((size_t)r * g->cols + i) * im,
                      g->c, g->h, g->w, L.cell_w, L.cell_h, &bx, &by);
        }
    save_png_bytes(path, px, oc, L.height, L.width);
    if (shrink) free_box_axis(&bx), free_box_axis(&by);
    free(px);
}

void free_class_grid(class_grid *g)
{
    free(g->row_class); free(g->row_of); free(g->count); free(g->images);
    memset(g, 0, sizeof *g);
}

void save_class_grid_of(const char *path, const float *images, const int *labels, int n, int classes,
                        const int *list, int nlist, int c, int h, int w)
{
    class_grid g = make_class_grid(list, nlist, labels, n, classes, GRID_COLS, c, h, w);
    for (int i = 0; i < n; ++i) class_grid_add(&g, labels[i], images + (size_t)i * c * h * w);
    save_class_grid(path, &g);
    free_class_grid(&g);
}
