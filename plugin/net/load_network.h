// Loading a Darknet network safely: the cfg's sections are checked before
// Darknet parses it (Darknet turns unknown ones into crashing empty layers),
// the weights file's size is checked against what the cfg needs (Darknet's
// fread is never checked), and the batch size is set before buffers exist.
#ifndef INV_LOAD_NETWORK_H
#define INV_LOAD_NETWORK_H
#include "darknet.h"

// Which layer types a caller can accept.
typedef enum {
    LAYERS_FROZEN,    // layers the frozen (input-gradient) backward supports
    LAYERS_TRAIN      // any layer Darknet's own training handles
} layer_set;

// Parse `cfg` with [net] batch=batch, subdivisions=1 (batch <= 0 keeps the
// cfg's own), then load `weights` (NULL: keep Darknet's random initialisation).
// Dies with file, line and section on a bad cfg, and with expected/actual size
// and the first layer that does not fit on a bad weights file.
network *load_checked_network(const char *cfg, const char *weights, int batch, layer_set allowed);
// The weights step of load_checked_network, for callers that check more
// (labels against the class count) between parsing and loading.
void load_checked_weights(network *net, const char *cfg, const char *weights, layer_set allowed);

// The checks on a cfg's text that precede Darknet's parser (known section
// names, [net] first and only once, at least one layer, `allowed` layers),
// on a buffer of len bytes; `cfg` names it in messages. Returns 0 and, when
// copy is not NULL, a malloc'd copy of the text with [net] batch=batch and
// subdivisions=1 (batch <= 0: unchanged); or -1 with the message in err.
int check_cfg_text(const char *text, size_t len, const char *cfg, int batch, layer_set allowed,
                   char **copy, char *err, size_t errlen);

// The weights file's size against what `net` needs, layer by layer: 0, or -1
// with the message (expected/actual size, first layer that does not fit) in err.
int check_weights_file_size(const network *net, const char *cfg, const char *weights, char *err, size_t errlen);

// Bytes a weights file for `net` must have (header included, major.minor 0.2).
size_t expected_weights_bytes(const network *net);

// Index of the layer whose output is the network's prediction (the last
// non-cost layer), as Darknet's get_network_output does.
int output_layer_index(const network *net);

const char *layer_type_name(LAYER_TYPE t);
#endif
