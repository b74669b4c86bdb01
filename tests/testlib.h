// Minimal test harness: CHECK records a failure with file:line and goes on;
// SKIP counts a check that cannot run on this machine, saying why; each test
// program ends with "N passed, N failed[, N skipped]" and exits non-zero on
// failure.
#ifndef INV_TESTLIB_H
#define INV_TESTLIB_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int tests_passed, tests_failed, tests_skipped;

#define CHECK(cond, ...)                                                       \
    do {                                                                       \
        if (cond) ++tests_passed;                                              \
        else {                                                                 \
            ++tests_failed;                                                    \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);    \
            fprintf(stderr, __VA_ARGS__);                                      \
            fprintf(stderr, "\n");                                             \
        }                                                                      \
    } while (0)

#define SKIP(...)                                                              \
    do {                                                                       \
        ++tests_skipped;                                                       \
        printf("skip ");                                                       \
        printf(__VA_ARGS__);                                                   \
        printf("\n");                                                          \
    } while (0)

static inline int test_summary(void)
{
    if (tests_skipped) printf("%d passed, %d failed, %d skipped\n", tests_passed, tests_failed, tests_skipped);
    else printf("%d passed, %d failed\n", tests_passed, tests_failed);
    return tests_failed ? 1 : 0;
}

// Writes text to a fresh temporary file and returns its path (caller frees).
static inline char *write_temp(const char *text, const char *suffix)
{
    char *path = malloc(64);
    snprintf(path, 64, "/tmp/inv-test-XXXXXX%s", suffix);
    int fd = mkstemps(path, (int)strlen(suffix));
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) { perror("write_temp"); exit(2); }
    close(fd);
    return path;
}
#endif
