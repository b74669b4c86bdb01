#!/usr/bin/python3
"""PyTorch reference for the plugin's DeepInversion step.

Rebuilds a Darknet classifier from its .cfg and .weights (convolutional with
and without BN, connected, maxpool, avgpool, shortcut, route, dropout, softmax,
cost) with Darknet's exact inference arithmetic, and implements the plugin's
loss exactly as plugin/{class_loss,bn_stat,prior}.c define it, the plugin's
view (gray copy, roll with wrap-around, flip), Adam with the warm-up + cosine
schedule and clipping to [0, 1].

    torch_reference.py genweights <cfg> <out.weights> [seed] [perturb]
        random weights with BN statistics calibrated on [0,1] images; with
        perturb > 0 each layer's statistics are then moved off its batch's
        (mean by perturb standard deviations, variance by a factor
        exp(perturb N(0,1))), so that R_feature is not near zero at the start
    torch_reference.py loss <cfg> <weights> <params.txt> <in.f32> <out> [float64|float32] [noise]
        loss terms (<out>.txt) and input gradient (<out>.grad); with noise,
        at the input times 1 + noise N(0,1) (fixed seed): how much the
        gradient moves under rounding-sized input changes (max-pool and
        leaky decisions that flip)
    torch_reference.py step <cfg> <weights> <params.txt> <in.f32> <out> <iters> <dy> <dx> <flip>
        fixed-view steps from the given parameters (<out>.params)
    torch_reference.py time <cfg> <weights> <params.txt> <iters|0> <threads> <grad|frozen> [min_seconds]
        one line of key=value timing results

params.txt is what `dream_bench loss` writes: the inversion parameters as the
plugin resolved them, so both sides use the same settings.
"""
import math
import os
import resource
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F


# ---------------------------------------------------------------- cfg, weights

def read_cfg(path):
    """Darknet's read_cfg: sections of key=value, whitespace stripped, # and ; comments."""
    sections = []
    for raw in open(path):
        line = "".join(raw.split())
        if not line or line[0] in "#;":
            continue
        if line[0] == "[":
            sections.append((line[1:-1], {}))
        else:
            k, v = line.split("=", 1)
            sections[-1][1][k] = v
    return sections


def _int(o, k, d):
    return int(o.get(k, d))


def _float(o, k, d):
    return float(o.get(k, d))


class Layer:
    pass


def parse_network(path):
    """Layer list with Darknet's shapes (c, h, w) and parameter slots."""
    secs = read_cfg(path)
    net = secs[0][1]
    c, h, w = _int(net, "channels", 0), _int(net, "height", 0), _int(net, "width", 0)
    layers = []
    for kind, o in secs[1:]:
        L = Layer()
        L.kind, L.c, L.h, L.w = kind, c, h, w
        L.bn = 0
        L.activation = o.get("activation", "logistic")
        if kind in ("convolutional", "conv"):
            L.kind = "convolutional"
            L.n, L.size, L.stride = _int(o, "filters", 1), _int(o, "size", 1), _int(o, "stride", 1)
            L.groups = _int(o, "groups", 1)
            L.pad = L.size // 2 if _int(o, "pad", 0) else _int(o, "padding", 0)
            L.bn = _int(o, "batch_normalize", 0)
            L.out_h = (h + 2 * L.pad - L.size) // L.stride + 1
            L.out_w = (w + 2 * L.pad - L.size) // L.stride + 1
            L.out_c = L.n
            L.nweights = L.n * (c // L.groups) * L.size * L.size
        elif kind in ("connected", "conn"):
            L.kind = "connected"
            L.inputs, L.outputs = c * h * w, _int(o, "output", 1)
            L.bn = _int(o, "batch_normalize", 0)
            L.n = L.outputs
            L.out_c, L.out_h, L.out_w = L.outputs, 1, 1
        elif kind in ("maxpool", "max"):
            L.kind = "maxpool"
            L.size = _int(o, "size", 1)
            L.stride = _int(o, "stride", 1)
            L.padding = _int(o, "padding", L.size - 1)
            L.out_h = (h + L.padding - L.size) // L.stride + 1
            L.out_w = (w + L.padding - L.size) // L.stride + 1
            L.out_c = c
        elif kind in ("avgpool", "avg"):
            L.kind = "avgpool"
            L.out_c, L.out_h, L.out_w = c, 1, 1
        elif kind == "shortcut":
            idx = _int(o, "from", 0)
            L.index = idx + len(layers) if idx < 0 else idx
            src = layers[L.index]
            L.w1, L.h1, L.c1 = src.out_w, src.out_h, src.out_c
            L.alpha, L.beta = _float(o, "alpha", 1), _float(o, "beta", 1)
            L.activation = o.get("activation", "linear")
            L.out_c, L.out_h, L.out_w = c, h, w
        elif kind == "route":
            idx = [int(s) for s in o["layers"].split(",")]
            L.inputs_idx = [i + len(layers) if i < 0 else i for i in idx]
            first = layers[L.inputs_idx[0]]
            L.out_h, L.out_w = first.out_h, first.out_w
            L.out_c = sum(layers[i].out_c for i in L.inputs_idx)
            for i in L.inputs_idx:
                if (layers[i].out_h, layers[i].out_w) != (L.out_h, L.out_w):
                    raise SystemExit(f"{path}: route layer {len(layers)}: inputs of different sizes")
        elif kind in ("dropout",):
            L.out_c, L.out_h, L.out_w = c, h, w
        elif kind in ("softmax", "soft"):
            L.kind = "softmax"
            L.temperature = _float(o, "temperature", 1)
            if _int(o, "groups", 1) != 1:
                raise SystemExit(f"{path}: grouped softmax is not supported")
            L.out_c, L.out_h, L.out_w = c * h * w, 1, 1
        elif kind == "cost":
            L.out_c, L.out_h, L.out_w = c, h, w
        else:
            raise SystemExit(f"{path}: layer type [{kind}] is not supported")
        layers.append(L)
        c, h, w = L.out_c, L.out_h, L.out_w
    return (_int(net, "channels", 0), _int(net, "height", 0), _int(net, "width", 0)), layers


def weights_header(f):
    major, minor, revision = struct.unpack("<3i", f.read(12))
    f.read(8 if (major * 10 + minor >= 2 and major < 1000 and minor < 1000) else 4)


def load_weights(layers, path):
    """Fills each layer's arrays in Darknet's order (float32 numpy)."""
    with open(path, "rb") as f:
        weights_header(f)
        data = np.frombuffer(f.read(), dtype="<f4")
    pos = 0

    def take(n):
        nonlocal pos
        a = data[pos:pos + n].copy()
        if a.size != n:
            raise SystemExit(f"{path}: too short")
        pos += n
        return a

    for L in layers:
        if L.kind == "convolutional":
            L.biases = take(L.n)
            if L.bn:
                L.scales, L.rolling_mean, L.rolling_var = take(L.n), take(L.n), take(L.n)
            L.weights = take(L.nweights)
        elif L.kind == "connected":
            L.biases = take(L.outputs)
            L.weights = take(L.outputs * L.inputs)
            if L.bn:
                L.scales, L.rolling_mean, L.rolling_var = take(L.n), take(L.n), take(L.n)
    if pos != data.size:
        raise SystemExit(f"{path}: {data.size - pos} floats left over after the last layer")


def save_weights(layers, path):
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<3iq", 0, 2, 0, 0))
        for L in layers:
            parts = []
            if L.kind == "convolutional":
                parts = [L.biases] + ([L.scales, L.rolling_mean, L.rolling_var] if L.bn else []) + [L.weights]
            elif L.kind == "connected":
                parts = [L.biases, L.weights] + ([L.scales, L.rolling_mean, L.rolling_var] if L.bn else [])
            for p in parts:
                f.write(np.asarray(p, dtype="<f4").tobytes())
    os.replace(path + ".tmp", path)


# ---------------------------------------------------------------- the network

def activate(x, a):
    if a == "linear":
        return x
    if a == "leaky":
        return F.leaky_relu(x, 0.1)
    if a == "relu":
        return F.relu(x)
    if a == "logistic":
        return torch.sigmoid(x)
    if a == "tanh":
        return torch.tanh(x)
    if a == "elu":
        return F.elu(x)
    raise SystemExit(f"activation {a} is not supported by the reference")


class DarknetNet:
    """Darknet's inference forward. forward() returns the logits z (the
    softmax's input, flattened), and fills self.bn_inputs with each BN layer's
    input (Darknet's l.x) in layer order."""

    def __init__(self, shape, layers, dtype=torch.float32, requires_grad=False):
        self.shape, self.layers = shape, layers
        self.params = []
        for L in layers:
            if L.kind not in ("convolutional", "connected"):
                continue
            if L.kind == "convolutional":
                wshape = (L.n, L.c // L.groups, L.size, L.size)
            else:
                wshape = (L.outputs, L.inputs)
            L.W = torch.tensor(L.weights, dtype=dtype).reshape(wshape).requires_grad_(requires_grad)
            L.B = torch.tensor(L.biases, dtype=dtype).requires_grad_(requires_grad)
            self.params += [L.W, L.B]
            if L.bn:
                # Darknet normalises with sqrt(var) + 1e-6: the same arithmetic
                # as batch_norm with eps 0 and variance (sqrt(var) + 1e-6)^2.
                rv = torch.tensor(L.rolling_var, dtype=torch.float64)
                L.RM = torch.tensor(L.rolling_mean, dtype=dtype)
                L.RV = torch.tensor(L.rolling_var, dtype=dtype)
                L.RV_norm = ((rv.sqrt() + 1e-6) ** 2).to(dtype)
                L.S = torch.tensor(L.scales, dtype=dtype).requires_grad_(requires_grad)
                self.params.append(L.S)
        self.calibrate, self.perturb = False, 0.0
        # Outputs a shortcut or route reads later; the others are not kept.
        self.kept = {i for L in layers if L.kind == "shortcut" for i in [L.index]}
        self.kept |= {i for L in layers if L.kind == "route" for i in L.inputs_idx}
        self.out = max(i for i, L in enumerate(layers) if L.kind != "cost")
        if layers[self.out].kind != "softmax":
            raise SystemExit("the network's output layer is not [softmax]")
        self.temperature = layers[self.out].temperature
        self.classes = layers[self.out].out_c

    def _bn(self, L, y):
        self.bn_inputs.append((L, y))
        if self.calibrate:   # genweights: the running statistics become this batch's
            dims = [0, 2, 3] if y.dim() == 4 else [0]
            mean, var = y.mean(dims), y.var(dims, unbiased=False)
            if self.perturb:   # later layers are calibrated on the perturbed ones' outputs
                mean = mean + self.perturb * var.sqrt() * torch.randn(mean.shape, dtype=y.dtype)
                var = var * torch.exp(self.perturb * torch.randn(var.shape, dtype=y.dtype))
            L.rolling_mean = mean.float().numpy()
            L.rolling_var = var.float().numpy()
            L.RM, L.RV = torch.tensor(L.rolling_mean, dtype=y.dtype), torch.tensor(L.rolling_var, dtype=y.dtype)
            L.RV_norm = ((L.RV.double().sqrt() + 1e-6) ** 2).to(y.dtype)

    def forward(self, x):
        outs, self.bn_inputs = [], []
        for i, L in enumerate(self.layers):
            if L.kind == "convolutional":
                y = F.conv2d(x, L.W, None if L.bn else L.B, L.stride, L.pad, 1, L.groups)
                if L.bn:
                    self._bn(L, y)
                    y = F.batch_norm(y, L.RM, L.RV_norm, L.S, L.B, False, 0.0, 0.0)
                x = activate(y, L.activation)
            elif L.kind == "connected":
                y = F.linear(x.reshape(x.shape[0], -1), L.W, None if L.bn else L.B)
                if L.bn:
                    self._bn(L, y)
                    y = F.batch_norm(y, L.RM, L.RV_norm, L.S, L.B, False, 0.0, 0.0)
                x = activate(y, L.activation).reshape(x.shape[0], -1, 1, 1)
            elif L.kind == "maxpool":
                # Window offset -padding/2, out-of-image positions never win.
                pl = L.padding // 2
                pr = (L.out_w - 1) * L.stride + L.size - pl - L.w
                pb = (L.out_h - 1) * L.stride + L.size - pl - L.h
                if pr < 0 or pb < 0:
                    x = x[:, :, :L.h + min(pb, 0), :L.w + min(pr, 0)]
                if pl or pr > 0 or pb > 0:
                    x = F.pad(x, (pl, max(pr, 0), pl, max(pb, 0)), value=-math.inf)
                x = F.max_pool2d(x, L.size, L.stride)
            elif L.kind == "avgpool":
                x = x.mean(dim=(2, 3), keepdim=True)
            elif L.kind == "shortcut":
                add = outs[L.index]
                if x.shape == add.shape:
                    y = L.alpha * x + L.beta * add if (L.alpha, L.beta) != (1, 1) else x + add
                else:
                    # shortcut_cpu: strided/sampled overlap of the two maps, min channels.
                    stride, sample = max(L.w1 // L.out_w, 1), max(L.out_w // L.w1, 1)
                    mw, mh, mc = min(L.w1, L.out_w), min(L.h1, L.out_h), min(L.c1, L.out_c)
                    y = x.clone()
                    o = (slice(None), slice(0, mc), slice(0, mh * sample, sample), slice(0, mw * sample, sample))
                    y[o] = L.alpha * x[o] + L.beta * add[:, :mc, 0:mh * stride:stride, 0:mw * stride:stride]
                x = activate(y, L.activation)
            elif L.kind == "route":
                x = torch.cat([outs[j] for j in L.inputs_idx], dim=1)
            elif L.kind == "softmax":
                x = x.reshape(x.shape[0], -1)
                z = x
            outs.append(x if i in self.kept else None)
        return z


# ---------------------------------------------------------------- the loss

def read_params(path):
    p = {}
    for line in open(path):
        k, *v = line.split()
        if k == "term":
            continue
        p[k] = float(v[0])
    for k in ("batch", "c", "h", "w", "pc", "classes", "warmup", "iterations", "cosine", "jitter", "flip", "gray"):
        p[k] = int(p[k])
    return p


def bn_stat_loss(net, p):
    """Sum over BN layers of m_l (||mu - rm|| + ||var - rv||), biased var,
    computed as the DeepInversion code's forward hook does."""
    total, first = 0, True
    for L, x in net.bn_inputs:
        nch = x.shape[1]
        if x.dim() == 4:
            mean = x.mean([0, 2, 3])
            var = x.permute(1, 0, 2, 3).contiguous().view([nch, -1]).var(1, unbiased=False)
        else:
            mean, var = x.mean(0), x.var(0, unbiased=False)
        term = torch.norm(L.RV - var, 2) + torch.norm(L.RM - mean, 2)
        total = total + (p["first_bn_multiplier"] if first else 1.0) * term
        first = False
    return p["bn_weight"] * total


def prior_losses(x, p):
    """prior.h: 4 directions right, down, down-right, down-left."""
    diffs = [x[:, :, :, :-1] - x[:, :, :, 1:], x[:, :, :-1, :] - x[:, :, 1:, :],
             x[:, :, :-1, :-1] - x[:, :, 1:, 1:], x[:, :, :-1, 1:] - x[:, :, 1:, :-1]]
    zero = x.new_zeros(())
    tv_l2 = p["tv_l2"] * sum(torch.norm(d) for d in diffs) if p["tv_l2"] else zero
    tv_l1 = p["tv_l1"] * sum(d.abs().mean() for d in diffs) if p["tv_l1"] else zero
    l2 = p["l2"] * torch.norm(x.reshape(x.shape[0], -1), dim=1).mean() if p["l2"] else zero
    return tv_l1, tv_l2, l2


def loss_terms(net, x, targets, p):
    z = net.forward(x)
    ce = p["ce_weight"] * F.cross_entropy(z / net.temperature, targets)
    bn = bn_stat_loss(net, p) if p["bn_weight"] else x.new_zeros(())
    tv_l1, tv_l2, l2 = prior_losses(x, p)
    total = ce + bn + tv_l1 + tv_l2 + l2
    return {"ce": ce, "bn": bn, "tv_l1": tv_l1, "tv_l2": tv_l2, "l2": l2, "total": total}


def view(params, p, dy, dx, flip):
    """Parameters -> network input: gray copy, roll (wrap-around), flip."""
    x = params.expand(-1, p["c"], -1, -1) if params.shape[1] != p["c"] else params
    if dy or dx:
        x = torch.roll(x, shifts=(dy, dx), dims=(2, 3))
    if flip:
        x = torch.flip(x, dims=(3,))
    return x


def schedule_lr(base, it, total, warmup, cosine):
    if it < warmup:
        return base * (it + 1) / warmup
    if not cosine or total <= warmup:
        return base
    return 0.5 * (1 + math.cos(math.pi * (it - warmup) / (total - warmup))) * base


class Dream:
    """DeepInversion on one batch, as the plugin's synth_batch does it."""

    def __init__(self, net, p, targets, params, requires_grad_net):
        self.net, self.p, self.targets = net, p, targets
        self.params = params.clone().requires_grad_(True)
        self.best = params.clone()
        self.best_loss = math.inf
        self.opt = torch.optim.Adam([self.params], lr=p["lr"], betas=(p["beta1"], p["beta2"]), eps=p["eps"])
        self.requires_grad_net = requires_grad_net
        self.it = 0

    def step(self, dy, dx, flip, total_iterations):
        p = self.p
        lr = schedule_lr(p["lr"], self.it, total_iterations, p["warmup"], p["cosine"])
        for g in self.opt.param_groups:
            g["lr"] = lr
        self.opt.zero_grad()
        if self.requires_grad_net:
            for t in self.net.params:   # net_teacher.zero_grad() in the DeepInversion code
                if t.grad is not None:
                    t.grad.zero_()
        x = view(self.params, p, dy, dx, flip)
        loss = loss_terms(self.net, x, self.targets, p)["total"]
        loss.backward()
        lv = loss.item()
        if lv < self.best_loss:
            self.best_loss = lv
            self.best.copy_(self.params.detach())
        self.opt.step()
        with torch.no_grad():
            self.params.clamp_(0, 1)
        self.it += 1
        return lv


# ---------------------------------------------------------------- commands

def read_input(path, p):
    n = p["batch"] * p["c"] * p["h"] * p["w"]
    raw = open(path, "rb").read()
    x = np.frombuffer(raw[:4 * n], dtype="<f4").reshape(p["batch"], p["c"], p["h"], p["w"])
    t = np.frombuffer(raw[4 * n:4 * n + 4 * p["batch"]], dtype="<i4")
    return x, t


def build(cfg, weights, dtype=torch.float32, requires_grad=False):
    shape, layers = parse_network(cfg)
    load_weights(layers, weights)
    return DarknetNet(shape, layers, dtype, requires_grad)


def conv_flops(net):
    """Per image: forward plus input-gradient backward of conv and connected layers."""
    f = 0
    for L in net.layers:
        if L.kind == "convolutional":
            f += 2.0 * L.n * (L.c // L.groups) * L.size * L.size * L.out_h * L.out_w
        elif L.kind == "connected":
            f += 2.0 * L.inputs * L.outputs
    return 2 * f


def cmd_genweights(cfg, out, seed=1, perturb=0):
    torch.manual_seed(int(seed))
    shape, layers = parse_network(cfg)
    for L in layers:
        if L.kind == "convolutional":
            fan_in = (L.c // L.groups) * L.size * L.size
        elif L.kind == "connected":
            fan_in = L.inputs
        else:
            continue
        L.weights = (torch.randn(L.nweights if L.kind == "convolutional" else L.inputs * L.outputs)
                     * math.sqrt(2.0 / fan_in)).numpy()
        L.biases = (0.1 * torch.randn(L.n)).numpy()
        if L.bn:
            L.scales = (1 + 0.1 * torch.randn(L.n)).numpy()
            L.rolling_mean, L.rolling_var = np.zeros(L.n, "f4"), np.ones(L.n, "f4")
    # Calibrate: each BN layer's statistics are its input's batch statistics on
    # images like the ones inversion starts from (0.5 +- 0.2, clipped), every
    # earlier layer already normalised with its own calibrated statistics.
    # 128 images, fewer (at least 8) for large inputs: ~1M input values.
    net = DarknetNet(shape, layers, torch.float64)
    net.calibrate, net.perturb = True, float(perturb)
    n = max(8, min(128, (1 << 20) // (shape[0] * shape[1] * shape[2])))
    with torch.no_grad():
        net.forward((0.5 + 0.2 * torch.randn(n, *shape, dtype=torch.float64)).clamp(0, 1))
    save_weights(layers, out)


def cmd_loss(cfg, weights, params_txt, inp, out, dtype="float64", noise="0"):
    p = read_params(params_txt)
    dt = torch.float64 if dtype == "float64" else torch.float32
    net = build(cfg, weights, dt)
    x, t = read_input(inp, p)
    x = torch.tensor(x, dtype=dt)
    if float(noise):
        g = torch.Generator().manual_seed(3)
        x = x * (1 + float(noise) * torch.randn(x.shape, generator=g, dtype=dt))
    x.requires_grad_(True)
    terms = loss_terms(net, x, torch.tensor(t, dtype=torch.long), p)
    terms["total"].backward()
    with open(out + ".txt", "w") as f:
        for k, v in terms.items():
            f.write(f"term {k} {float(v):.17g}\n")
    x.grad.numpy().astype("<f4").tofile(out + ".grad")


def cmd_step(cfg, weights, params_txt, inp, out, iters, dy, dx, flip):
    p = read_params(params_txt)
    net = build(cfg, weights, torch.float64)
    x, t = read_input(inp, p)
    params = torch.tensor(x.reshape(-1)[:p["batch"] * p["pc"] * p["h"] * p["w"]].reshape(p["batch"], p["pc"], p["h"], p["w"]),
                          dtype=torch.float64)
    d = Dream(net, p, torch.tensor(t, dtype=torch.long), params, False)
    for _ in range(int(iters)):
        d.step(int(dy), int(dx), int(flip), p["iterations"])
    d.params.detach().numpy().astype("<f4").tofile(out + ".params")


def cmd_time(cfg, weights, params_txt, iters, threads, mode, min_seconds="3"):
    threads = int(threads)
    torch.set_num_threads(threads)
    p = read_params(params_txt)
    grad = mode == "grad"
    net = build(cfg, weights, torch.float32, requires_grad=grad)
    B = p["batch"]
    g = torch.Generator().manual_seed(1)
    params = (0.5 + 0.2 * torch.randn(B, p["pc"], p["h"], p["w"], generator=g)).clamp(0, 1)
    targets = torch.arange(B) % net.classes
    rng = np.random.default_rng(1)

    def draw():
        j = p["jitter"]
        dy, dx = (int(rng.integers(-j, j + 1)), int(rng.integers(-j, j + 1))) if j else (0, 0)
        return dy, dx, int(rng.integers(0, 2)) if p["flip"] else 0

    d = Dream(net, p, targets, params, grad)
    t0 = time.perf_counter()
    d.step(*draw(), 2)                    # warm-up (one-time allocations, oneDNN primitive creation)
    d.step(*draw(), 2)
    per = (time.perf_counter() - t0) / 2
    iters = int(iters) or max(2, math.ceil(float(min_seconds) / per))
    d = Dream(net, p, targets, params, grad)
    t0 = time.perf_counter()
    for _ in range(iters):
        d.step(*draw(), iters)
    sec = time.perf_counter() - t0
    ips = iters * B / sec
    flop = conv_flops(net)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"impl=torch-{mode} batch={B} threads={threads} kernel={torch_kernel()} iters={iters} seconds={sec:.4f} "
          f"img_it_s={ips:.2f} conv_mflop={flop / 1e6:.3f} gflops={ips * flop / 1e9:.2f} rss_mib={rss:.1f}")


def torch_kernel():
    """What computes PyTorch's convolutions (oneDNN and its ISA) and matmuls."""
    import ctypes
    blas = "?"
    try:
        lib = ctypes.CDLL("libopenblas.so.0")
        lib.openblas_get_corename.restype = ctypes.c_char_p
        blas = lib.openblas_get_corename().decode()
    except OSError:
        pass
    conv = "oneDNN" if torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled else "native"
    return f"conv:{conv},blas:OpenBLAS-{blas}"

if __name__ == "__main__":
    cmds = {"genweights": cmd_genweights, "loss": cmd_loss, "step": cmd_step, "time": cmd_time}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        print(__doc__)
        sys.exit(2)
    cmds[sys.argv[1]](*sys.argv[2:])
