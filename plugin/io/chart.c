// chart.png: a run's loss and top-1 against its batches, as Darknet users know
// it from `detector train`, drawn from the run's CSV text so that a resumed run
// draws the same chart. Pixels are set by hand (lines, dots, a 3x5 font scaled
// 2x): no drawing library beyond stb's PNG writer.
#include "chart.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imageio.h"
#include "util.h"

enum { CHART_W = 800, CHART_H = 480, LEFT = 78, RIGHT = 62, TOP = 44, BOTTOM = 44, SCALE = 2 };

typedef struct { unsigned char r, g, b; } rgb;
static const rgb BLACK = {0, 0, 0}, GRID = {225, 225, 225}, RAW = {170, 195, 235},
                 LOSS = {20, 60, 170}, TOP1 = {200, 30, 30};

typedef struct { unsigned char *px; } canvas;

static void dot(canvas *c, int x, int y, rgb k)
{
    if (x < 0 || y < 0 || x >= CHART_W || y >= CHART_H) return;
    unsigned char *p = c->px + 3 * ((size_t)y * CHART_W + x);
    p[0] = k.r, p[1] = k.g, p[2] = k.b;
}

static void fill(canvas *c, int x0, int y0, int x1, int y1, rgb k)
{
    for (int y = y0; y <= y1; ++y)
        for (int x = x0; x <= x1; ++x) dot(c, x, y, k);
}

// A line `width` pixels thick, stepped along its longer axis.
static void line(canvas *c, double x0, double y0, double x1, double y1, rgb k, int width)
{
    double dx = x1 - x0, dy = y1 - y0;
    int n = (int)ceil(fmax(fabs(dx), fabs(dy))) + 1;
    for (int i = 0; i < n; ++i) {
        double t = n > 1 ? (double)i / (n - 1) : 0;
        int x = (int)lround(x0 + t * dx), y = (int)lround(y0 + t * dy);
        fill(c, x - (width - 1) / 2, y - (width - 1) / 2, x + width / 2, y + width / 2, k);
    }
}

// 3x5 glyphs, a row a number (bit 2: left column); lower case is drawn as upper.
static const char GLYPH_CHARS[] = "0123456789.-%:ABCDEFGHIJKLMNOPQRSTUVWXYZ()/_=,+";
static const unsigned char GLYPHS[][5] = {
    {7, 5, 5, 5, 7}, {2, 6, 2, 2, 7}, {7, 1, 7, 4, 7}, {7, 1, 7, 1, 7}, {5, 5, 7, 1, 1}, {7, 4, 7, 1, 7},
    {7, 4, 7, 5, 7}, {7, 1, 1, 2, 2}, {7, 5, 7, 5, 7}, {7, 5, 7, 1, 7}, {0, 0, 0, 0, 2}, {0, 0, 7, 0, 0},
    {5, 1, 2, 4, 5}, {0, 2, 0, 2, 0}, {2, 5, 7, 5, 5}, {6, 5, 6, 5, 6}, {3, 4, 4, 4, 3}, {6, 5, 5, 5, 6},
    {7, 4, 6, 4, 7}, {7, 4, 6, 4, 4}, {3, 4, 5, 5, 3}, {5, 5, 7, 5, 5}, {7, 2, 2, 2, 7}, {1, 1, 1, 5, 2},
    {5, 5, 6, 5, 5}, {4, 4, 4, 4, 7}, {5, 7, 7, 5, 5}, {6, 5, 5, 5, 5}, {2, 5, 5, 5, 2}, {6, 5, 6, 4, 4},
    {2, 5, 5, 6, 3}, {6, 5, 6, 5, 5}, {3, 4, 2, 1, 6}, {7, 2, 2, 2, 2}, {5, 5, 5, 5, 7}, {5, 5, 5, 5, 2},
    {5, 5, 7, 7, 5}, {5, 5, 2, 5, 5}, {5, 5, 2, 2, 2}, {7, 1, 2, 4, 7}, {1, 2, 2, 2, 1}, {4, 2, 2, 2, 4},
    {1, 1, 2, 4, 4}, {0, 0, 0, 0, 7}, {0, 7, 0, 7, 0}, {0, 0, 0, 2, 4}, {0, 2, 7, 2, 0},
};
enum { ADVANCE = 4 * SCALE };

static int text_width(const char *s) { return (int)strlen(s) * ADVANCE - SCALE; }

// Text with its top-left corner at (x, y); characters without a glyph are blanks.
static void text(canvas *c, int x, int y, const char *s, rgb k)
{
    for (; *s; ++s, x += ADVANCE) {
        char ch = *s >= 'a' && *s <= 'z' ? (char)(*s - 'a' + 'A') : *s;
        const char *g = ch ? strchr(GLYPH_CHARS, ch) : NULL;
        if (!g) continue;
        const unsigned char *rows = GLYPHS[g - GLYPH_CHARS];
        for (int r = 0; r < 5; ++r)
            for (int col = 0; col < 3; ++col)
                if (rows[r] & (4 >> col)) fill(c, x + col * SCALE, y + r * SCALE, x + col * SCALE + SCALE - 1, y + r * SCALE + SCALE - 1, k);
    }
}

// A step of 1, 2 or 5 times a power of ten that cuts [0, hi] into about n parts.
static double nice_step(double hi, int n)
{
    double raw = hi / n, p = pow(10, floor(log10(raw))), f = raw / p;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

static void tick_label(char *buf, size_t n, double v) { snprintf(buf, n, "%.4g", fabs(v) < 1e-12 ? 0 : v); }

typedef struct { double *x, *loss, *top1; int n; } series;

// Columns by header name; a field left empty (no evaluation at that row) is NAN.
static series parse_csv(const char *csv, const char *loss_col, const char *top1_col)
{
    series s = {0};
    const char *nl = strchr(csv, '\n');
    if (!nl) return s;
    int iloss = -1, itop1 = -1, col = 0;
    for (const char *p = csv; p < nl; ++col) {
        size_t len = strcspn(p, ",\n");
        if (strlen(loss_col) == len && !strncmp(p, loss_col, len)) iloss = col;
        if (top1_col && strlen(top1_col) == len && !strncmp(p, top1_col, len)) itop1 = col;
        p += len + (p[len] == ',');
    }
    int rows = 0;
    for (const char *p = nl + 1; *p; ++p) rows += *p == '\n';
    s.x = xcalloc(1, (rows + 1) * sizeof *s.x), s.loss = xcalloc(1, (rows + 1) * sizeof *s.loss), s.top1 = xcalloc(1, (rows + 1) * sizeof *s.top1);
    for (const char *p = nl + 1; *p;) {
        const char *end = strchr(p, '\n');
        if (!end) break;
        double v[3] = {NAN, NAN, NAN};
        for (col = 0; p < end; ++col) {
            size_t len = strcspn(p, ",\n");
            int which = col == 0 ? 0 : col == iloss ? 1 : col == itop1 ? 2 : -1;
            if (which >= 0 && len > 0) v[which] = strtod(p, NULL);
            p += len + (p[len] == ',');
        }
        p = end + 1;
        if (!isfinite(v[0])) continue;
        s.x[s.n] = v[0], s.loss[s.n] = v[1], s.top1[s.n] = v[2];
        ++s.n;
    }
    return s;
}

void save_csv_chart(const char *path, const char *csv, const char *title, const char *loss_col, const char *top1_col)
{
    series s = parse_csv(csv, loss_col, top1_col);
    canvas c = {xcalloc(1, (size_t)CHART_W * CHART_H * 3)};
    memset(c.px, 255, (size_t)CHART_W * CHART_H * 3);
    const int x0 = LEFT, x1 = CHART_W - RIGHT, y0 = TOP, y1 = CHART_H - BOTTOM;

    // The loss axis fits the running average (a few spikes must not flatten
    // the curve); raw values above it are drawn at the top edge.
    double *avg = xcalloc(1, (s.n + 1) * sizeof *avg), a = NAN, hi = 0, xmax = 0;
    int any_top1 = 0;
    for (int i = 0; i < s.n; ++i) {
        if (isfinite(s.loss[i])) a = isfinite(a) ? 0.95 * a + 0.05 * s.loss[i] : s.loss[i];
        avg[i] = a;
        if (isfinite(a) && a > hi) hi = a;
        if (s.x[i] > xmax) xmax = s.x[i];
        any_top1 |= isfinite(s.top1[i]);
    }
    if (!(hi > 0)) hi = 1;
    double ystep = nice_step(hi * 1.1, 5);
    hi = ystep * ceil(hi * 1.1 / ystep);
    if (!(xmax > 0)) xmax = 1;
    double xstep = nice_step(xmax, 6);
    double xhi = xstep * ceil(xmax / xstep);
#define PX(v) (x0 + (v) / xhi * (x1 - x0))
#define PY(v) (y1 - fmin(fmax((v) / hi, 0), 1) * (y1 - y0))
#define PT(v) (y1 - fmin(fmax((v) / 100, 0), 1) * (y1 - y0))

    char buf[64];
    for (int i = 0; i * ystep <= hi + 1e-9 * hi; ++i) {
        int y = (int)lround(PY(i * ystep));
        line(&c, x0, y, x1, y, GRID, 1);
        tick_label(buf, sizeof buf, i * ystep);
        text(&c, x0 - 8 - text_width(buf), y - 5, buf, LOSS);
        if (any_top1) {
            snprintf(buf, sizeof buf, "%d", (int)lround(i * 100.0 / lround(hi / ystep)));
            text(&c, x1 + 8, y - 5, buf, TOP1);
        }
    }
    for (int i = 0; i * xstep <= xhi + 1e-9 * xhi; ++i) {
        int x = (int)lround(PX(i * xstep));
        line(&c, x, y0, x, y1, GRID, 1);
        tick_label(buf, sizeof buf, i * xstep);
        text(&c, x - text_width(buf) / 2, y1 + 8, buf, BLACK);
    }
    line(&c, x0, y0, x0, y1, BLACK, 1);
    line(&c, x0, y1, x1, y1, BLACK, 1);
    line(&c, x1, y0, x1, y1, BLACK, 1);

    // Raw loss, then its running average over it, then top-1 with a dot per evaluation.
    for (int i = 1; i < s.n; ++i)
        if (isfinite(s.loss[i - 1]) && isfinite(s.loss[i]))
            line(&c, PX(s.x[i - 1]), PY(s.loss[i - 1]), PX(s.x[i]), PY(s.loss[i]), RAW, 1);
    for (int i = 1; i < s.n; ++i)
        if (isfinite(avg[i - 1]) && isfinite(avg[i])) line(&c, PX(s.x[i - 1]), PY(avg[i - 1]), PX(s.x[i]), PY(avg[i]), LOSS, 2);
    int last = -1;
    for (int i = 0; i < s.n; ++i) {
        if (!isfinite(s.top1[i])) continue;
        if (last >= 0) line(&c, PX(s.x[last]), PT(s.top1[last]), PX(s.x[i]), PT(s.top1[i]), TOP1, 2);
        int px = (int)lround(PX(s.x[i])), py = (int)lround(PT(s.top1[i]));
        fill(&c, px - 2, py - 2, px + 2, py + 2, TOP1);
        last = i;
    }

    // Title and legend above the plot, the x axis's name below it.
    text(&c, x0, 14, title, BLACK);
    int lx = x1 - text_width(loss_col) - (any_top1 ? text_width(top1_col) + text_width("%") + 60 : 0);
    fill(&c, lx - 22, 18, lx - 6, 20, LOSS);
    text(&c, lx, 14, loss_col, LOSS);
    if (any_top1) {
        lx = x1 - text_width(top1_col) - text_width(" %");
        fill(&c, lx - 22, 18, lx - 6, 20, TOP1);
        snprintf(buf, sizeof buf, "%s %%", top1_col);
        text(&c, lx, 14, buf, TOP1);
    }
    size_t xl = strcspn(csv, ",\n");
    snprintf(buf, sizeof buf, "%.*s", (int)(xl < 40 ? xl : 40), csv);
    text(&c, (x0 + x1) / 2 - text_width(buf) / 2, y1 + 26, buf, BLACK);
#undef PX
#undef PY
#undef PT

    save_png_bytes(path, c.px, 3, CHART_H, CHART_W);
    free(c.px), free(avg), free(s.x), free(s.loss), free(s.top1);
}
