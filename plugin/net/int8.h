// Int8 calibration and simulated int8 inference for a Darknet classifier.
//
// What an int8 engine (TensorRT, ncnn, Darknet's int8 forks) does to each
// convolution, computed in float so that its effect on accuracy can be
// measured here: the weights quantized per output channel (symmetric, 127
// levels: w -> round(w / s_c) * s_c, s_c = max|w_c| / 127; a BN layer's scale
// folds into s_c exactly), the input per tensor at a calibrated threshold T
// (x -> clamp(round(x * 127 / T), -127, 127) * T / 127), accumulation in float.
// Other layers ([connected] heads included) stay float, as in those forks.
// A harder setting in which the calibration matters more: activations in
// fewer bits (act_bits: 2^(act_bits-1)-1 levels each side instead of 127),
// the weights still int8.
//
// Calibration: every convolution's input over the calibration images, first
// its largest |x|, then a 2048-bin histogram of |x| on [0, max]; the threshold
// is the one whose 128-level quantization of that distribution loses the least
// information (smallest KL divergence; TensorRT's entropy calibration).
#ifndef INV_INT8_H
#define INV_INT8_H
#include <math.h>
#include <stdio.h>

#include "darknet.h"

#define INT8_BINS 2048

typedef struct {
    int n;              // convolutional layers
    int *layer;         // their indexes in the network
    float *maxabs;      // largest |input| seen in calibration (0 where unknown)
    float *kl, *mse;    // the KL and least-squares thresholds (0 where unknown)
    float *threshold;   // T, the one used: inputs beyond it are clipped
    int act_bits;       // bits of the quantized inputs (8: int8)
} int8_ranges;

// The largest quantized magnitude of a signed b-bit value: 127 for 8 bits.
static inline int act_qmax(int bits) { return (1 << (bits - 1)) - 1; }

typedef enum { INT8_THRESHOLD_KL, INT8_THRESHOLD_MSE, INT8_THRESHOLD_MAX } int8_threshold_rule;
// "kl", "mse" or "max"; dies naming `flag` otherwise.
int8_threshold_rule parse_int8_threshold_rule(const char *s, const char *flag);

// The KL-optimal threshold for a histogram of |x| over [0, maxabs] in `bins`
// bins (at least 128), quantized to qmax + 1 levels (0..qmax; 127 for int8),
// from a sixteenth of maxabs up; maxabs when the data leave nothing to clip.
float kl_threshold(const double *hist, int bins, float maxabs, int qmax);
// The threshold with the least squared quantization error over the histogram
// in qmax levels each side (values at bin centres; clipped ones count their
// distance to T).
float mse_threshold(const double *hist, int bins, float maxabs, int qmax);

// Statistics of every convolution's input over forward passes of net.
typedef struct int8_calibrator int8_calibrator;
int8_calibrator *make_int8_calibrator(network *net);
// Forwards n images (net->inputs floats each) in batches of net->batch:
// pass 0 records the largest |x|, pass 1 (after all of pass 0) the histograms.
void int8_calibrator_pass(int8_calibrator *c, const float *images, int n, int pass);
// Max-abs, KL and least-squares thresholds from the histograms for inputs in
// act_bits bits; `rule` picks the one used (1 where a layer's input was all 0).
int8_ranges int8_calibrator_ranges(const int8_calibrator *c, int8_threshold_rule rule, int act_bits);
void free_int8_calibrator(int8_calibrator *c);

// ranges.txt: a comment header, one line per convolution
// "<layer> convolutional <maxabs> <kl> <mse> <threshold> <qmax/threshold>", and the
// `input_calibration = m1, m2, ...` line of Darknet's int8 forks (one
// multiplier per convolutional layer, in order), written atomically. With
// act_bits other than 8 an `act_bits = B` line instead of input_calibration
// (which those forks would read as int8).
void write_int8_ranges(const char *path, const int8_ranges *r, const char *what);
// The `input_calibration = ...` line alone (what a [net] section takes).
void format_input_calibration(char *buf, size_t n, const int8_ranges *r);
// Reads ranges.txt (lines "<layer> convolutional <maxabs> <threshold>" also
// do; act_bits 8 unless an `act_bits = B` line says otherwise), or any file
// with an `input_calibration = ...` line (the table wins where both are
// present), for net; dies naming the file and line on a value that is not
// positive, bits outside 2..8, or a count that does not match net.
int8_ranges read_int8_ranges(const char *path, const network *net);
void free_int8_ranges(int8_ranges *r);

// Turns net into its simulated int8 version: quantizes every convolution's
// weights in place and makes its forward quantize its input at r's
// threshold in r's act_bits. One network at a time; int8_restore_forward
// undoes the forward (the weights stay quantized).
void int8_quantize_network(network *net, const int8_ranges *r);
void int8_restore_forward(network *net);

// The simulated quantization of one value (in qmax levels each side; 127:
// int8) and of a filter's weights.
static inline float fake_quantize(float x, float scale, int qmax)
{
    float q = x / scale, m = (float)qmax;
    q = q > m ? m : q < -m ? -m : q;
    return roundf(q) * scale;
}
static inline float int8_fake_quantize(float x, float scale) { return fake_quantize(x, scale, 127); }
void int8_quantize_weights(float *w, int n);
#endif
