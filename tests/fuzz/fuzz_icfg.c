// libFuzzer target: the strict inversion cfg parser on arbitrary text. Every
// input must either parse into parameters that satisfy the schema or give an
// error message naming the file; anything else (a crash, a sanitizer report,
// an unterminated or foreign message) is a bug.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "icfg.h"

#define REQUIRE(cond) do { if (!(cond)) __builtin_trap(); } while (0)

static int terminated(const char *s, size_t n) { return memchr(s, 0, n) != NULL; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = 0;   // read_inversion_cfg refuses NUL bytes; the parser sees text up to the first one

    inversion_params p;
    char err[512];
    memset(err, 'x', sizeof err);
    int rc = parse_inversion_cfg_text(text, "fuzz.cfg", &p, err, sizeof err);
    REQUIRE(rc == 0 || rc == -1);
    if (rc) {
        REQUIRE(terminated(err, sizeof err));
        REQUIRE(!strncmp(err, "fuzz.cfg", 8));
    } else {
        REQUIRE(p.batch >= 1 && p.batch <= 65536);
        REQUIRE(p.iterations >= 1 && p.log_every >= 1);
        REQUIRE(p.multires_factor >= 1 && p.multires_factor <= 64);
        REQUIRE(p.gray == 0 || p.gray == 1);
        REQUIRE(p.adam_eps > 0 && p.adam_beta1 < 1 && p.adam_beta2 < 1);
        REQUIRE(p.compete_temperature > 0 && p.distill_temperature > 0);
        REQUIRE(!strcmp(p.adam_policy, "cosine") || !strcmp(p.adam_policy, "constant"));
        REQUIRE(terminated(p.targets, sizeof p.targets) && p.targets[0]);
    }

    // The same input with a tiny message buffer: truncated, never overrun.
    inversion_params q;
    char small[8];
    int rc2 = parse_inversion_cfg_text(text, "fuzz.cfg", &q, small, sizeof small);
    REQUIRE(rc2 == rc);
    if (rc2) REQUIRE(terminated(small, sizeof small));
    else REQUIRE(!memcmp(&p, &q, sizeof p));
    free(text);
    return 0;
}
