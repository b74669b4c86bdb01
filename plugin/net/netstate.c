#include "netstate.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "load_network.h"
#include "frozen_ops.h"
#include "util.h"

// Every parameter array of every layer is finite (a NaN weight is never written).
static int network_is_finite(const network *net);

void save_weights_atomic(network *net, const char *path)
{
    if (!network_is_finite(net)) inv_die("refusing to write %s: the network holds NaN or infinite parameters", path);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
    FILE *probe = fopen(tmp, "wb");   // save_weights exits on failure; check first
    if (!probe) inv_die("cannot create %s: %s", tmp, strerror(errno));
    fclose(probe);
#ifdef GPU
    // A device choice Darknet reads from a global: its per-layer savers pull
    // from the device when gpu_index is a device, whatever the network, so
    // it must be this one's while saving.
    int saved_gpu = gpu_index;
    gpu_index = net->gpu_index;
#endif
    int saved = silence_stderr();   // "Saving weights to ..."
    save_weights(net, tmp);
    restore_stderr(saved);
#ifdef GPU
    gpu_index = saved_gpu;
#endif
    struct stat st;
    size_t want = expected_weights_bytes(net);
    if (stat(tmp, &st) != 0 || (size_t)st.st_size != want) {
        // Darknet's save_weights checks no write: writing the missing bytes
        // again tells why (ENOSPC, EDQUOT, EIO...).
        long long got = stat(tmp, &st) == 0 ? (long long)st.st_size : -1;
        int err = EIO;
        FILE *f = got >= 0 && (size_t)got < want ? fopen(tmp, "ab") : NULL;
        if (f) {
            static const char zeros[4096];
            for (size_t left = want - (size_t)got; left > 0;) {
                size_t k = left < sizeof zeros ? left : sizeof zeros;
                if (fwrite(zeros, 1, k, f) != k) { err = errno; break; }
                left -= k;
            }
            if (fflush(f) != 0 || fsync(fileno(f)) != 0) err = errno;
            fclose(f);
        }
        unlink(tmp);
        inv_die("cannot write %s: %s (%lld of %zu bytes written)", path, strerror(err), got, want);
    }
    FILE *f = fopen(tmp, "rb+");
    if (!f || fsync(fileno(f)) != 0) { unlink(tmp); inv_die("cannot sync %s: %s", tmp, strerror(errno)); }
    fclose(f);
    if (rename(tmp, path) != 0) { int e = errno; unlink(tmp); inv_die("cannot rename %s to %s: %s", tmp, path, strerror(e)); }
}

// The parameter arrays of a layer, in a fixed order, with their lengths.
static int layer_arrays(const layer *l, float **a, size_t *n, int momentum)
{
    int k = 0;
    size_t nw = l->type == CONVOLUTIONAL ? (size_t)l->nweights : (size_t)l->inputs * l->outputs;
    size_t nb = l->type == CONVOLUTIONAL ? (size_t)l->n : (size_t)l->outputs;
    if (l->type != CONVOLUTIONAL && l->type != CONNECTED) return 0;
    if (momentum) {
        a[k] = l->weight_updates, n[k++] = nw;
        a[k] = l->bias_updates, n[k++] = nb;
        if (l->batch_normalize) a[k] = l->scale_updates, n[k++] = nb;
    } else {
        a[k] = l->weights, n[k++] = nw;
        a[k] = l->biases, n[k++] = nb;
        if (l->batch_normalize) {
            a[k] = l->scales, n[k++] = nb;
            a[k] = l->rolling_mean, n[k++] = nb;
            a[k] = l->rolling_variance, n[k++] = nb;
        }
    }
    return k;
}

static int network_is_finite(const network *net)
{
    for (int i = 0; i < net->n; ++i) {
        float *a[5];
        size_t n[5];
        int k = layer_arrays(&net->layers[i], a, n, 0);
        for (int j = 0; j < k; ++j)
            for (size_t e = 0; e < n[j]; ++e)
                if (!isfinite(a[j][e])) return 0;
    }
    return 1;
}

void save_momentum(const network *net, const char *path)
{
    atomic_file f = atomic_open(path);
    for (int i = 0; i < net->n; ++i) {
        float *a[5];
        size_t n[5];
        int k = layer_arrays(&net->layers[i], a, n, 1);
        for (int j = 0; j < k; ++j) fwrite(a[j], sizeof(float), n[j], f.f);
    }
    atomic_commit(&f);
}

void load_momentum(network *net, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) inv_die("cannot open %s: %s", path, strerror(errno));
    for (int i = 0; i < net->n; ++i) {
        float *a[5];
        size_t n[5];
        int k = layer_arrays(&net->layers[i], a, n, 1);
        for (int j = 0; j < k; ++j)
            if (fread(a[j], sizeof(float), n[j], f) != n[j]) inv_die("%s: truncated at layer %d", path, i);
    }
    if (fgetc(f) != EOF) inv_die("%s: longer than the network's momentum buffers", path);
    fclose(f);
}

void copy_network_params(network *dst, const network *src) { copy_network_params_except(dst, src, -1); }

void copy_network_params_except(network *dst, const network *src, int skip)
{
    if (dst->n != src->n) inv_die("internal: copying parameters between different networks");
    for (int i = 0; i < src->n; ++i) {
        if (i == skip) continue;
        float *a[5], *b[5];
        size_t n[5], m[5];
        int k = layer_arrays(&src->layers[i], a, n, 0);
        if (layer_arrays(&dst->layers[i], b, m, 0) != k) inv_die("internal: layer %d differs", i);
        for (int j = 0; j < k; ++j) {
            if (n[j] != m[j]) inv_die("internal: layer %d sizes differ", i);
            memcpy(b[j], a[j], n[j] * sizeof(float));
        }
    }
#ifdef GPU
    // Not a device choice: Darknet keeps a device copy of the parameters of a
    // network it loaded on the GPU (a frozen copy runs from it), which only a
    // GPU build has; push_network_params does nothing for a CPU network.
    push_network_params(dst);
#endif
}
