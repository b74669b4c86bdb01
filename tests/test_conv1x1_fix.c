// Training-mode input gradient of a network where a 1x1 convolution's input
// is also read by a [route]: Darknet's stock backward loses the route's share,
// fix_conv1x1_backward restores it (checked against finite differences).
#include <math.h>

#include "load_network.h"
#include "conv1x1_fix.h"
#include "testlib.h"

static const char *cfg_text =
    "[net]\nwidth=5\nheight=5\nchannels=2\n"
    "[convolutional]\nfilters=4\nsize=3\nstride=1\npad=1\nactivation=linear\n"
    "[convolutional]\nfilters=3\nsize=1\nstride=1\npad=1\nactivation=linear\n"
    "[route]\nlayers=-1,-2\n"
    "[connected]\noutput=3\nactivation=linear\n"
    "[softmax]\n";

static double loss_at(network *net)
{
    forward_network(net);
    return *net->cost;
}

// Largest |analytic - finite difference| over the inputs, relative to the
// largest gradient component.
static double gradient_error(network *net)
{
    int n = net->batch * net->inputs;
    float *delta = calloc(n, sizeof(float));
    net->delta = delta;
    forward_network(net);
    backward_network(net);
    net->delta = NULL;
    double worst = 0, scale = 1e-12;
    for (int i = 0; i < n; ++i) {
        float x = net->input[i], eps = 1e-2f;
        net->input[i] = x + eps;
        double up = loss_at(net);
        net->input[i] = x - eps;
        double down = loss_at(net);
        net->input[i] = x;
        double fd = (up - down) / (2 * eps);
        double an = -delta[i];   // Darknet deltas are negative gradients
        if (fabs(an - fd) > worst) worst = fabs(an - fd);
        if (fabs(fd) > scale) scale = fabs(fd);
    }
    free(delta);
    return worst / scale;
}

static network *make_net(const char *cfg)
{
    srand(3);
    network *net = load_checked_network(cfg, NULL, 2, LAYERS_TRAIN);
    net->train = 1;
    for (int i = 0; i < net->batch * net->inputs; ++i) net->input[i] = rand() / (float)RAND_MAX;
    memset(net->truth, 0, net->batch * net->truths * sizeof(float));
    net->truth[0] = 1;
    net->truth[net->truths + 2] = 1;
    return net;
}

int main(void)
{
    char *cfg = write_temp(cfg_text, ".cfg");
    network *stock = make_net(cfg);
    double stock_err = gradient_error(stock);
    CHECK(stock_err > 1e-2, "stock backward unexpectedly right (rel err %.3g): is the Darknet quirk gone?", stock_err);
    network *fixed = make_net(cfg);
    CHECK(fix_conv1x1_backward(fixed) == 1, "one 1x1 layer to fix");
    double fixed_err = gradient_error(fixed);
    CHECK(fixed_err < 1e-2, "fixed backward rel err %.3g", fixed_err);
    free_network(stock);
    free_network(fixed);
    unlink(cfg);
    free(cfg);
    return test_summary();
}
