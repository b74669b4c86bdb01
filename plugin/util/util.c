#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void inv_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fflush(stdout);
    fprintf(stderr, "darknet inversion: error: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

void inv_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "darknet inversion: warning: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) inv_die("out of memory allocating %zu x %zu bytes", n, size);
    return p;
}

char *xstrdup(const char *s)
{
    char *p = strdup(s);
    if (!p) inv_die("out of memory");
    return p;
}

static int find_flag(int argc, char **argv, const char *flag)
{
    for (int i = 3; i < argc; ++i)
        if (strcmp(argv[i], flag) == 0) return i;
    return -1;
}

const char *opt_str(int argc, char **argv, const char *flag, const char *def)
{
    int i = find_flag(argc, argv, flag);
    if (i < 0) return def;
    if (i + 1 >= argc) inv_die("option %s needs a value", flag);
    return argv[i + 1];
}

int opt_int(int argc, char **argv, const char *flag, int def)
{
    const char *s = opt_str(argc, argv, flag, NULL);
    if (!s) return def;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*s == 0 || *end || errno || v < -2147483647L || v > 2147483647L)
        inv_die("option %s: '%s' is not an integer", flag, s);
    return (int)v;
}

float opt_float(int argc, char **argv, const char *flag, float def)
{
    const char *s = opt_str(argc, argv, flag, NULL);
    if (!s) return def;
    char *end;
    float v = strtof(s, &end);
    if (*s == 0 || *end) inv_die("option %s: '%s' is not a number", flag, s);
    return v;
}

int opt_has(int argc, char **argv, const char *flag) { return find_flag(argc, argv, flag) >= 0; }

int env_switch_on(const char *name)
{
    const char *v = getenv(name);
    return !v || strcmp(v, "0");
}

static int in_list(const char *s, const char **list)
{
    for (; list && *list; ++list)
        if (strcmp(s, *list) == 0) return 1;
    return 0;
}

void opt_check(int argc, char **argv, int first, const char **with_value, const char **alone)
{
    for (int i = first; i < argc; ++i) {
        if (in_list(argv[i], with_value)) { ++i; continue; }
        if (in_list(argv[i], alone)) continue;
        inv_die("unexpected argument '%s' (see: %s inversion %s --help)", argv[i], argv[0], argv[2]);
    }
}

// The temporary file being written, removed if SIGINT/SIGTERM arrives, so an
// interrupted run leaves every output complete or absent.
static char *volatile pending_tmp;

static void remove_pending_and_die(int sig)
{
    char *tmp = pending_tmp;
    if (tmp) unlink(tmp);
    signal(sig, SIG_DFL);
    raise(sig);
}

static void watch_signals(void)
{
    static int installed;
    if (installed) return;
    installed = 1;
    signal(SIGINT, remove_pending_and_die);
    signal(SIGTERM, remove_pending_and_die);
}

atomic_file atomic_open(const char *path)
{
    watch_signals();
    atomic_file a;
    size_t n = strlen(path) + 32;
    a.path = xstrdup(path);
    a.tmp = xcalloc(n, 1);
    snprintf(a.tmp, n, "%s.tmp.%d", path, (int)getpid());
    a.f = fopen(a.tmp, "wb");
    if (!a.f) inv_die("cannot create %s: %s", a.tmp, strerror(errno));
    pending_tmp = a.tmp;
    return a;
}

void atomic_commit(atomic_file *a)
{
    int bad = ferror(a->f);
    int err = errno;
    if (fflush(a->f) != 0) { bad = 1; err = errno; }
    if (!bad && fsync(fileno(a->f)) != 0) { bad = 1; err = errno; }
    if (fclose(a->f) != 0 && !bad) { bad = 1; err = errno; }
    a->f = NULL;
    if (bad) {
        pending_tmp = NULL;
        unlink(a->tmp);
        inv_die("cannot write %s: %s", a->path, strerror(err ? err : EIO));
    }
    int renamed = rename(a->tmp, a->path);
    pending_tmp = NULL;
    if (renamed != 0) {
        err = errno;
        unlink(a->tmp);
        inv_die("cannot rename %s to %s: %s", a->tmp, a->path, strerror(err));
    }
    free(a->tmp);
    free(a->path);
    a->tmp = a->path = NULL;
}

void atomic_abort(atomic_file *a)
{
    pending_tmp = NULL;
    if (a->f) fclose(a->f);
    if (a->tmp) unlink(a->tmp);
    free(a->tmp);
    free(a->path);
    a->f = NULL;
    a->tmp = a->path = NULL;
}

// Reads /proc/<pid>/stat: the state (zombie or not) and field 22, the start time.
int temp_writer_alive(long pid, time_t written)
{
    if (kill((pid_t)pid, 0) != 0 && errno == ESRCH) return 0;
    char path[64], text[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return 1;
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = 0;
    const char *p = strrchr(text, ')');   // the command name may hold spaces
    if (!p || p[1] != ' ') return 1;
    char state = p[2];
    if (state == 'Z' || state == 'X' || state == 'x') return 0;
    // Field 22, the start time in clock ticks after boot; fields 3.. follow ')'.
    unsigned long long start = 0;
    int field = 3;
    for (p += 2; *p && field < 22; ++p)
        if (*p == ' ') ++field;
    if (field != 22 || sscanf(p, "%llu", &start) != 1) return 1;
    long ticks = sysconf(_SC_CLK_TCK);
    unsigned long long boot = 0;
    f = fopen("/proc/stat", "r");
    if (!f) return 1;
    while (fgets(text, sizeof text, f))
        if (sscanf(text, "btime %llu", &boot) == 1) break;
    fclose(f);
    if (!boot || ticks <= 0) return 1;
    // btime has whole seconds: allow two either way.
    return (time_t)(boot + start / (unsigned long long)ticks) <= written + 2;
}

// A file a killed run was writing: "<name>.tmp.<pid>" (atomic_open) whose
// writer is gone. A live writer's file is left alone.
static int stale_temp(const char *dir, const char *name)
{
    const char *t = strstr(name, ".tmp.");
    if (!t || !t[5]) return 0;
    for (const char *c = t + 5; *c; ++c)
        if (*c < '0' || *c > '9') return 0;
    long pid = strtol(t + 5, NULL, 10);
    if (pid <= 0) return 0;
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (stat(path, &st) != 0) return 0;
    return !temp_writer_alive(pid, st.st_mtime);
}

static void remove_stale_temps(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char path[4096];
    while ((e = readdir(d)))
        if (stale_temp(dir, e->d_name)) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    closedir(d);
}

void make_dir(const char *path)
{
    char *p = xstrdup(path);
    for (char *s = p + 1; *s; ++s) {
        if (*s != '/') continue;
        *s = 0;
        if (mkdir(p, 0777) != 0 && errno != EEXIST) inv_die("cannot create directory %s: %s", p, strerror(errno));
        *s = '/';
    }
    if (mkdir(p, 0777) != 0 && errno != EEXIST) inv_die("cannot create directory %s: %s", p, strerror(errno));
    struct stat st;
    if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode)) inv_die("%s is not a directory", p);
    if (access(p, W_OK) != 0) inv_die("directory %s is not writable", p);
    free(p);
}

void make_output_dir(const char *path)
{
    make_dir(path);
    remove_stale_temps(path);
}

int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

char *read_whole_file(const char *path, const char *what, int max_mib, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) inv_die("cannot open %s %s: %s", what, path, strerror(errno));
    size_t cap = 1 << 16, n = 0, got;
    char *text = xcalloc(cap + 1, 1);
    while ((got = fread(text + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            if (cap >= ((size_t)max_mib << 20)) inv_die("%s %s is larger than %d MiB", what, path, max_mib);
            cap *= 2;
            char *bigger = realloc(text, cap + 1);
            if (!bigger) inv_die("out of memory");
            text = bigger;
        }
    }
    int read_error = ferror(f);
    fclose(f);
    if (read_error) inv_die("cannot read %s %s", what, path);
    text[n] = 0;
    *len = n;
    return text;
}

uint64_t hash_string(const char *s, uint64_t h)
{
    for (; *s; ++s) h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return (h ^ 0xff) * 0x100000001b3ULL;   // terminator, so "ab"+"c" != "a"+"bc"
}

uint64_t hash_file(const char *path, uint64_t h)
{
    FILE *f = fopen(path, "rb");
    if (!f) inv_die("cannot open %s: %s", path, strerror(errno));
    unsigned char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        for (size_t i = 0; i < n; ++i) h = (h ^ buf[i]) * 0x100000001b3ULL;
    fclose(f);
    return h;
}

double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

void format_duration(double s, char *buf, size_t n)
{
    if (s < 0 || s != s) s = 0;
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, n, "%ldh%02ldm", t / 3600, (t / 60) % 60);
    else if (t >= 60) snprintf(buf, n, "%ldm%02lds", t / 60, t % 60);
    else snprintf(buf, n, "%lds", t);
}

void text_log_add(text_log *t, const char *line)
{
    size_t n = strlen(line);
    if (t->len + n + 1 > t->cap) {
        t->cap = (t->len + n + 1) * 2;
        t->s = realloc(t->s, t->cap);
        if (!t->s) inv_die("out of memory");
    }
    memcpy(t->s + t->len, line, n + 1);
    t->len += n;
}

int silence_stderr(void)
{
    fflush(stderr);
    int saved = dup(2);
    int devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0) { dup2(devnull, 2); close(devnull); }
    return saved;
}

void restore_stderr(int saved)
{
    fflush(stderr);
    if (saved >= 0) { dup2(saved, 2); close(saved); }
}
