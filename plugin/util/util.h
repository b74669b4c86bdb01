// Checked allocation, errors, options and atomic files shared by every verb.
#ifndef INV_UTIL_H
#define INV_UTIL_H
#include <stddef.h>
#include <stdio.h>
#include <time.h>

// Print "darknet inversion: <message>" to stderr and exit(1).
void inv_die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
void inv_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void *xcalloc(size_t n, size_t size);
char *xstrdup(const char *s);

// `-flag value` options: each returns def when absent and dies on a malformed value.
const char *opt_str(int argc, char **argv, const char *flag, const char *def);
int opt_int(int argc, char **argv, const char *flag, int def);
float opt_float(int argc, char **argv, const char *flag, float def);
int opt_has(int argc, char **argv, const char *flag);
// An environment switch that is on unless set to 0 (INV_SHARE_BUFFERS, INV_WINOGRAD, ...).
int env_switch_on(const char *name);
// Dies naming the first argument from `first` on that is neither a known flag
// (flags_with_value, flags_alone: NULL-terminated) nor a flag's value.
void opt_check(int argc, char **argv, int first, const char **flags_with_value, const char **flags_alone);

// Whether the process `pid` can still be writing a file last modified at
// `written`. A killed run may linger as a zombie that nobody reaps (a
// container's init, `timeout -s KILL` dying with its child), and a pid may
// have been reused by a process started after the file's last write: neither
// is a writer. Without /proc, any existing process counts as one.
int temp_writer_alive(long pid, time_t written);

// Darknet's chatter on stderr (its layer table, "Loading weights", "Saving
// weights") kept off the terminal: silence_stderr points fd 2 at /dev/null and
// returns what restore_stderr puts back.
int silence_stderr(void);
void restore_stderr(int saved);

// Atomic output: write to "<path>.tmp.<pid>", fsync, rename over path.
// atomic_open dies with a clear error if the file cannot be created.
typedef struct { FILE *f; char *path; char *tmp; } atomic_file;
atomic_file atomic_open(const char *path);
void atomic_commit(atomic_file *a);   // dies (removing the temporary) on any write error, e.g. ENOSPC
void atomic_abort(atomic_file *a);

void make_dir(const char *path);      // mkdir -p; dies if not a writable directory
// make_dir, then removes the temporaries of atomic writes in it whose
// process was killed (what an interrupted run left mid-write).
void make_output_dir(const char *path);
int file_exists(const char *path);
// A whole file as a NUL-terminated string (*len bytes; the file may itself
// hold NULs, which callers that need text check). Dies with "cannot open
// <what> <path>", on a read error, or when it exceeds max_mib MiB.
char *read_whole_file(const char *path, const char *what, int max_mib, size_t *len);
// FNV-1a over a file's bytes (dies if unreadable) or a string, chained through h.
#include <stdint.h>
uint64_t hash_file(const char *path, uint64_t h);
uint64_t hash_string(const char *s, uint64_t h);
#define HASH_START 0xcbf29ce484222325ULL
// A growable text (a CSV log), NUL-terminated once anything was added.
typedef struct { char *s; size_t len, cap; } text_log;
void text_log_add(text_log *t, const char *line);
double now_seconds(void);
void format_duration(double seconds, char *buf, size_t n);
#endif
