#include "dream_set.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imageio.h"
#include "util.h"

void dream_image_path(char *buf, size_t n, const char *out, int k, const char *label)
{
    snprintf(buf, n, "%s/images/%06d_%s.png", out, k, label);
}

void save_dream_progress(const char *out, uint64_t run, int batches)
{
    char path[4096], progress[128];
    snprintf(progress, sizeof progress, "run=%llx\nbatches=%d\n", (unsigned long long)run, batches);
    snprintf(path, sizeof path, "%s/dream.progress", out);
    save_text(path, progress);
}

int read_dream_progress(const char *out, uint64_t *run, int *batches)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/dream.progress", out);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    unsigned long long r = 0;
    int b = -1, ok = fscanf(f, "run=%llx\nbatches=%d\n", &r, &b) == 2 && b >= 0;
    fclose(f);
    *run = r;
    *batches = b;
    return ok;
}

void save_dream_labels(const char *out, const label_set *labels)
{
    char path[4096];
    size_t lab_cap = 64;
    for (int i = 0; i < labels->n; ++i) lab_cap += strlen(labels->names[i]) + 1;
    char *lab = xcalloc(lab_cap, 1);
    for (int i = 0; i < labels->n; ++i) strcat(strcat(lab, labels->names[i]), "\n");
    snprintf(path, sizeof path, "%s/labels.txt", out);
    save_text(path, lab);
    free(lab);
}

void save_dream_set(const char *out, const class_grid *grid, const char *list, const label_set *labels, int classes)
{
    char path[4096], data[8192];
    snprintf(path, sizeof path, "%s/grid.png", out);
    save_class_grid(path, grid);
    snprintf(path, sizeof path, "%s/train.list", out);
    save_text(path, list);
    save_dream_labels(out, labels);
    snprintf(data, sizeof data, "classes=%d\ntrain=%s/train.list\nvalid=%s/train.list\nlabels=%s/labels.txt\nnames=%s/labels.txt\ntop=1\n",
             classes, out, out, out, out);
    snprintf(path, sizeof path, "%s/dream.data", out);
    save_text(path, data);
}
