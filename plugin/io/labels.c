#include "labels.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void check_label_set(const label_set *l, const char *source, const char *hint)
{
    const char *sep = hint ? "; " : "";
    hint = hint ? hint : "";
    for (int i = 0; i < l->n; ++i)
        for (int j = 0; j < l->n; ++j) {
            if (i == j || !strstr(l->names[i], l->names[j])) continue;
            if (!strcmp(l->names[i], l->names[j]))
                inv_die("%s: label '%s' is there twice (classes %d and %d); Darknet could not tell them apart%s%s",
                        source, l->names[i], i < j ? i : j, i < j ? j : i, sep, hint);
            inv_die("%s: label '%s' contains label '%s' (classes %d and %d); Darknet matches labels as substrings of paths, "
                    "so they must not contain one another%s%s", source, l->names[i], l->names[j], i, j, sep, hint);
        }
    for (int i = 0; i < l->n; ++i)
        if (strchr(l->names[i], '/') || strchr(l->names[i], ' '))
            inv_die("%s: label '%s' (class %d) contains a '/' or a space%s%s", source, l->names[i], i, sep, hint);
}

label_set read_label_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) inv_die("cannot open labels file %s: %s", path, strerror(errno));
    label_set l = {0, NULL};
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (!line[0]) continue;
        l.names = realloc(l.names, sizeof(char *) * (l.n + 1));
        if (!l.names) inv_die("out of memory");
        l.names[l.n++] = xstrdup(line);
    }
    fclose(f);
    if (!l.n) inv_die("labels file %s is empty", path);
    return l;
}

label_set read_label_set(const char *path)
{
    label_set l = read_label_lines(path);
    check_label_set(&l, path, NULL);
    return l;
}

label_set copy_label_set(char **names, int n)
{
    label_set l = {n, xcalloc(n > 0 ? n : 1, sizeof(char *))};
    for (int k = 0; k < n; ++k) l.names[k] = xstrdup(names[k]);
    return l;
}

label_set default_label_set(int classes)
{
    label_set l = {classes, xcalloc(classes, sizeof(char *))};
    int digits = 2;
    for (int n = classes - 1; n >= 100; n /= 10) ++digits;
    for (int i = 0; i < classes; ++i) {
        char buf[32];
        snprintf(buf, sizeof buf, "class_%0*d", digits, i);
        l.names[i] = xstrdup(buf);
    }
    return l;
}

void truncate_label_set(label_set *l, int n)
{
    for (int i = n; i < l->n; ++i) free(l->names[i]);
    if (n < l->n) l->n = n;
}

void add_label_ids(label_set *l)
{
    int digits = 4;
    for (int n = l->n - 1; n >= 10000; n /= 10) ++digits;
    for (int i = 0; i < l->n; ++i) {
        size_t len = strlen(l->names[i]) + digits + 3;
        char *s = xcalloc(len, 1);
        snprintf(s, len, "c%0*d_%s", digits, i, l->names[i]);
        for (char *p = s; *p; ++p)
            if (*p == ' ' || *p == '/') *p = '_';
        free(l->names[i]);
        l->names[i] = s;
    }
}

void check_labels_not_in_path(const label_set *l, const char *path)
{
    for (int i = 0; i < l->n; ++i)
        if (strstr(path, l->names[i]))
            inv_die("output path %s contains the label '%s': Darknet would match that label for every image there; choose another directory name",
                    path, l->names[i]);
}

void free_label_set(label_set *l)
{
    for (int i = 0; i < l->n; ++i) free(l->names[i]);
    free(l->names);
    l->names = NULL;
    l->n = 0;
}
