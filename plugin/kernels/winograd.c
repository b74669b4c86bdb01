// Winograd F(2x2, 3x3) for the frozen network's 3x3 convolutions (winograd.h).
// With d a 4x4 input tile, g a 3x3 filter and ⊙ the element-wise product, a
// 2x2 block of the correlation is Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A, where
//   Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],  G = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1],
//   Aᵀ = [1 1 1 0; 0 1 -1 -1].
// The sum over channels of the products is, for each of the 16 positions ξ
// of the tile, one GEMM: M[ξ] [out channels][tiles] = U[ξ] [out][in] · V[ξ] [in][tiles].
//
// Shapes: U [16][n][c] (from weights [n][c][3][3]); V [16][channels in][T];
// M [16][channels out][T] (the 16 one span() apart); tiles
// t = (b*th + ty)*tw + tx, th = ceil(h/2), tw = ceil(w/2): the last tile row
// and column overhang the plane (zeros in, outputs dropped).
#include <string.h>

#include "darknet_internal.h"
#include "simd.h"
#include "winograd.h"

static int forced;

void winograd_force(int on) { forced = on; }

int winograd_applies(const layer *l, int allowed)
{
    if (!allowed || l->type != CONVOLUTIONAL) return 0;
    if (l->size != 3 || l->stride != 1 || l->pad != 1 || l->groups != 1) return 0;
    if (l->out_h != l->h || l->out_w != l->w) return 0;
    return forced || (l->c >= 16 && l->n >= 16 && l->h >= 8 && l->w >= 8);
}

static size_t tiles(const layer *l) { return (size_t)l->batch * ((l->h + 1) / 2) * ((l->w + 1) / 2); }

// The 16 matrices of U, V and M lie one span apart: their size rounded to a
// cache line, plus one, so that the transforms' 16 streams do not all map to
// the same cache sets when the size is a multiple of 4 KiB (it often is: 64
// channels of 3136 tiles), which made them several times slower.
static size_t span(size_t floats) { return (floats + 15) / 16 * 16 + 16; }

// The row buffers of the transforms: 4 rows of the input transform (2*tw + 2
// each, zero-padded) and a zero row (w), or 2 output rows (2*tw each).
static size_t row_floats(const layer *l) { return 4 * (size_t)(l->w + 3) + l->w + 2; }

size_t winograd_work(const layer *l)
{
    size_t T = tiles(l);
    return 16 * (span((size_t)l->n * l->c) + span((size_t)l->c * T) + span((size_t)l->n * T)) + row_floats(l);
}

// U[ξ][o][ch] = (G g Gᵀ)[ξ] for the filter g of output o and input ch
// (filter i = o*c + ch of the weights), a block of filters at a time with the
// taps transposed, so that each step is one vector over the block.
INV_SIMD static void transform_filters(const float *weights, int n, int c, float *U)
{
    enum { L = 16 };
    size_t nc = (size_t)n * c, S = span(nc);
    for (size_t i0 = 0; i0 < nc; i0 += L) {
        int m = nc - i0 < L ? (int)(nc - i0) : L;
        float g[9][L] = {{0}}, t[4][3][L];
        for (int v = 0; v < m; ++v)
            for (int k = 0; k < 9; ++k) g[k][v] = weights[(i0 + v) * 9 + k];
        for (int j = 0; j < 3; ++j)
            for (int v = 0; v < L; ++v) {
                t[0][j][v] = g[j][v];
                t[1][j][v] = .5f * (g[j][v] + g[3 + j][v] + g[6 + j][v]);
                t[2][j][v] = .5f * (g[j][v] - g[3 + j][v] + g[6 + j][v]);
                t[3][j][v] = g[6 + j][v];
            }
        for (int i = 0; i < 4; ++i) {
            float *u0 = U + 4 * i * S + i0, *u1 = u0 + S, *u2 = u1 + S, *u3 = u2 + S;
            for (int v = 0; v < m; ++v) {
                u0[v] = t[i][0][v];
                u1[v] = .5f * (t[i][0][v] + t[i][1][v] + t[i][2][v]);
                u2[v] = .5f * (t[i][0][v] - t[i][1][v] + t[i][2][v]);
                u3[v] = t[i][2][v];
            }
        }
    }
}

// V[ξ][ch][t] = (Bᵀ d B)[ξ] for the tiles of the C planes of `in`, plane
// (b, ch) at in + b*bs + ch*cs (h x w, rows w apart). Bᵀ along y on whole
// rows, then along x on the zero-padded rows (s[j] is column j - 1).
INV_SIMD static void transform_input(const float *in, size_t bs, size_t cs, int batch, int C, int h, int w, float *V,
                                     size_t T, float *rowbuf)
{
    int th = (h + 1) / 2, tw = (w + 1) / 2, W = 2 * tw + 2;
    float *s[4] = {rowbuf, rowbuf + W, rowbuf + 2 * W, rowbuf + 3 * W}, *zero = rowbuf + 4 * W;
    memset(rowbuf, 0, sizeof(float) * (4 * (size_t)W + w));
    for (int b = 0; b < batch; ++b)
        for (int ch = 0; ch < C; ++ch) {
            const float *p = in + b * bs + ch * cs;
            for (int ty = 0; ty < th; ++ty) {
                const float *r[4];
                for (int k = 0; k < 4; ++k) {
                    int y = 2 * ty - 1 + k;
                    r[k] = y >= 0 && y < h ? p + (size_t)y * w : zero;
                }
                float *s0 = s[0] + 1, *s1 = s[1] + 1, *s2 = s[2] + 1, *s3 = s[3] + 1;
                for (int x = 0; x < w; ++x) {
                    float d0 = r[0][x], d1 = r[1][x], d2 = r[2][x], d3 = r[3][x];
                    s0[x] = d0 - d2;
                    s1[x] = d1 + d2;
                    s2[x] = d2 - d1;
                    s3[x] = d1 - d3;
                }
                size_t t0 = ((size_t)b * th + ty) * tw;
                for (int k = 0; k < 4; ++k) {
                    const float *q = s[k];
                    size_t S = span((size_t)C * T);
                    float *v0 = V + 4 * k * S + (size_t)ch * T + t0, *v1 = v0 + S, *v2 = v1 + S, *v3 = v2 + S;
                    for (int tx = 0; tx < tw; ++tx) {
                        float a = q[2 * tx], bb = q[2 * tx + 1], cc = q[2 * tx + 2], d = q[2 * tx + 3];
                        v0[tx] = a - cc;
                        v1[tx] = bb + cc;
                        v2[tx] = cc - bb;
                        v3[tx] = bb - d;
                    }
                }
            }
        }
}

// Plane (b, k) of `out` (at out + b*bs + k*cs) = or += Aᵀ M A over its tiles.
INV_SIMD static void transform_output(const float *M, size_t T, int batch, int K, int h, int w, float *out, size_t bs,
                                      size_t cs, int add, float *rowbuf)
{
    int th = (h + 1) / 2, tw = (w + 1) / 2;
    float *row0 = rowbuf, *row1 = rowbuf + 2 * tw;
    for (int b = 0; b < batch; ++b)
        for (int k = 0; k < K; ++k)
            for (int ty = 0; ty < th; ++ty) {
                size_t t0 = ((size_t)b * th + ty) * tw;
                const float *m[16];
                for (int x = 0; x < 16; ++x) m[x] = M + x * span((size_t)K * T) + (size_t)k * T + t0;
                for (int tx = 0; tx < tw; ++tx) {
                    float q00 = m[0][tx] + m[4][tx] + m[8][tx], q01 = m[1][tx] + m[5][tx] + m[9][tx];
                    float q02 = m[2][tx] + m[6][tx] + m[10][tx], q03 = m[3][tx] + m[7][tx] + m[11][tx];
                    float q10 = m[4][tx] - m[8][tx] - m[12][tx], q11 = m[5][tx] - m[9][tx] - m[13][tx];
                    float q12 = m[6][tx] - m[10][tx] - m[14][tx], q13 = m[7][tx] - m[11][tx] - m[15][tx];
                    row0[2 * tx] = q00 + q01 + q02;
                    row0[2 * tx + 1] = q01 - q02 - q03;
                    row1[2 * tx] = q10 + q11 + q12;
                    row1[2 * tx + 1] = q11 - q12 - q13;
                }
                for (int i = 0; i < 2 && 2 * ty + i < h; ++i) {
                    float *dst = out + b * bs + k * cs + (size_t)(2 * ty + i) * w;
                    const float *src = i ? row1 : row0;
                    if (add)
                        for (int x = 0; x < w; ++x) dst[x] += src[x];
                    else
                        memcpy(dst, src, sizeof(float) * w);
                }
            }
}

void forward_winograd_conv(const layer *l, const float *input, float *result, float *work)
{
    int n = l->n, c = l->c, N = l->h * l->w;
    size_t T = tiles(l), BN = (size_t)l->batch * N;
    size_t su = span((size_t)n * c), sv = span((size_t)c * T), sm = span((size_t)n * T);
    float *U = work, *V = U + 16 * su, *M = V + 16 * sv, *rowbuf = M + 16 * sm;
    transform_filters(l->weights, n, c, U);
    transform_input(input, (size_t)c * N, N, l->batch, c, l->h, l->w, V, T, rowbuf);
    for (int x = 0; x < 16; ++x) gemm(0, 0, n, T, c, 1, U + x * su, c, V + x * sv, T, 0, M + x * sm, T);
    transform_output(M, T, l->batch, n, l->h, l->w, result, N, BN, 0, rowbuf);
}

// The filters turned by 180 degrees: G J = P G with J the reversal and P the
// swap of rows 0 and 3, so their transform is U[p(i)][p(j)], transposed.
void backward_winograd_conv(const layer *l, const float *rows, float *delta, int assign, float *work)
{
    static const int p[4] = {3, 1, 2, 0};
    int n = l->n, c = l->c, N = l->h * l->w;
    size_t T = tiles(l), BN = (size_t)l->batch * N;
    size_t su = span((size_t)n * c), sv = span((size_t)n * T), sm = span((size_t)c * T);
    float *U = work, *V = U + 16 * su, *M = V + 16 * sv, *rowbuf = M + 16 * sm;
    transform_filters(l->weights, n, c, U);
    transform_input(rows, N, BN, l->batch, n, l->h, l->w, V, T, rowbuf);
    for (int x = 0; x < 16; ++x) {
        int turned = 4 * p[x / 4] + p[x % 4];
        gemm(1, 0, c, T, n, 1, U + turned * su, c, V + x * sv, T, 0, M + x * sm, T);
    }
    transform_output(M, T, l->batch, c, l->h, l->w, delta, (size_t)c * N, N, !assign, rowbuf);
}
