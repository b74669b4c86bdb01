#include "labels.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static void check_distinct(const label_set *l, const char *source)
{
    for (int i = 0; i < l->n; ++i)
        for (int j = 0; j < l->n; ++j)
            if (i != j && strstr(l->names[i], l->names[j]))
                inv_die("%s: label '%s' contains label '%s'; Darknet matches labels as substrings of paths, so they must not contain one another",
                        source, l->names[i], l->names[j]);
}

label_set read_label_set(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) inv_die("cannot open labels file %s: %s", path, strerror(errno));
    label_set l = {0, NULL};
    char line[1024];
    int lineno = 0;
    while (fgets(line, sizeof line, f)) {
        ++lineno;
        line[strcspn(line, "\r\n")] = 0;
        if (!line[0]) continue;
        if (strchr(line, '/') || strchr(line, ' '))
            inv_die("%s:%d: label '%s' contains a '/' or a space", path, lineno, line);
        l.names = realloc(l.names, sizeof(char *) * (l.n + 1));
        if (!l.names) inv_die("out of memory");
        l.names[l.n++] = xstrdup(line);
    }
    fclose(f);
    if (!l.n) inv_die("labels file %s is empty", path);
    check_distinct(&l, path);
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
