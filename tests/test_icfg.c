// The inversion cfg parser: values land in the right fields, and every kind
// of mistake is an error that names the file, line, section and key.
#include "icfg.h"
#include "testlib.h"

static void expect_error(const char *text, const char *expected)
{
    inversion_params p;
    char err[512] = "";
    int rc = parse_inversion_cfg_text(text, "x.cfg", &p, err, sizeof err);
    CHECK(rc == -1, "accepted bad cfg: %s", text);
    CHECK(strstr(err, expected) != NULL, "error '%s' does not contain '%s'", err, expected);
}

int main(void)
{
    inversion_params p, d = default_inversion_params();
    char err[512];
    CHECK(parse_inversion_cfg_text("", "x.cfg", &p, err, sizeof err) == 0, "empty cfg: %s", err);
    CHECK(!memcmp(&p, &d, sizeof p), "an empty cfg must give the defaults");
    CHECK(d.batch == 64 && d.bn_stat_weight == 10.f && d.bn_stat_first_multiplier == 10.f && !strcmp(d.adam_policy, "cosine"), "documented defaults changed");

    const char *good =
        "# comment\n; another\n[inversion]\nbatch = 32\niterations=500\ntargets=1,3,5\ngray=1\n\n"
        "[bn_stat]\nweight=0.5\n[prior]\ntv_l2=2.5e-5\n[adam]\nlr=0.05\nbeta1=0.5\npolicy=constant\n"
        "[augment]\njitter=3\nflip=0\n[multires]\niterations=100\nfactor=2\n[class]\nweight=2\n[compete]\nweight=0.2\n";
    CHECK(parse_inversion_cfg_text(good, "x.cfg", &p, err, sizeof err) == 0, "good cfg rejected: %s", err);
    CHECK(p.batch == 32 && p.iterations == 500 && !strcmp(p.targets, "1,3,5") && p.gray == 1, "[inversion] values");
    CHECK(p.bn_stat_weight == 0.5f && p.prior_tv_l2 == 2.5e-5f && p.adam_lr == 0.05f && p.adam_beta1 == 0.5f && !strcmp(p.adam_policy, "constant"), "values");
    CHECK(p.augment_jitter == 3 && p.augment_flip == 0 && p.multires_iterations == 100 && p.class_weight == 2.f && p.compete_weight == 0.2f, "values");
    CHECK(p.bn_stat_first_multiplier == d.bn_stat_first_multiplier && p.adam_beta2 == d.adam_beta2, "unset keys keep their defaults");

    CHECK(d.continual_syn_weight == 1.f && d.continual_ce_weight == 1.f && d.continual_kd_weight == 1.f && d.continual_temperature == 2.f && d.continual_synthetic == 0.5f &&
          d.continual_images == 0 && d.continual_crop == 2 && d.continual_flip == 1 && d.continual_backup_every == 200 && d.continual_valid_every == 500,
          "documented [continual] defaults changed");
    const char *cont = "[continual]\nsyn_weight=2\nce_weight=0.5\nkd_weight=0\ntemperature=4\nsynthetic=0.25\nimages=300\n"
                       "crop=0\nflip=0\nbackup_every=50\nvalid_every=100\n";
    CHECK(parse_inversion_cfg_text(cont, "x.cfg", &p, err, sizeof err) == 0, "[continual] cfg rejected: %s", err);
    CHECK(p.continual_syn_weight == 2.f && p.continual_ce_weight == 0.5f && p.continual_kd_weight == 0.f && p.continual_temperature == 4.f && p.continual_synthetic == 0.25f &&
          p.continual_images == 300 && p.continual_crop == 0 && p.continual_flip == 0 && p.continual_backup_every == 50 && p.continual_valid_every == 100,
          "[continual] values");
    CHECK(p.batch == d.batch && p.distill_temperature == d.distill_temperature, "[continual] leaves other sections at their defaults");
    expect_error("[continual]\nsynthetic=1\n", "x.cfg:2: [continual] synthetic: 1 is outside [0, 0.99]");
    expect_error("[continual]\ntemperature=0\n", "x.cfg:2: [continual] temperature: 0 is outside");
    expect_error("[continual]\nsyn_weight=-1\n", "x.cfg:2: [continual] syn_weight: -1 is outside");
    expect_error("[continual]\nweight=1\n", "x.cfg:2: [continual] unknown key 'weight'");
    expect_error("[continual]\nimages=1.5\n", "x.cfg:2: [continual] images: '1.5' is not an integer");
    expect_error("[inversion]\nbatch=8\n[foo]\n", "x.cfg:3: unknown section [foo]");
    expect_error("[adam]\nlrr=0.1\n", "x.cfg:2: [adam] unknown key 'lrr'");
    expect_error("[adam]\nlr=fast\n", "x.cfg:2: [adam] lr: 'fast' is not a number");
    expect_error("[inversion]\nbatch=2.5\n", "x.cfg:2: [inversion] batch: '2.5' is not an integer");
    expect_error("[inversion]\nbatch=0\n", "x.cfg:2: [inversion] batch: 0 is outside");
    expect_error("[adam]\nlr=0.1\nlr=0.2\n", "x.cfg:3: [adam] lr is set twice");
    expect_error("[adam]\n[prior]\n[adam]\n", "x.cfg:3: section [adam] appears twice");
    expect_error("lr=0.1\n", "x.cfg:1: key 'lr' before any [section]");
    expect_error("[adam\nlr=1\n", "x.cfg:1: malformed section header");
    expect_error("[adam]\nlr\n", "x.cfg:2: expected key=value");
    expect_error("[adam]\npolicy=steps\n", "[adam] policy: 'steps' is not cosine or constant");
    expect_error("[inversion]\ntargets=1,x\n", "[inversion] targets");
    expect_error("[adam]\nlr=nan\n", "x.cfg:2: [adam] lr: nan is outside");
    return test_summary();
}
