#include "dataset.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stb_image.h>

#include "darknet.h"
#include "util.h"

static char *trim(char *s)
{
    while (isspace((unsigned char)*s)) ++s;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) *--e = 0;
    return s;
}

// Non-empty, trimmed lines of a text file; *n gets their count.
char **read_lines(const char *path, const char *what, int *n)
{
    FILE *f = fopen(path, "r");
    if (!f) inv_die("cannot open %s %s: %s", what, path, strerror(errno));
    int cap = 1024, count = 0;
    char **lines = xcalloc(cap, sizeof *lines);
    char buf[4096];
    while (fgets(buf, sizeof buf, f)) {
        if (!strchr(buf, '\n') && !feof(f)) inv_die("%s %s: line %d is longer than %zu characters", what, path, count + 1, sizeof buf - 1);
        char *s = trim(buf);
        if (!*s) continue;
        if (count == cap) {
            cap *= 2;
            lines = realloc(lines, cap * sizeof *lines);
            if (!lines) inv_die("out of memory reading %s", path);
        }
        lines[count++] = xstrdup(s);
    }
    if (ferror(f)) inv_die("cannot read %s %s: %s", what, path, strerror(errno));
    fclose(f);
    *n = count;
    return lines;
}

void free_lines(char **lines, int n)
{
    for (int i = 0; i < n; ++i) free(lines[i]);
    free(lines);
}

// Darknet's rule (fill_truth): a label is the one whose string occurs in the path.
static int label_of(const char *path, char **labels, int classes, const char *list)
{
    int found = -1;
    for (int k = 0; k < classes; ++k) {
        if (!strstr(path, labels[k])) continue;
        if (found >= 0)
            inv_die("%s: image %s matches two labels, '%s' and '%s'", list, path, labels[found], labels[k]);
        found = k;
    }
    if (found < 0) inv_die("%s: no label string occurs in the image path %s", list, path);
    return found;
}

// HWC bytes (iw x ih, c channels) -> CHW floats w x h: scaled (bilinear,
// Darknet's resize_image) until it covers w x h, then the centre w x h; for a
// square network this is Darknet's resize_min + crop_image in
// validate_classifier_single.
static void resize_center_crop(const unsigned char *pix, int iw, int ih, int c, float *x, int w, int h)
{
    image im = make_image(iw, ih, c);
    for (int k = 0; k < c; ++k)
        for (int p = 0; p < iw * ih; ++p) im.data[k * iw * ih + p] = pix[p * c + k] / 255.0f;
    int nw = w, nh = h;
    if ((long)iw * h < (long)ih * w) nh = (int)((long)ih * w / iw);
    else nw = (int)((long)iw * h / ih);
    image scaled = (nw == iw && nh == ih) ? im : resize_image(im, nw, nh);
    image crop = crop_image(scaled, (nw - w) / 2, (nh - h) / 2, w, h);
    memcpy(x, crop.data, sizeof(float) * c * w * h);
    free_image(crop);
    if (scaled.data != im.data) free_image(scaled);
    free_image(im);
}

labelled_set load_labelled_list(const char *list, char **labels, int classes, int w, int h, int c)
{
    int n;
    char **paths = read_lines(list, "image list", &n);
    if (n == 0) inv_die("image list %s is empty", list);
    labelled_set s = load_labelled_paths(paths, n, list, labels, classes, w, h, c);
    free_lines(paths, n);
    return s;
}

labelled_set load_labelled_paths(char **paths, int n, const char *list, char **labels, int classes, int w, int h, int c)
{
    if (c != 1 && c != 3) inv_die("load_labelled_list: %d channels requested (1 or 3 supported)", c);
    labelled_set s = {n, w, h, c, classes, NULL, NULL};
    size_t size = (size_t)c * h * w;
    s.x = xcalloc((size_t)n * size, sizeof(float));
    s.y = xcalloc(n, sizeof(int));
    static int resized;   // warn once
    for (int i = 0; i < n; ++i) {
        s.y[i] = labels ? label_of(paths[i], labels, classes, list) : 0;
        // stb converts to c channels itself: gray replicated for 3, luminance for 1.
        int iw, ih, ic;
        unsigned char *pix = stbi_load(paths[i], &iw, &ih, &ic, c);
        if (!pix) inv_die("%s: cannot read image %s: %s", list, paths[i], stbi_failure_reason());
        float *x = labelled_image(&s, i);
        if (iw == w && ih == h) {
            for (int k = 0; k < c; ++k)
                for (int p = 0; p < w * h; ++p) x[k * w * h + p] = pix[p * c + k] / 255.0f;
        } else {
            if (!resized++)
                inv_warn("%s: image %s is %dx%d, the network takes %dx%d: images of another size are resized and centre-cropped as Darknet's single-crop validation does",
                         list, paths[i], iw, ih, w, h);
            resize_center_crop(pix, iw, ih, c, x, w, h);
        }
        stbi_image_free(pix);
    }
    return s;
}

void free_labelled_set(labelled_set *s)
{
    free(s->x);
    free(s->y);
    s->x = NULL;
    s->y = NULL;
    s->n = 0;
}

classifier_data read_classifier_data(const char *path)
{
    int n;
    char **lines = read_lines(path, "data file", &n);
    classifier_data d = {0, NULL, NULL, NULL, xstrdup(path)};
    char *labels = NULL, *names = NULL;
    for (int i = 0; i < n; ++i) {
        char *s = lines[i];
        if (*s == '#' || *s == ';') continue;
        char *eq = strchr(s, '=');
        if (!eq) inv_die("data file %s: '%s' is not key=value", path, s);
        *eq = 0;
        char *key = trim(s), *val = trim(eq + 1);
        if (!strcmp(key, "classes")) {
            char *end;
            long v = strtol(val, &end, 10);
            if (!*val || *end || v <= 0 || v > 1000000) inv_die("data file %s: classes=%s is not a positive count", path, val);
            d.classes = (int)v;
        } else if (!strcmp(key, "train")) { free(d.train); d.train = xstrdup(val); }
        else if (!strcmp(key, "valid")) { free(d.valid); d.valid = xstrdup(val); }
        else if (!strcmp(key, "labels")) { free(labels); labels = xstrdup(val); }
        else if (!strcmp(key, "names")) { free(names); names = xstrdup(val); }
    }
    free_lines(lines, n);
    if (!d.classes) inv_die("data file %s has no classes= key", path);
    if (!labels) labels = names, names = NULL;
    if (!labels) inv_die("data file %s has no labels= (or names=) key", path);
    int count;
    d.labels = read_lines(labels, "labels file", &count);
    if (count != d.classes)
        inv_die("data file %s: classes=%d but labels file %s holds %d labels", path, d.classes, labels, count);
    for (int a = 0; a < count; ++a)
        for (int b = 0; b < count; ++b)
            if (a != b && strstr(d.labels[a], d.labels[b]))
                inv_die("labels file %s: label '%s' contains label '%s', so Darknet's substring rule cannot tell them apart",
                        labels, d.labels[a], d.labels[b]);
    free(labels);
    free(names);
    return d;
}

const char *classifier_list(const classifier_data *d, const char *key)
{
    const char *v = !strcmp(key, "train") ? d->train : !strcmp(key, "valid") ? d->valid : NULL;
    if (!v) inv_die("data file %s has no %s= key", d->path, key);
    return v;
}

void free_classifier_data(classifier_data *d)
{
    free_lines(d->labels, d->classes);
    free(d->train);
    free(d->valid);
    free(d->path);
    memset(d, 0, sizeof *d);
}

void write_classifier_data(const char *out_dir, const char *name, const char *const *labels, int classes)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/labels.txt", out_dir);
    atomic_file a = atomic_open(path);
    for (int k = 0; k < classes; ++k) fprintf(a.f, "%s\n", labels[k]);
    atomic_commit(&a);
    snprintf(path, sizeof path, "%s/%s.data", out_dir, name);
    a = atomic_open(path);
    fprintf(a.f, "classes=%d\ntrain=%s/train.list\nvalid=%s/test.list\nlabels=%s/labels.txt\nnames=%s/labels.txt\n",
            classes, out_dir, out_dir, out_dir, out_dir);
    atomic_commit(&a);
}
