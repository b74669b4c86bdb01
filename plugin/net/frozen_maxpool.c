// The frozen network's max-pool forward: Darknet's window (offset by -pad/2,
// clipped to the image, the first maximum wins, indexes kept for the
// backward), with the common 2x2 stride-2 window over even sides done in two
// linear sweeps that AVX2 runs eight windows at a time: the larger of each
// horizontal pair (a plane's pairs are consecutive floats), then of each
// vertical pair of those. The comparisons of real data are unpredictable, so
// branches would mispredict half the time.
#include <float.h>
#include <immintrin.h>
#include <string.h>

#include "frozen_layers.h"

// One output: the window at (y0, x0), clipped; -FLT_MAX and -1 if empty.
static inline void window_max(const layer *l, const float *in, int base, int y0, int x0, float *out, int *index)
{
    float max = -FLT_MAX;
    int max_i = -1;
    for (int n = 0; n < l->size; ++n) {
        int y = y0 + n;
        if (y < 0 || y >= l->h) continue;
        for (int m = 0; m < l->size; ++m) {
            int x = x0 + m;
            if (x < 0 || x >= l->w) continue;
            float v = in[y * l->w + x];
            if (v > max) max = v, max_i = base + y * l->w + x;
        }
    }
    *out = max;
    *index = max_i;
}

// Horizontal pairs: hm[q] = the first maximum of in[2q], in[2q+1] above
// -FLT_MAX, hk[q] its position in the pair (-1: neither).
__attribute__((target("avx2"))) static void pair_max_avx2(const float *in, int n, float *hm, int *hk)
{
    const __m256 lowest = _mm256_set1_ps(-FLT_MAX);
    const __m256 none = _mm256_castsi256_ps(_mm256_set1_epi32(-1)), first = _mm256_setzero_ps();
    const __m256 second = _mm256_castsi256_ps(_mm256_set1_epi32(1));
    int q = 0;
    for (; q + 8 <= n; q += 8) {
        __m256 v0 = _mm256_loadu_ps(in + 2 * q), v1 = _mm256_loadu_ps(in + 2 * q + 8);
        __m256 a = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(v0, v1, 0x88)), 0xD8));
        __m256 b = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(v0, v1, 0xDD)), 0xD8));
        __m256 ta = _mm256_cmp_ps(a, lowest, _CMP_GT_OQ);
        __m256 m = _mm256_blendv_ps(lowest, a, ta), k = _mm256_blendv_ps(none, first, ta);
        __m256 tb = _mm256_cmp_ps(b, m, _CMP_GT_OQ);
        _mm256_storeu_ps(hm + q, _mm256_blendv_ps(m, b, tb));
        _mm256_storeu_ps((float *)(hk + q), _mm256_blendv_ps(k, second, tb));
    }
    for (; q < n; ++q) {
        float a = in[2 * q], b = in[2 * q + 1], m = a > -FLT_MAX ? a : -FLT_MAX;
        int k = a > -FLT_MAX ? 0 : -1;
        hm[q] = b > m ? b : m;
        hk[q] = b > m ? 1 : k;
    }
}

// Vertical pairs of rows of hm (W wide) into the H x W outputs of a plane of
// width w starting at index base.
__attribute__((target("avx2"))) static void row_max_avx2(const float *hm, const int *hk, int H, int W, int w, int base,
                                                          float *out, int *index)
{
    const __m256i lane = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14), minus1 = _mm256_set1_epi32(-1);
    const __m256i wv = _mm256_set1_epi32(w);
    for (int i = 0; i < H; ++i) {
        const float *top = hm + 2 * i * W, *bot = top + W;
        const int *kt = hk + 2 * i * W, *kb = kt + W;
        for (int j = 0; j < W; j += 8) {
            int left = W - j < 8 ? W - j : 8;
            __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(left), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
            __m256 t = _mm256_maskload_ps(top + j, mask), b = _mm256_maskload_ps(bot + j, mask);
            __m256i ktv = _mm256_maskload_epi32(kt + j, mask), kbv = _mm256_maskload_epi32(kb + j, mask);
            __m256 lower = _mm256_cmp_ps(b, t, _CMP_GT_OQ);
            __m256i low = _mm256_castps_si256(lower);
            __m256i k = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(ktv), _mm256_castsi256_ps(kbv), lower));
            __m256i at = _mm256_add_epi32(_mm256_set1_epi32(base + 2 * i * w + 2 * j), lane);
            at = _mm256_add_epi32(_mm256_add_epi32(at, _mm256_and_si256(low, wv)), k);
            __m256i neg = _mm256_cmpgt_epi32(_mm256_setzero_si256(), k);
            at = _mm256_blendv_epi8(at, minus1, neg);
            _mm256_maskstore_ps(out + i * W + j, mask, _mm256_blendv_ps(t, b, lower));
            _mm256_maskstore_epi32(index + i * W + j, mask, at);
        }
    }
}

// Scratch for one plane's horizontal pairs; larger planes take the generic path.
#define PAIR_MAX 4096

void forward_frozen_maxpool(layer l, network net)
{
    int avx2 = __builtin_cpu_supports("avx2");
    int off = -l.pad / 2, H = l.out_h, W = l.out_w;
    // A plane's pairs fit the scratch whole, or (larger planes: 112x112 in
    // ImageNet networks) a pair of rows at a time.
    int fast = avx2 && maxpool_covers_input(&l) && l.w <= PAIR_MAX;
    int whole = l.h * l.w / 2 <= PAIR_MAX;
    float hm[PAIR_MAX];
    int hk[PAIR_MAX];
    for (int b = 0; b < l.batch; ++b)
        for (int c = 0; c < l.c; ++c) {
            int base = (b * l.c + c) * l.h * l.w;
            size_t o = (size_t)(b * l.c + c) * H * W;
            const float *in = net.input + base;
            if (fast && whole) {
                pair_max_avx2(in, l.h * l.w / 2, hm, hk);
                row_max_avx2(hm, hk, H, W, l.w, base, l.output + o, l.indexes + o);
                continue;
            }
            if (fast) {
                for (int i = 0; i < H; ++i) {
                    pair_max_avx2(in + 2 * i * l.w, l.w, hm, hk);
                    row_max_avx2(hm, hk, 1, W, l.w, base + 2 * i * l.w, l.output + o + i * W, l.indexes + o + i * W);
                }
                continue;
            }
            for (int i = 0; i < H; ++i)
                for (int j = 0; j < W; ++j)
                    window_max(&l, in, base, off + i * l.stride, off + j * l.stride, l.output + o + i * W + j,
                               l.indexes + o + i * W + j);
        }
}

int maxpool_covers_input(const layer *l)
{
    return l->size == 2 && l->stride == 2 && l->pad / 2 == 0 && l->h % 2 == 0 && l->w % 2 == 0 && l->out_h == l->h / 2 &&
           l->out_w == l->w / 2;
}

void maxpool_plane_delta(const layer *pool, int b, int c, long first_index, float *d)
{
    int n = pool->h * pool->w, P = pool->out_h * pool->out_w;
    size_t plane = (size_t)b * pool->c + c;
    const int *idx = pool->indexes + plane * P;
    const float *delta = pool->delta + plane * P;
    long at = first_index + (long)(plane * n);
    memset(d, 0, n * sizeof(float));
    for (int j = 0; j < P; ++j)
        if (idx[j] >= 0) d[idx[j] - at] = delta[j];
}

// Each output's delta goes to its window's maximum. When the windows tile the
// input and the layer is the only writer (assign), every window is written
// whole, so the delta needs no zeroing first.
void backward_frozen_maxpool(layer l, network net)
{
    frozen_plan f = frozen_layer_plan(&net);
    if (!net.delta || f.fused_pool) return;
    int n = l.out_h * l.out_w * l.out_c * l.batch;
    if (!f.assign) {
        for (int i = 0; i < n; ++i) net.delta[l.indexes[i]] += l.delta[i];
        return;
    }
    int H = l.out_h, W = l.out_w;
    for (int p = 0; p < l.out_c * l.batch; ++p)
        for (int y = 0; y < H; ++y) {
            float *r0 = net.delta + (size_t)p * l.h * l.w + 2 * y * l.w, *r1 = r0 + l.w;
            for (int x = 0; x < l.w; ++x) r0[x] = r1[x] = 0;
            size_t o = ((size_t)p * H + y) * W;
            for (int x = 0; x < W; ++x)
                if (l.indexes[o + x] >= 0) net.delta[l.indexes[o + x]] = l.delta[o + x];
        }
}
