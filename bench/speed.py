#!/usr/bin/python3
"""`make bench`: the plugin's DeepInversion step against PyTorch, side by side.

1. Equivalence: on the same input batch the plugin (bench/dream_bench.c, which
   calls synth_loss) and the PyTorch reference (bench/torch_reference.py, in
   float64) must agree on every loss term and on the input gradient; and on
   the parameters after a few full steps (view, loss, Adam, clip) with a fixed
   view. Fails the run if not.
2. Speed: image-iterations per second of the full DeepInversion step
   (synth_batch with cfg/fmnist-inversion.cfg's settings) for the plugin and
   for PyTorch with the teacher's parameters requiring gradients (as the
   original DeepInversion code leaves them) and frozen; same thread count on
   both sides. GFLOP/s on the convolution work (forward + input-gradient
   backward of conv/connected layers) next to a large square OpenBLAS sgemm
   measured in the same run, twice for the plugin: over the whole step's time,
   and over the time spent inside those layers (im2col, GEMM, BN and
   activation passes included; the plugin times every layer); peak RSS. Every case is a fresh process. The
   machine's speed drifts (shared cores), so the three implementations run in
   interleaved rounds and each keeps its best round.
3. Zoo: Darknet's own ImageNet classifiers (resnet18, darknet19, resnet50 from
   /usr/share/darknet/cfg, copied to out/bench at 224x224 pixels) with random
   weights whose BN statistics are calibrated and then perturbed (so that
   R_feature is not near zero), timed with bench/zoo-inversion.cfg (colour,
   jitter 30), after the same equivalence check of loss terms and input
   gradient; an extra table, and where resnet50's time goes per layer.
   --zoo-only runs this part alone, --no-zoo leaves it out.
The last line is `speedup <plugin / frozen PyTorch, shipped teacher, batch 256, 2 threads>`.
"""
import argparse
import os
import re
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PY = "/usr/bin/python3"
REF = os.path.join(HERE, "torch_reference.py")
OUT = os.path.join(ROOT, "out", "bench")
TIME_ICFG = "cfg/fmnist-inversion.cfg"
CHECK_ICFG = "bench/check-inversion.cfg"
ZOO_ICFG = "bench/zoo-inversion.cfg"
ZOO_DIR = "/usr/share/darknet/cfg"
ZOO_SIZE = 224
ZOO_PERTURB = "0.5"   # BN statistics moved off calibration: mean by 0.5 sd, variance by exp(0.5 N(0,1))


def run(cmd, env=None, capture=True, stderr=False):
    e = dict(os.environ)
    e.update(env or {})
    r = subprocess.run(cmd, cwd=ROOT, env=e, stdout=subprocess.PIPE if capture else None,
                       stderr=subprocess.PIPE if capture else None, text=True)
    if r.returncode:
        sys.stderr.write((r.stdout or "") + (r.stderr or ""))
        sys.exit(f"bench: command failed ({r.returncode}): {' '.join(cmd)}")
    return (r.stdout, r.stderr) if stderr else r.stdout


def timed(cmd, env):
    """One timing run: its key=value line, plus the per-layer lines the plugin prints on stderr."""
    out, err = run(cmd, env, stderr=True)
    r = kv(out.strip().splitlines()[-1])
    r["layers"] = [l for l in err.splitlines() if l.startswith("layer ")]
    return r


def kv(line):
    return dict(f.split("=", 1) for f in line.split())


def terms(path):
    return {l.split()[1]: float(l.split()[2]) for l in open(path) if l.startswith("term ")}


def threads_env(n, coretype=None):
    e = {"OPENBLAS_NUM_THREADS": str(n), "OMP_NUM_THREADS": str(n)}
    if coretype:
        e["OPENBLAS_CORETYPE"] = coretype
    return e


def teachers():
    """(name, cfg, weights, note): the shipped teacher (random weights with
    calibrated BN statistics until weights/fmnist-teacher.weights exists) and
    ResNet-18 at 28x28 with random weights."""
    os.makedirs(OUT, exist_ok=True)
    out = []
    shipped = "weights/fmnist-teacher.weights"
    for name, cfg, w in [("fmnist-teacher", "cfg/fmnist-teacher.cfg", shipped),
                         ("resnet18-28", "cfg/resnet18-28.cfg", None)]:
        if w and os.path.exists(os.path.join(ROOT, w)):
            out.append((name, cfg, w, "trained weights"))
            continue
        w = f"out/bench/{name}-random.weights"
        p = os.path.join(ROOT, w)
        if not os.path.exists(p) or os.path.getmtime(p) < os.path.getmtime(os.path.join(ROOT, cfg)):
            run([PY, REF, "genweights", cfg, w, "1"])
        out.append((name, cfg, w, "random weights, calibrated BN statistics"))
    return out


def zoo_teachers(names):
    """(name, cfg, weights, note) for Darknet zoo classifiers at ZOO_SIZE pixels:
    the cfg copied with width and height replaced (the originals say 256),
    random weights with calibrated, then perturbed, BN statistics."""
    os.makedirs(OUT, exist_ok=True)
    out = []
    for name in names:
        src = os.path.join(ZOO_DIR, f"{name}.cfg")
        if not os.path.exists(src):
            sys.exit(f"bench: {src} not found (Debian's darknet package ships the zoo cfgs)")
        text, in_net = [f"# {src} at {ZOO_SIZE}x{ZOO_SIZE}, written by bench/speed.py\n"], False
        for line in open(src):
            key = "".join(line.split()).split("=", 1)[0]
            if line.lstrip().startswith("["):
                in_net = line.strip() in ("[net]", "[network]")
            elif in_net and key in ("width", "height"):
                line = f"{key}={ZOO_SIZE}\n"
            text.append(line)
        text = "".join(text)
        cfg = f"out/bench/{name}-{ZOO_SIZE}.cfg"
        p = os.path.join(ROOT, cfg)
        if not os.path.exists(p) or open(p).read() != text:   # rewritten only when it changes: weights follow its mtime
            with open(p + ".tmp", "w") as f:
                f.write(text)
            os.replace(p + ".tmp", p)
        w = f"out/bench/{name}-{ZOO_SIZE}-random.weights"
        pw = os.path.join(ROOT, w)
        if not os.path.exists(pw) or os.path.getmtime(pw) < os.path.getmtime(p) or os.path.getmtime(pw) < os.path.getmtime(REF):
            run([PY, REF, "genweights", cfg, w, "1", ZOO_PERTURB])
        out.append((name, cfg, w, f"random weights, calibrated BN statistics perturbed by {ZOO_PERTURB}"))
    return out


def check(harness, ts, batch=16, steps=True, noise_floor=False):
    print("== equivalence: plugin (float32) against the PyTorch reference (float64)")
    ok = True
    for name, cfg, w, _ in ts:
        shape = run([PY, "-c", f"import sys; sys.path.insert(0, {HERE!r}); import torch_reference as t; "
                               f"print(*t.parse_network({cfg!r})[0])"]).split()
        c, h, wd = map(int, shape)
        rng = np.random.default_rng(7)
        x = np.clip(0.5 + 0.2 * rng.standard_normal((batch, c, h, wd)), 0, 1).astype("<f4")
        t = (np.arange(batch) % 10).astype("<i4")
        inp = f"{OUT}/check-{name}.f32"
        with open(inp, "wb") as f:
            f.write(x.tobytes() + t.tobytes())
        pl, tr, t32 = f"{OUT}/check-{name}-plugin", f"{OUT}/check-{name}-torch", f"{OUT}/check-{name}-torch32"
        run([harness, "loss", CHECK_ICFG, cfg, w, str(batch), inp, pl], threads_env(1))
        run([PY, REF, "loss", cfg, w, pl + ".txt", inp, tr, "float64"], threads_env(1))
        run([PY, REF, "loss", cfg, w, pl + ".txt", inp, t32, "float32"], threads_env(1))
        a, b = terms(pl + ".txt"), terms(tr + ".txt")
        for k in ("ce", "bn", "tv_l1", "tv_l2", "l2", "total"):
            rel = abs(a[k] - b[k]) / max(abs(b[k]), 1e-12)
            good = rel <= 1e-4
            ok &= good
            print(f"  {name:15s} {k:6s} plugin {a[k]:.9g}  torch {b[k]:.9g}  rel {rel:.1e}  {'ok' if good else 'FAIL'}")
        ga, gb, gc = (np.fromfile(p + ".grad", "<f4").astype("f8") for p in (pl, tr, t32))
        rel = np.linalg.norm(ga - gb) / np.linalg.norm(gb)
        rmax = np.abs(ga - gb).max() / np.abs(gb).max()
        floor = np.linalg.norm(gc - gb) / np.linalg.norm(gb)
        # Float32 rounding flips a few leaky/max-pool decisions in a deep random
        # net; PyTorch's own float32 run shows the size of that (the floor).
        good = rel <= max(2e-3, 2 * floor) and rmax <= 1e-2
        note = f"PyTorch float32 vs float64: {floor:.1e}"
        if noise_floor:
            # On the 224-px zoo the flips of one float32 implementation say little
            # about another's (oneDNN and the plugin sum in different orders): the
            # float64 gradient at the input moved by 1e-7 relative (float32's own
            # rounding of it) shows how far such flips alone move the gradient.
            tn = f"{OUT}/check-{name}-torch-noise"
            run([PY, REF, "loss", cfg, w, pl + ".txt", inp, tn, "float64", "1e-7"], threads_env(1))
            gn = np.fromfile(tn + ".grad", "<f4").astype("f8")
            nfloor = np.linalg.norm(gn - gb) / np.linalg.norm(gb)
            floor_max = max(np.abs(gc - gb).max(), np.abs(gn - gb).max()) / np.abs(gb).max()
            # One flip moves a whole patch of the gradient (a max-pool near-tie of
            # 1.2e-7 relative in darknet19's layer 3 gives a max of 0.12), so the
            # largest element is shown but only the relative L2 decides here.
            good = rel <= max(2e-3, 2 * floor, 2 * nfloor)
            note += f"; float64 at input x (1 + 1e-7 N): {nfloor:.1e}; their max {floor_max:.1e}"
        ok &= good
        print(f"  {name:15s} input gradient: rel L2 {rel:.1e}, max {rmax:.1e} ({note})  {'ok' if good else 'FAIL'}")
    if not steps:
        if not ok:
            sys.exit("bench: the plugin and the PyTorch reference disagree")
        return
    # Full steps (view with gray copy, roll, flip; loss; view^T; Adam with
    # warm-up; clip) on the shipped teacher, whose gradient is well conditioned.
    # (Adam's first steps are ~lr * sign(g): on a deep random net float32 noise
    # flips the sign of near-zero gradient components, so only the loss and
    # gradient are compared there.)
    name, cfg, w, _ = ts[0]
    inp = f"{OUT}/check-{name}.f32"
    pl, tr = f"{OUT}/step-{name}-plugin", f"{OUT}/step-{name}-torch"
    view = ["5", "1", "-2", "1"]
    run([harness, "step", TIME_ICFG, cfg, w, str(batch), inp, pl] + view, threads_env(1))
    run([PY, REF, "step", cfg, w, pl + ".txt", inp, tr] + view, threads_env(1))
    a, b = np.fromfile(pl + ".params", "<f4"), np.fromfile(tr + ".params", "<f4")
    x0 = np.fromfile(inp, "<f4")[:a.size]
    rel = np.linalg.norm(a - b) / np.linalg.norm(b - x0)
    good = rel <= 1e-3
    ok &= good
    print(f"  {name:15s} 5 steps ({TIME_ICFG}: gray, Adam, warm-up; view dy=1 dx=-2 flip): "
          f"parameter update rel L2 {rel:.1e}, max |diff| {np.abs(a - b).max():.1e}  {'ok' if good else 'FAIL'}")
    if not ok:
        sys.exit("bench: the plugin and the PyTorch reference disagree")


def torch_conv_kernel():
    """The oneDNN implementation PyTorch's convolutions run (from DNNL_VERBOSE)."""
    code = ("import torch, torch.nn.functional as F\n"
            "x = torch.rand(16, 32, 14, 14, requires_grad=True)\n"
            "F.conv2d(x, torch.rand(64, 32, 3, 3), None, 1, 1).sum().backward()\n")
    out = run([PY, "-c", code], {"DNNL_VERBOSE": "1", "OMP_NUM_THREADS": "1"})
    impl = sorted({l.split(",")[4] for l in out.splitlines() if ",exec,cpu,convolution," in l})
    return "oneDNN " + "/".join(impl) if impl else "PyTorch native (no oneDNN)"


def time_cases(harness, ts, icfg, batches, threads, rounds, min_seconds, modes, peak, kernel, only=None):
    """Rows of best-of-rounds timings: per teacher, batch and thread count, the
    plugin and PyTorch in each mode run in turn, then the sgemm peak, `rounds` times."""
    rows = []
    for name, cfg, w, _ in ts:
        if only is not None and name not in only:
            continue
        for b in batches:
            ptxt = f"{OUT}/params-{name}-{b}.txt"
            run([harness, "params", icfg, cfg, w, str(b), ptxt])
            for n in threads:
                env = threads_env(n, kernel)
                cmds = [[harness, "time", icfg, cfg, w, str(b), "0", str(min_seconds)]]
                cmds += [[PY, REF, "time", cfg, w, ptxt, "0", str(n), mode, str(min_seconds)] for mode in modes]
                best = [None] * len(cmds)
                for rnd in range(rounds):
                    got = [timed(c, env) for c in cmds]
                    # The peak too is taken at its best: a slow moment must not inflate the % of peak.
                    peak[n] = max(peak[n], float(kv(run([harness, "sgemm", "3072", "3"], threads_env(n)))["gflops"]))
                    print(f"    {name} batch {b} threads {n} round {rnd + 1}: " +
                          "  ".join(f"{g['impl']} {float(g['img_it_s']):.2f}" for g in got), flush=True)
                    best = [g if o is None or float(g["img_it_s"]) > float(o["img_it_s"]) else o for g, o in zip(got, best)]
                for r in best:
                    r.update(teacher=name, threads=n, batch=b)
                    print(f"  {name:15s} batch {b:3d} threads {n} {r['impl']:13s} {float(r['img_it_s']):9.2f} img-it/s "
                          f"{float(r['gflops']):6.1f} GFLOP/s ({100 * float(r['gflops']) / peak[n]:4.1f}% of peak so far) RSS {float(r['rss_mib']):7.1f} MiB"
                          f"  [{r['iters']} iterations, {float(r['seconds']):.1f} s]", flush=True)
                rows += best
    return rows


def finish_rows(rows, peak):
    for r in rows:   # against the best peak seen in the whole run
        r["peak"] = 100 * float(r["gflops"]) / peak[r["threads"]]
        r["own"] = 100 * float(r["conv_gflops"]) / peak[r["threads"]] if "conv_gflops" in r else None


def row_of(rows, t, b, n, impl):
    for r in rows:
        if (r["teacher"], r["batch"], r["threads"], r["impl"]) == (t, b, n, impl):
            return r


def speed_table(rows, first="teacher", digits=1):
    lines = [f"| {first} | batch | threads | implementation | img-it/s | ms/iteration | conv GFLOP/s, whole step | % of sgemm peak, whole step "
             "| conv GFLOP/s, conv layers' time | % of sgemm peak, conv layers' time | peak RSS MiB | RSS KiB/image |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        ips = float(r["img_it_s"])
        own = f"{float(r['conv_gflops']):.1f} | {r['own']:.1f}" if r["own"] is not None else "– | –"
        lines.append(f"| {r['teacher']} | {r['batch']} | {r['threads']} | {r['impl']} | {ips:.{digits}f} | "
                     f"{1000 * r['batch'] / ips:.1f} | {float(r['gflops']):.1f} | {r['peak']:.1f} | {own} | "
                     f"{float(r['rss_mib']):.0f} | {1024 * float(r['rss_mib']) / r['batch']:.0f} |")
    return lines


LAYER = re.compile(r"layer +(\d+) (\S+) +forward +([\d.]+) us/image +backward +([\d.]+) us/image(?: +([\d.]+) GFLOP/s)?(?: +(.*))?")


def layer_breakdown(r, top=12):
    """Where one case's time goes, from the plugin's per-layer lines: by kind of
    layer (convolutions by kernel size and stride) and the most expensive layers."""
    layers = []
    for line in r["layers"]:
        m = LAYER.match(line)
        if not m:
            continue
        i, kind, fw, bw, gf, shape = m.groups()
        sub = kind
        if kind == "convolutional" and shape:
            sub = "conv " + shape.split()[0]
        layers.append((int(i), kind, sub, float(fw), float(bw), gf, shape or ""))
    if not layers:
        return []
    total_layers = sum(fw + bw for _, _, _, fw, bw, _, _ in layers)
    step = 1e6 / float(r["img_it_s"])   # us per image-iteration, whole step
    lines = [f"Whole step {step:.0f} us/image-iteration, of which the layers {total_layers:.0f} us "
             f"({100 * total_layers / step:.1f}%; the rest: view, priors, Adam, clipping, best-kept copy).", "",
             "| layer kind | layers | forward us/image | backward us/image | % of the layers' time | GFLOP/s |",
             "|---|---|---|---|---|---|"]
    kinds = {}
    for i, kind, sub, fw, bw, gf, shape in layers:
        k = kinds.setdefault(sub, [0, 0.0, 0.0, 0.0])
        k[0] += 1
        k[1] += fw
        k[2] += bw
        if gf:   # back to FLOPs: GFLOP/s * seconds
            k[3] += float(gf) * 1e3 * (fw + bw) * 1e-6
    for sub, (cnt, fw, bw, fl) in sorted(kinds.items(), key=lambda kv: -(kv[1][1] + kv[1][2])):
        g = f"{fl / ((fw + bw) * 1e-6) / 1e3:.1f}" if fl else "–"
        lines.append(f"| {sub} | {cnt} | {fw:.0f} | {bw:.0f} | {100 * (fw + bw) / total_layers:.1f} | {g} |")
    lines += ["", f"Its {top} most expensive layers:", ""]
    for i, kind, sub, fw, bw, gf, shape in sorted(layers, key=lambda l: -(l[3] + l[4]))[:top]:
        lines.append(f"    layer {i:2d} {kind:14s} {shape:24s} {fw + bw:9.0f} us/image ({100 * (fw + bw) / total_layers:4.1f}%)"
                     + (f" {float(gf):6.1f} GFLOP/s" if gf else ""))
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--harness", default="build/bench/dream_bench")
    ap.add_argument("--min-seconds", type=float, default=2.0, help="timed run length per case")
    ap.add_argument("--batches", default="64,256")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--teachers", default="fmnist-teacher,resnet18-28")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds per case; the best of each is kept")
    ap.add_argument("--skip-check", action="store_true")
    ap.add_argument("--zoo", default="resnet18,darknet19,resnet50",
                    help=f"Darknet zoo classifiers ({ZOO_DIR}/NAME.cfg) timed at {ZOO_SIZE}x{ZOO_SIZE}")
    ap.add_argument("--zoo-batch", type=int, default=8, help="batch of the zoo cases")
    ap.add_argument("--zoo-rounds", type=int, default=2, help="interleaved rounds per zoo case")
    ap.add_argument("--zoo-check-batch", type=int, default=4, help="batch of the zoo networks' equivalence check")
    ap.add_argument("--zoo-grad", action="store_true", help="also time PyTorch with parameters requiring gradients on the zoo")
    ap.add_argument("--zoo-only", action="store_true", help="only the zoo cases (no shipped-teacher speedup line)")
    ap.add_argument("--no-zoo", action="store_true", help="leave the zoo cases out")
    a = ap.parse_args()
    harness = os.path.join(ROOT, a.harness) if not os.path.isabs(a.harness) else a.harness
    t_start = time.time()
    ts = [] if a.zoo_only else teachers()
    zs = [] if a.no_zoo or not a.zoo else zoo_teachers(a.zoo.split(","))
    for name, cfg, w, note in ts + zs:
        print(f"teacher {name}: {cfg} {w} ({note})")
    if not a.skip_check:
        if ts:
            check(harness, ts)
        if zs:
            check(harness, zs, a.zoo_check_batch, steps=False, noise_floor=True)

    threads = [int(t) for t in a.threads.split(",")]
    batches = [int(b) for b in a.batches.split(",")]
    print("== sgemm peak (OpenBLAS, square, best of 3)")
    peak, kernel = {}, None
    for n in threads:
        r = kv(run([harness, "sgemm", "3072", "3"], threads_env(n)))
        peak[n], kernel = float(r["gflops"]), r["kernel"]
        print(f"  {n} thread(s): {peak[n]:.1f} GFLOP/s  (n=3072, kernel {kernel})")
    tconv = torch_conv_kernel()
    direct = "direct AVX-512 convolution for thin layers" if " avx512f" in open("/proc/cpuinfo").read() else "no AVX-512 here: no direct convolution"
    wino = "Winograd F(2x2,3x3) for 3x3/1 layers of 16+ channels" if os.environ.get("INV_WINOGRAD", "1") != "0" else "no Winograd (INV_WINOGRAD=0)"
    print(f"== kernels: plugin: OpenBLAS {kernel} sgemm (im2col + gemm; {wino}), {direct}; PyTorch: {tconv} convolutions, "
          f"OpenBLAS {kernel} matmul (OPENBLAS_CORETYPE={kernel} given to both)")

    print(f"== timing (image-iterations per second of the full step; each case a fresh process; "
          f"best of {a.rounds} interleaved rounds" + (f", {a.zoo_rounds} on the zoo)" if zs else ")"))
    rows = time_cases(harness, ts, TIME_ICFG, batches, threads, a.rounds, a.min_seconds, ("grad", "frozen"), peak, kernel,
                      a.teachers.split(","))
    zmodes = ("grad", "frozen") if a.zoo_grad else ("frozen",)
    zrows = time_cases(harness, zs, ZOO_ICFG, [a.zoo_batch], threads, a.zoo_rounds, a.min_seconds, zmodes, peak, kernel)
    finish_rows(rows + zrows, peak)

    lines = []
    if rows:
        lines += speed_table(rows)
        lines.append("")
    lines.append(f"sgemm peak (OpenBLAS {kernel}, n=3072, the best measured in this run): " + ", ".join(f"{n} thread(s) {peak[n]:.1f} GFLOP/s" for n in threads))
    if rows:
        lines.append("")
        lines.append("| teacher | batch | threads | plugin / PyTorch frozen | plugin / PyTorch requires-grad |")
        lines.append("|---|---|---|---|---|")
        for name, *_ in ts:
            for b in batches:
                for n in threads:
                    p, g, f = (row_of(rows, name, b, n, i) for i in ("plugin", "torch-grad", "torch-frozen"))
                    if p and f:
                        lines.append(f"| {name} | {b} | {n} | {float(p['img_it_s']) / float(f['img_it_s']):.2f}x | "
                                     f"{float(p['img_it_s']) / float(g['img_it_s']):.2f}x |")
    # Memory per image: the slope of peak RSS between the two batch sizes.
    if rows and len(batches) >= 2:
        lo, hi = min(batches), max(batches)
        lines.append("")
        for name, *_ in ts:
            for impl in ("plugin", "torch-grad", "torch-frozen"):
                r0, r1 = row_of(rows, name, lo, threads[-1], impl), row_of(rows, name, hi, threads[-1], impl)
                if r0 and r1:
                    slope = 1024 * (float(r1["rss_mib"]) - float(r0["rss_mib"])) / (hi - lo)
                    lines.append(f"- {name} {impl}: {slope:.0f} KiB per additional image of batch "
                                 f"(peak RSS {float(r0['rss_mib']):.0f} MiB at {lo}, {float(r1['rss_mib']):.0f} MiB at {hi})")
    acc = row_of(rows, "fmnist-teacher", 256, 2, "plugin")
    if acc and acc["layers"]:
        lines.append("")
        lines.append("Per layer, acceptance case (the plugin's best round; microseconds per image, both threads together):")
        lines.append("")
        lines += ["    " + l for l in acc["layers"]]
    if zrows:
        lines += ["", f"Zoo at {ZOO_SIZE}x{ZOO_SIZE} ({ZOO_ICFG}: colour, jitter 30, flip; batch {a.zoo_batch}; "
                      f"best of {a.zoo_rounds} interleaved rounds):", ""]
        lines += speed_table(zrows, "network", 2)
        lines += ["", "| network | threads | plugin / PyTorch frozen | plugin / PyTorch requires-grad "
                      "| % of sgemm peak, conv layers' time | % of sgemm peak, whole step | peak RSS plugin / PyTorch frozen |",
                  "|---|---|---|---|---|---|---|"]
        for name, *_ in zs:
            for n in threads:
                p, g, f = (row_of(zrows, name, a.zoo_batch, n, i) for i in ("plugin", "torch-grad", "torch-frozen"))
                if p and f:
                    rg = f"{float(p['img_it_s']) / float(g['img_it_s']):.2f}x" if g else "–"
                    lines.append(f"| {name} | {n} | {float(p['img_it_s']) / float(f['img_it_s']):.2f}x | {rg} | "
                                 f"{p['own']:.1f} | {p['peak']:.1f} | {float(p['rss_mib']) / float(f['rss_mib']):.2f} |")
        for name, *_ in zs:
            big = row_of(zrows, name, a.zoo_batch, threads[-1], "plugin")
            if big and big["layers"]:
                lines += ["", f"Where {name}'s time goes (plugin, batch {a.zoo_batch}, {threads[-1]} thread(s), its best round; "
                              "microseconds per image, all threads together):", ""]
                lines += layer_breakdown(big)
    table = "\n".join(lines)
    with open(f"{OUT}/results.md", "w") as f:
        f.write(table + "\n")
    print("== results (also in out/bench/results.md)")
    print(table)
    print(f"bench: {time.time() - t_start:.0f} s")
    p, f = row_of(rows, "fmnist-teacher", 256, 2, "plugin"), row_of(rows, "fmnist-teacher", 256, 2, "torch-frozen")
    if p and f:
        print(f"speedup {float(p['img_it_s']) / float(f['img_it_s']):.2f}")
    else:
        print("speedup n/a (the fmnist-teacher batch 256, 2 threads case was not run)")


if __name__ == "__main__":
    main()
