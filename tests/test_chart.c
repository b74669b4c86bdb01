// chart.png from a run's CSV: its size, the loss curve falling where the loss
// falls, top-1 drawn only where rows have it and rising where it rises, gaps
// for empty fields, a header-only CSV still drawn, and the same CSV giving the
// same bytes (a resumed run redraws its chart exactly).
#include <math.h>

#include <stb_image.h>

#include "chart.h"
#include "testlib.h"
#include "util.h"

static char dir[] = "/tmp/inv-test-chart-XXXXXX";

// The chart's colours for the running-average loss and top-1 (chart.c).
static const unsigned char LOSS[3] = {20, 60, 170}, TOP1[3] = {200, 30, 30};

typedef struct { unsigned char *px; int w, h; } picture;

static picture draw(const char *name, const char *csv, const char *top1_col)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    save_csv_chart(path, csv, "test", "loss", top1_col);
    picture p = {0};
    int c;
    p.px = stbi_load(path, &p.w, &p.h, &c, 3);
    return p;
}

// Mean row of the pixels of colour k in columns [x0, x1) below the legend.
static double mean_row(const picture *p, const unsigned char k[3], int x0, int x1, int *count)
{
    double sum = 0;
    *count = 0;
    for (int y = 40; y < p->h; ++y)
        for (int x = x0; x < x1; ++x) {
            const unsigned char *q = p->px + 3 * ((size_t)y * p->w + x);
            if (q[0] == k[0] && q[1] == k[1] && q[2] == k[2]) sum += y, ++*count;
        }
    return *count ? sum / *count : NAN;
}

static char *falling_csv(int with_top1)
{
    text_log t = {0};
    text_log_add(&t, "batch,loss,lr,top1\n");
    for (int b = 1; b <= 400; ++b) {
        char row[64];
        if (with_top1 && b % 50 == 0) snprintf(row, sizeof row, "%d,%g,0.1,%g\n", b, 3.0 / (1 + b / 40.0), 10 + 0.2 * b);
        else snprintf(row, sizeof row, "%d,%g,0.1,\n", b, 3.0 / (1 + b / 40.0));
        text_log_add(&t, row);
    }
    return t.s;
}

int main(void)
{
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");

    char *csv = falling_csv(1);
    picture p = draw("a.png", csv, "top1");
    CHECK(p.px && p.w == 800 && p.h == 480, "chart is 800x480 (%dx%d)", p.w, p.h);
    if (!p.px) return test_summary();
    int nl, nr, tl, tr;
    double left = mean_row(&p, LOSS, 80, 280, &nl), right = mean_row(&p, LOSS, 540, 730, &nr);
    CHECK(nl > 50 && nr > 50, "loss curve drawn on both sides (%d, %d pixels)", nl, nr);
    CHECK(left < right - 50, "a falling loss is drawn higher on the left (rows %.0f vs %.0f)", left, right);
    double tleft = mean_row(&p, TOP1, 80, 330, &tl), tright = mean_row(&p, TOP1, 480, 730, &tr);
    CHECK(tl > 20 && tr > 20, "top-1 curve drawn (%d, %d pixels)", tl, tr);
    CHECK(tright < tleft - 50, "a rising top-1 is drawn higher on the right (rows %.0f vs %.0f)", tright, tleft);

    // The same CSV, the same bytes.
    char a[256], b[256];
    snprintf(a, sizeof a, "%s/a.png", dir);
    snprintf(b, sizeof b, "%s/b.png", dir);
    save_csv_chart(b, csv, "test", "loss", "top1");
    size_t la, lb;
    char *ta = read_whole_file(a, "chart", 16, &la), *tb = read_whole_file(b, "chart", 16, &lb);
    CHECK(la == lb && !memcmp(ta, tb, la), "same CSV, same PNG");
    free(ta), free(tb);

    // No top-1 values (or no such column): no red curve.
    char *plain = falling_csv(0);
    picture q = draw("c.png", plain, "top1");
    int n;
    mean_row(&q, TOP1, 80, 730, &n);
    CHECK(q.px && n == 0, "no top-1 drawn without values (%d pixels)", n);
    picture r = draw("d.png", csv, NULL);
    mean_row(&r, TOP1, 80, 730, &n);
    CHECK(r.px && n == 0, "no top-1 drawn without a top-1 column (%d pixels)", n);

    // Header only: an empty chart, still a PNG.
    picture e = draw("e.png", "batch,loss,lr,top1\n", "top1");
    mean_row(&e, LOSS, 80, 730, &n);
    CHECK(e.px && n == 0, "header-only CSV: chart without curves (%d pixels)", n);

    stbi_image_free(p.px), stbi_image_free(q.px), stbi_image_free(r.px), stbi_image_free(e.px);
    free(csv), free(plain);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", dir);
    return test_summary();
}
