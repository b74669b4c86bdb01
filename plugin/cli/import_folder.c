// `darknet inversion import-folder <dir|archive> <out_dir>`: a tree of images
// in one folder per class (optionally under train/ and test/) becomes a
// Darknet classifier dataset: images/<split>/<class>/NNNNNN_<class>.<ext>
// (links to the originals, or copies), train.list, valid.list, labels.txt and
// <name>.data. Everything is written into a temporary directory next to
// out_dir and renamed to out_dir at the end, so out_dir is complete or absent.
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stb_image.h>

#include "inversion.h"
#include "rng.h"
#include "util.h"

extern char **environ;

enum { SPLIT_TRAIN, SPLIT_VALID, SPLITS };
static const char *split_names[SPLITS] = {"train", "valid"};

typedef struct {
    char *path;      // as found in the source tree
    char ext[8];     // lower case, without the dot
    int w, h, c;     // stbi_info
} src_image;

typedef struct { src_image *v; int n, cap; } image_vec;

typedef struct {
    int classes;
    char **names;                 // class folder names, sorted
    char **labels;                // the labels: -prefix and the folder name
    image_vec (*img)[SPLITS];     // img[k][split]
    int skipped_other, skipped_unreadable, skipped_loose;
    char *first_unreadable;
    int archive;                  // source extracted here: regular files only, moved
} folder_set;

// The temporary output directory, removed at exit unless it became out_dir.
static char *pending_dir;

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
    return remove(path) != 0 && errno != ENOENT;
}

static void remove_tree(const char *path)
{
    nftw(path, remove_entry, 32, FTW_DEPTH | FTW_PHYS);
}

static void remove_pending_dir(void)
{
    if (pending_dir) remove_tree(pending_dir);
}

static int ends_with_ci(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcasecmp(s + n - m, suffix);
}

static int compare_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int hidden(const char *name) { return name[0] == '.' || !strcmp(name, "__MACOSX"); }

// Sorted entry names of a directory, hidden ones left out; dies if unreadable.
static char **list_dir(const char *dir, int *n)
{
    DIR *d = opendir(dir);
    if (!d) inv_die("cannot read directory %s: %s", dir, strerror(errno));
    int cap = 64;
    char **names = xcalloc(cap, sizeof *names);
    *n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (hidden(e->d_name)) continue;
        if (*n == cap) {
            names = realloc(names, (cap *= 2) * sizeof *names);
            if (!names) inv_die("out of memory");
        }
        names[(*n)++] = xstrdup(e->d_name);
    }
    closedir(d);
    qsort(names, *n, sizeof *names, compare_names);
    return names;
}

static void free_names(char **names, int n)
{
    for (int i = 0; i < n; ++i) free(names[i]);
    free(names);
}

static char *join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *s = xcalloc(n, 1);
    snprintf(s, n, "%s/%s", a, b);
    return s;
}

// In an extracted archive only real files and folders count (a link could
// point anywhere); in a user's folder links are followed.
static int stat_entry(const folder_set *fs, const char *path, struct stat *st)
{
    return fs->archive ? lstat(path, st) : stat(path, st);
}

static int is_dir(const folder_set *fs, const char *path)
{
    struct stat st;
    return stat_entry(fs, path, &st) == 0 && S_ISDIR(st.st_mode);
}

static const char *image_ext(const char *name)
{
    static const char *exts[] = {".jpg", ".jpeg", ".png"};
    for (size_t i = 0; i < sizeof exts / sizeof *exts; ++i)
        if (ends_with_ci(name, exts[i]) && strlen(name) > strlen(exts[i])) return exts[i] + 1;
    return NULL;
}

static void push_image(image_vec *v, src_image im)
{
    if (v->n == v->cap) {
        v->cap = v->cap ? 2 * v->cap : 64;
        v->v = realloc(v->v, v->cap * sizeof *v->v);
        if (!v->v) inv_die("out of memory");
    }
    v->v[v->n++] = im;
}

// Every image under dir (subfolders included, in sorted order) into v.
static void collect_images(folder_set *fs, const char *dir, image_vec *v)
{
    int n;
    char **names = list_dir(dir, &n);
    for (int i = 0; i < n; ++i) {
        char *path = join(dir, names[i]);
        struct stat st;
        if (stat_entry(fs, path, &st) != 0) { ++fs->skipped_other; free(path); continue; }
        if (S_ISDIR(st.st_mode)) { collect_images(fs, path, v); free(path); continue; }
        const char *ext = image_ext(names[i]);
        if (!S_ISREG(st.st_mode) || !ext) { ++fs->skipped_other; free(path); continue; }
        src_image im = {path, "", 0, 0, 0};
        for (int k = 0; ext[k]; ++k) im.ext[k] = tolower((unsigned char)ext[k]);
        // Darknet would exit on an image stb cannot decode, so such files stay out.
        if (!stbi_info(path, &im.w, &im.h, &im.c)) {
            if (!fs->skipped_unreadable++) {
                size_t len = strlen(path) + 128;
                fs->first_unreadable = xcalloc(len, 1);
                snprintf(fs->first_unreadable, len, "%s (%s)", path, stbi_failure_reason());
            }
            free(path);
            continue;
        }
        push_image(v, im);
    }
    free_names(names, n);
}

static int split_of(const char *name)
{
    if (!strcasecmp(name, "train")) return SPLIT_TRAIN;
    if (!strcasecmp(name, "test") || !strcasecmp(name, "valid") || !strcasecmp(name, "val")) return SPLIT_VALID;
    return -1;
}

// Whether dir itself (not its subfolders) holds image files: then it is a class folder.
static int holds_images(const char *dir)
{
    int n, images = 0;
    char **names = list_dir(dir, &n);
    for (int i = 0; i < n; ++i) images += image_ext(names[i]) != NULL;
    free_names(names, n);
    return images > 0;
}

// The folder the dataset starts in: single wrapping folders are descended into
// until one holds images, several folders or a train/test folder.
static char *find_root(const folder_set *fs, const char *src, int *has_splits)
{
    char *dir = xstrdup(src);
    for (;;) {
        int n, dirs = 0, images = 0, split = 0;
        char **names = list_dir(dir, &n);
        char *only = NULL;
        for (int i = 0; i < n; ++i) {
            char *path = join(dir, names[i]);
            if (is_dir(fs, path)) {
                ++dirs;
                only = names[i];
                if (split_of(names[i]) >= 0) split = 1;
            } else if (image_ext(names[i])) ++images;
            free(path);
        }
        char *next = dirs == 1 && !images && !split ? join(dir, only) : NULL;
        if (next && !holds_images(next)) {
            free_names(names, n);
            free(dir);
            dir = next;
            continue;
        }
        free(next);
        free_names(names, n);
        *has_splits = split;
        return dir;
    }
}

// Class folder names of dir (sorted); *loose gets the images lying beside them.
static char **class_folders(const folder_set *fs, const char *dir, int *n, int *loose)
{
    int all;
    char **names = list_dir(dir, &all);
    char **classes = xcalloc(all + 1, sizeof *classes);
    *n = 0;
    *loose = 0;
    for (int i = 0; i < all; ++i) {
        char *path = join(dir, names[i]);
        if (is_dir(fs, path)) classes[(*n)++] = xstrdup(names[i]);
        else if (image_ext(names[i])) ++*loose;
        free(path);
    }
    free_names(names, all);
    return classes;
}

static int class_index(const folder_set *fs, const char *name)
{
    for (int k = 0; k < fs->classes; ++k)
        if (!strcmp(fs->names[k], name)) return k;
    return -1;
}

// Names Darknet can use as labels: a line of a labels file that no other label
// is part of (a path's label is the one label that occurs in it).
static void check_class_names(const folder_set *fs, const char *root)
{
    if (fs->classes < 2)
        inv_die("%s holds %s: a classifier needs at least two (layout: %s/<class>/*.jpg)", root,
                fs->classes ? "a single class folder" : "no class folder", root);
    for (int k = 0; k < fs->classes; ++k)
        for (const char *p = fs->labels[k]; *p; ++p)
            if (isspace((unsigned char)*p) || iscntrl((unsigned char)*p))
                inv_die("class name '%s' (a folder in %s): it contains whitespace or a control character, which Darknet's labels file and image lists cannot hold; rename the folder",
                        fs->labels[k], root);
    for (int a = 0; a < fs->classes; ++a)
        for (int b = 0; b < fs->classes; ++b)
            if (a != b && strstr(fs->labels[a], fs->labels[b]))
                inv_die("class names '%s' and '%s' (folders in %s): '%s' contains '%s', and Darknet takes an image's label from the one label string that occurs in its path, so it could not tell them apart; rename one of the folders",
                        fs->labels[a], fs->labels[b], root, fs->labels[a], fs->labels[b]);
}

static void scan_class_folders(folder_set *fs, const char *dir, int split, int first, const char *prefix)
{
    int n, loose;
    char **names = class_folders(fs, dir, &n, &loose);
    fs->skipped_loose += loose;
    if (loose) inv_warn("%s: %d image%s not in a class folder, skipped", dir, loose, loose == 1 ? "" : "s");
    if (first) {
        fs->classes = n;
        fs->names = names;
        fs->labels = xcalloc(n ? n : 1, sizeof *fs->labels);
        for (int k = 0; k < n; ++k) {
            fs->labels[k] = xcalloc(strlen(prefix) + strlen(names[k]) + 1, 1);
            strcat(strcat(fs->labels[k], prefix), names[k]);
        }
        fs->img = xcalloc(n ? n : 1, sizeof *fs->img);
        check_class_names(fs, dir);
    }
    for (int i = 0; i < n; ++i) {
        int k = class_index(fs, names[i]);
        if (k < 0)
            inv_die("%s/%s: class '%s' has no folder in the training folder; every class of %s must also be a training class",
                    dir, names[i], names[i], dir);
        char *path = join(dir, names[i]);
        int skipped = fs->skipped_other + fs->skipped_unreadable;
        collect_images(fs, path, &fs->img[k][split]);
        if (!fs->img[k][split].n) {
            skipped = fs->skipped_other + fs->skipped_unreadable - skipped;
            if (split == SPLIT_TRAIN)
                inv_die("class folder %s holds no .jpg/.jpeg/.png image Darknet can read (%d other file%s); remove the folder or add images",
                        path, skipped, skipped == 1 ? "" : "s");
            inv_warn("class folder %s holds no image: no validation images for class '%s'", path, names[i]);
        }
        free(path);
    }
    if (!first) {
        for (int k = 0; k < fs->classes; ++k) {
            int found = 0;
            for (int i = 0; i < n; ++i) found |= !strcmp(names[i], fs->names[k]);
            if (!found) inv_warn("%s has no folder for class '%s': no validation images for it", dir, fs->names[k]);
        }
        free_names(names, n);
    }
}

// A class's validation images: round(fraction * n) of them (at least one stays
// for training), drawn from a generator seeded by the seed and the class name,
// so a class's split does not depend on the other classes.
static void split_class(image_vec *v, float fraction, int seed, const char *name)
{
    image_vec all = v[SPLIT_TRAIN];
    int n = all.n, nv = (int)(fraction * n + 0.5f);
    if (nv > n - 1) nv = n - 1;
    if (nv <= 0) return;
    int *order = xcalloc(n, sizeof *order);
    char *valid = xcalloc(n, 1);
    for (int i = 0; i < n; ++i) order[i] = i;
    rng r = make_rng(hash_string(name, (uint64_t)(uint32_t)seed ^ HASH_START));
    for (int i = n - 1; i > 0; --i) {
        int j = rng_int(&r, 0, i), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (int i = 0; i < nv; ++i) valid[order[i]] = 1;
    image_vec train = {xcalloc(n, sizeof(src_image)), 0, n}, val = {xcalloc(nv, sizeof(src_image)), 0, nv};
    for (int i = 0; i < n; ++i) {   // source order kept within each split
        if (valid[i]) val.v[val.n++] = all.v[i];
        else train.v[train.n++] = all.v[i];
    }
    free(all.v);
    v[SPLIT_TRAIN] = train;
    v[SPLIT_VALID] = val;
    free(order);
    free(valid);
}

static void free_folder_set(folder_set *fs)
{
    for (int k = 0; k < fs->classes; ++k) {
        for (int s = 0; s < SPLITS; ++s) {
            for (int i = 0; i < fs->img[k][s].n; ++i) free(fs->img[k][s].v[i].path);
            free(fs->img[k][s].v);
        }
        free(fs->labels[k]);
    }
    free(fs->img);
    free(fs->labels);
    free_names(fs->names, fs->classes);
    free(fs->first_unreadable);
}

static void image_name(char *buf, size_t n, int index, const char *cls, const char *ext)
{
    snprintf(buf, n, "%06d_%s.%s", index, cls, ext);
}

// Darknet's rule on the paths the lists will hold: each must contain its own
// class's name and no other. Labels hold no '/', so a label occurs in a path
// only inside one of its components: out_dir's, "images", the split, the class
// folder (only its own name: checked above) or the file name.
static void check_final_paths(const folder_set *fs, const char *out)
{
    int used[SPLITS] = {0};
    for (int k = 0; k < fs->classes; ++k)
        for (int s = 0; s < SPLITS; ++s) used[s] |= fs->img[k][s].n > 0;
    for (int k = 0; k < fs->classes; ++k) {
        const char *l = fs->labels[k];
        if (strstr(out, l))
            inv_die("out_dir '%s' contains the class name '%s': Darknet would find that label in every image path; choose another directory name", out, l);
        for (int s = 0; s < SPLITS; ++s) {
            if (!used[s]) continue;
            char part[64];
            snprintf(part, sizeof part, "/images/%s/", split_names[s]);
            if (strstr(part, l))
                inv_die("class name '%s' occurs in the folder names the import writes (images/%s/): Darknet would find that label in every image path there; rename the class folder (e.g. add a prefix)",
                        l, split_names[s]);
        }
    }
    // Only a label holding a digit, '_' or '.', or part of an extension, can
    // occur in another class's file name (NNNNNN_<class>.<ext>).
    for (int d = 0; d < fs->classes; ++d) {
        const char *l = fs->labels[d];
        if (!strpbrk(l, "0123456789_.") && !strstr("jpeg", l) && !strstr("png", l) && !strstr("jpg", l)) continue;
        for (int k = 0; k < fs->classes; ++k)
            for (int s = 0; s < SPLITS; ++s) {
                const image_vec *v = &fs->img[k][s];
                for (int i = 0; i < v->n; ++i) {
                    char name[PATH_MAX];
                    image_name(name, sizeof name, i, fs->labels[k], v->v[i].ext);
                    if (k != d && strstr(name, l))
                        inv_die("class name '%s' occurs in the file name %s that an image of class '%s' gets (numbered NNNNNN_<class>.<ext>): Darknet would give it two labels; rename the class folder, or give the labels a prefix of letters (-prefix)",
                                l, name, fs->labels[k]);
                }
            }
    }
}

static void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb");
    if (!in) inv_die("cannot open %s: %s", from, strerror(errno));
    FILE *out = fopen(to, "wb");
    if (!out) inv_die("cannot create %s: %s", to, strerror(errno));
    char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n) break;
    int bad = ferror(in) || ferror(out);
    int err = errno;
    fclose(in);
    if (fclose(out) != 0 && !bad) { bad = 1; err = errno; }
    if (bad) inv_die("cannot copy %s to %s: %s", from, to, strerror(err ? err : EIO));
}

enum { MODE_LINK, MODE_COPY, MODE_MOVE };

// Places every image under tmp/images/<split>/<class>/ and writes the split's
// list with the paths the images will have under out.
static int write_split(const folder_set *fs, int s, const char *tmp, const char *out, int mode)
{
    int total = 0;
    for (int k = 0; k < fs->classes; ++k) total += fs->img[k][s].n;
    if (!total) return 0;
    char path[PATH_MAX], list[PATH_MAX];
    snprintf(list, sizeof list, "%s/%s.list", tmp, split_names[s]);
    atomic_file a = atomic_open(list);
    for (int k = 0; k < fs->classes; ++k) {
        const image_vec *v = &fs->img[k][s];
        if (!v->n) continue;
        snprintf(path, sizeof path, "%s/images/%s/%s", tmp, split_names[s], fs->labels[k]);
        make_dir(path);
        for (int i = 0; i < v->n; ++i) {
            char name[PATH_MAX], dest[PATH_MAX + 300];
            image_name(name, sizeof name, i, fs->labels[k], v->v[i].ext);
            snprintf(dest, sizeof dest, "%s/%s", path, name);
            if (mode == MODE_COPY) copy_file(v->v[i].path, dest);
            else if (mode == MODE_MOVE) {
                if (rename(v->v[i].path, dest) != 0) inv_die("cannot move %s to %s: %s", v->v[i].path, dest, strerror(errno));
            } else {
                char *target = realpath(v->v[i].path, NULL);
                if (!target) inv_die("cannot resolve %s: %s", v->v[i].path, strerror(errno));
                if (symlink(target, dest) != 0) inv_die("cannot create link %s: %s", dest, strerror(errno));
                free(target);
            }
            fprintf(a.f, "%s/images/%s/%s/%s\n", out, split_names[s], fs->labels[k], name);
        }
    }
    atomic_commit(&a);
    return total;
}

// tar -xf archive -C dir, run directly (no shell); GNU tar detects gzip itself.
static void extract_archive(const char *archive, const char *dir)
{
    char *args[] = {"tar", "-xf", (char *)archive, "-C", (char *)dir, "--no-same-owner", "--no-same-permissions", NULL};
    pid_t pid;
    int err = posix_spawnp(&pid, "tar", NULL, NULL, args, environ);
    if (err) inv_die("cannot run tar to extract %s: %s", archive, strerror(err));
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) inv_die("waiting for tar: %s", strerror(errno));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        inv_die("tar could not extract %s (%s %d)", archive, WIFEXITED(status) ? "exit status" : "signal",
                WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}

// Temporaries of earlier runs into the same out_dir whose process is gone.
static void remove_stale_dirs(const char *parent, const char *prefix)
{
    DIR *d = opendir(parent);
    if (!d) return;
    struct dirent *e;
    size_t n = strlen(prefix);
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, prefix, n)) continue;
        char *end;
        long pid = strtol(e->d_name + n, &end, 10);
        if (*end || pid <= 0) continue;
        char *path = join(parent, e->d_name);
        struct stat st;
        if (stat(path, &st) == 0 && !temp_writer_alive(pid, st.st_mtime)) remove_tree(path);
        free(path);
    }
    closedir(d);
}

static const char *channel_name(int c)
{
    return c == 1 ? "gray" : c == 2 ? "gray+alpha" : c == 3 ? "RGB" : c == 4 ? "RGBA" : "?";
}

// "32x32 RGB: 50000", or the mix, most frequent first.
static void report_sizes(const folder_set *fs, int s)
{
    typedef struct { int w, h, c, n; } size_count;
    size_count *sizes = NULL;
    int n = 0;
    for (int k = 0; k < fs->classes; ++k)
        for (int i = 0; i < fs->img[k][s].n; ++i) {
            const src_image *im = &fs->img[k][s].v[i];
            int j = 0;
            while (j < n && !(sizes[j].w == im->w && sizes[j].h == im->h && sizes[j].c == im->c)) ++j;
            if (j == n) {
                sizes = realloc(sizes, (n + 1) * sizeof *sizes);
                if (!sizes) inv_die("out of memory");
                sizes[n++] = (size_count){im->w, im->h, im->c, 0};
            }
            ++sizes[j].n;
        }
    for (int a = 0; a < n; ++a)   // few distinct sizes: selection sort by count
        for (int b = a + 1; b < n; ++b)
            if (sizes[b].n > sizes[a].n) { size_count t = sizes[a]; sizes[a] = sizes[b]; sizes[b] = t; }
    printf("  sizes:");
    for (int j = 0; j < n && j < 6; ++j) printf("%s %dx%d %s: %d", j ? "," : "", sizes[j].w, sizes[j].h, channel_name(sizes[j].c), sizes[j].n);
    if (n > 6) printf(", and %d other sizes", n - 6);
    printf("\n");
    int dims = 0;
    for (int j = 1; j < n; ++j) dims |= sizes[j].w != sizes[0].w || sizes[j].h != sizes[0].h;
    if (dims) inv_warn("%s images differ in size: this plugin's verbs scale and centre-crop each to the network's input, stock Darknet resizes it", split_names[s]);
    free(sizes);
}

int run_import_folder(int argc, char **argv)
{
    if (wants_help(argc, argv) || argc < 5) {
        fprintf(stderr, "usage: %s inversion import-folder <dir|archive> <out_dir> [-valid-fraction F] [-seed S] [-copy] [-prefix P] [-name NAME]\n"
                "  Turns a folder of images, one subfolder per class, into a Darknet classifier dataset:\n"
                "    dir/<class>/*.jpg|jpeg|png                  (split here with -valid-fraction), or\n"
                "    dir/train/<class>/... and dir/test/<class>/... (also valid/ or val/ instead of test/).\n"
                "  Extensions are case-insensitive, subfolders of a class folder belong to it, hidden files are\n"
                "  ignored, a single wrapping folder (e.g. dir/cifar10/train/...) is descended into. A .tar.gz,\n"
                "  .tgz or .tar archive is extracted (with tar) into out_dir first and its images moved, not linked.\n"
                "  Class names are the folder names (labels.txt, sorted). Darknet takes an image's label from the\n"
                "  one label that occurs in its path, so names that contain one another, names with whitespace,\n"
                "  and an out_dir whose path contains a class name are refused before anything is written.\n"
                "  Writes out_dir/images/<train|valid>/<class>/NNNNNN_<class>.<ext> (links to the originals with\n"
                "  absolute targets; images are not re-encoded), train.list, valid.list, labels.txt and\n"
                "  <name>.data. out_dir must not exist or be empty; it appears complete or not at all.\n"
                "  -valid-fraction F  without train/test folders: this fraction of each class is the valid split\n"
                "                     (default 0.1; 0: no valid.list and no valid= key)\n"
                "  -seed S            which images the split picks (default 1); the same seed, the same split\n"
                "  -copy              copy the images instead of linking them\n"
                "  -prefix P          labels are P followed by the folder name (e.g. -prefix digit for folders\n"
                "                     0..9, whose names would occur in the numbered file names)\n"
                "  -name NAME         the .data file's name (default: out_dir's last component)\n", argv[0]);
        return wants_help(argc, argv) ? 0 : 1;
    }
    const char *with_value[] = {"-valid-fraction", "-seed", "-name", "-prefix", NULL};
    const char *alone[] = {"-copy", NULL};
    opt_check(argc, argv, 5, with_value, alone);
    const char *src = argv[3];
    float fraction = opt_float(argc, argv, "-valid-fraction", 0.1f);
    int seed = opt_int(argc, argv, "-seed", 1);
    int copy = opt_has(argc, argv, "-copy");
    const char *label_prefix = opt_str(argc, argv, "-prefix", "");
    if (strchr(label_prefix, '/')) inv_die("-prefix '%s': a label cannot hold a '/'", label_prefix);
    if (!(fraction >= 0 && fraction < 1)) inv_die("-valid-fraction %g: must be at least 0 and below 1", fraction);

    // out_dir without trailing slashes; its parent holds the temporary directory.
    char *out = xstrdup(argv[4]);
    for (size_t n = strlen(out); n > 1 && out[n - 1] == '/'; --n) out[n - 1] = 0;
    if (strpbrk(out, "\n\r")) inv_die("out_dir holds a line break: it could not be written in a list");
    char *slash = strrchr(out, '/');
    const char *base = slash ? slash + 1 : out;
    char *parent = slash ? (slash == out ? xstrdup("/") : strndup(out, slash - out)) : xstrdup(".");
    if (!*base || !strcmp(base, ".") || !strcmp(base, "..")) inv_die("out_dir '%s': give a directory name, e.g. data/mine", out);
    const char *name = opt_str(argc, argv, "-name", base);
    if (!*name || strchr(name, '/')) inv_die("-name '%s': must be a non-empty file name without '/'", name);
    struct stat st;
    if (stat(out, &st) == 0) {
        if (!S_ISDIR(st.st_mode)) inv_die("out_dir %s exists and is not a directory", out);
        DIR *d = opendir(out);
        if (!d) inv_die("cannot read out_dir %s: %s", out, strerror(errno));
        struct dirent *e;
        int entries = 0;
        while ((e = readdir(d))) entries += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
        closedir(d);
        if (entries)
            inv_die("out_dir %s exists and is not empty (an earlier import?): remove it or choose another; an import never writes into existing data", out);
    }
    if (stat(src, &st) != 0) inv_die("cannot open %s: %s", src, strerror(errno));
    folder_set fs = {0};
    fs.archive = S_ISREG(st.st_mode);
    if (fs.archive && !ends_with_ci(src, ".tar.gz") && !ends_with_ci(src, ".tgz") && !ends_with_ci(src, ".tar"))
        inv_die("%s is a file, not a folder or a .tar.gz/.tgz/.tar archive", src);
    if (!fs.archive && !S_ISDIR(st.st_mode)) inv_die("%s is neither a folder nor an archive", src);
    if (!fs.archive) {
        // A dataset inside its own source would be a class folder of the next import.
        char *real_src = realpath(src, NULL), *real_parent = realpath(parent, NULL);
        size_t n = real_src ? strlen(real_src) : 0;
        if (real_src && real_parent && !strncmp(real_parent, real_src, n) && (real_parent[n] == '/' || !real_parent[n]))
            inv_die("out_dir %s lies inside the source folder %s: choose a directory outside it", out, src);
        free(real_src);
        free(real_parent);
    }
    if (fs.archive && copy) inv_warn("-copy has no effect on an archive: its images are moved into out_dir");

    // The temporary directory: created only now for an archive (it is
    // extracted there), otherwise once every check has passed.
    char prefix[PATH_MAX], tmpbuf[PATH_MAX + 64];
    snprintf(prefix, sizeof prefix, ".%s.import-tmp.", base);
    snprintf(tmpbuf, sizeof tmpbuf, "%s/%s%d", parent, prefix, (int)getpid());
    char *tmp = xstrdup(tmpbuf);
    char *source = xstrdup(src);
    if (fs.archive) {
        make_dir(parent);
        remove_stale_dirs(parent, prefix);
        pending_dir = tmp;
        atexit(remove_pending_dir);
        free(source);
        source = join(tmp, ".extract");
        make_dir(source);
        fprintf(stderr, "extracting %s\n", src);
        extract_archive(src, source);
    }

    int has_splits;
    char *root = find_root(&fs, source, &has_splits);
    if (has_splits) {
        if (opt_has(argc, argv, "-valid-fraction"))
            inv_die("%s has its own train/test folders: -valid-fraction does not apply", root);
        int n;
        char **names = list_dir(root, &n);
        char *train = NULL, *valid = NULL;
        for (int i = 0; i < n; ++i) {
            char *path = join(root, names[i]);
            int s = is_dir(&fs, path) ? split_of(names[i]) : -2;
            if (s == SPLIT_TRAIN) {
                if (train) inv_die("%s has two training folders, %s and %s", root, train, path);
                train = path;
            } else if (s == SPLIT_VALID) {
                if (valid) inv_die("%s has two validation folders, %s and %s: keep one of test/, valid/, val/", root, valid, path);
                valid = path;
            } else {
                if (s == -1) inv_warn("%s: not train/, test/, valid/ or val/: ignored", path);
                free(path);
            }
        }
        free_names(names, n);
        if (!train) inv_die("%s has %s but no train/ folder", root, valid);
        scan_class_folders(&fs, train, SPLIT_TRAIN, 1, label_prefix);
        if (valid) scan_class_folders(&fs, valid, SPLIT_VALID, 0, label_prefix);
        free(train);
        free(valid);
    } else {
        scan_class_folders(&fs, root, SPLIT_TRAIN, 1, label_prefix);
        for (int k = 0; k < fs.classes; ++k) split_class(fs.img[k], fraction, seed, fs.names[k]);
    }
    check_final_paths(&fs, out);
    size_t longest = 0;
    for (int k = 0; k < fs.classes; ++k)
        if (strlen(fs.labels[k]) > longest) longest = strlen(fs.labels[k]);
    if (strlen(out) + 64 + 2 * longest > 4000) inv_die("out_dir '%s' is too long for the image lists", out);

    // Every check has passed: write.
    if (!fs.archive) {
        make_dir(parent);
        remove_stale_dirs(parent, prefix);
        pending_dir = tmp;
        atexit(remove_pending_dir);
        make_dir(tmp);
    }
    int mode = fs.archive ? MODE_MOVE : copy ? MODE_COPY : MODE_LINK;
    int count[SPLITS];
    for (int s = 0; s < SPLITS; ++s) count[s] = write_split(&fs, s, tmp, out, mode);
    char path[PATH_MAX + 128];
    snprintf(path, sizeof path, "%s/labels.txt", tmp);
    atomic_file a = atomic_open(path);
    for (int k = 0; k < fs.classes; ++k) fprintf(a.f, "%s\n", fs.labels[k]);
    atomic_commit(&a);
    snprintf(path, sizeof path, "%s/%s.data", tmp, name);
    a = atomic_open(path);
    fprintf(a.f, "classes=%d\ntrain=%s/train.list\n", fs.classes, out);
    if (count[SPLIT_VALID]) fprintf(a.f, "valid=%s/valid.list\n", out);
    fprintf(a.f, "labels=%s/labels.txt\nnames=%s/labels.txt\ntop=1\n", out, out);
    atomic_commit(&a);
    if (fs.archive) remove_tree(source);   // what is left: the files that were skipped
    if (mode != MODE_LINK) {   // copied or extracted image data reaches the disk before out_dir appears
        int fd = open(tmp, O_RDONLY | O_DIRECTORY);
        if (fd < 0 || syncfs(fd) != 0) inv_die("cannot flush %s to disk: %s", tmp, strerror(errno));
        close(fd);
    }
    if (rename(tmp, out) != 0) inv_die("cannot rename %s to %s: %s", tmp, out, strerror(errno));
    pending_dir = NULL;

    // The report.
    printf("%s: %d classes from %s%s%s\n", out, fs.classes, src, root + strlen(source),
           fs.archive ? " (extracted; images moved)" : copy ? " (images copied)" : " (images linked)");
    for (int s = 0; s < SPLITS; ++s) {
        if (!count[s]) continue;
        printf("%s.list: %d images\n", split_names[s], count[s]);
        report_sizes(&fs, s);
    }
    printf("  %-24s %8s %8s\n", "class", "train", "valid");
    for (int k = 0; k < fs.classes; ++k)
        printf("  %-24s %8d %8d\n", fs.labels[k], fs.img[k][SPLIT_TRAIN].n, fs.img[k][SPLIT_VALID].n);
    if (!count[SPLIT_VALID]) printf("no validation images: %s/%s.data has no valid= key\n", out, name);
    printf("images kept as stored (not re-encoded); Darknet reads each as RGB (gray replicated, alpha dropped)\n");
    if (fs.skipped_other) printf("skipped %d file%s not .jpg/.jpeg/.png images\n", fs.skipped_other, fs.skipped_other == 1 ? "" : "s");
    if (fs.skipped_unreadable)
        printf("skipped %d image%s stb cannot read, first: %s\n", fs.skipped_unreadable, fs.skipped_unreadable == 1 ? "" : "s", fs.first_unreadable);
    if (fs.skipped_loose) printf("skipped %d image%s outside class folders\n", fs.skipped_loose, fs.skipped_loose == 1 ? "" : "s");
    printf("data file: %s/%s.data\n", out, name);
    free_folder_set(&fs);
    free(root);
    free(source);
    free(parent);
    free(tmp);
    free(out);
    return 0;
}
