// SPDX-License-Identifier: MIT
/* consumer.c - a tiny program built against an installed actk, proving
 * that find_package(actk) and pkg-config both work. */
#include <actk/actk.h>

#include <stdio.h>

int main(void)
{
    const float x[3] = {-1.0f, 0.0f, 2.0f};
    float y[3] = {0};
    if (actk_cpu_forward(actk_act_default(ACTK_OP_SIGMOID), ACTK_F32, 3, x, y) != ACTK_SUCCESS) {
        fprintf(stderr, "actk_cpu_forward failed: %s\n", actk_last_error());
        return 1;
    }
    if (y[1] != 0.5f || !(y[0] > 0.26f && y[0] < 0.27f) || !(y[2] > 0.88f && y[2] < 0.89f)) {
        fprintf(stderr, "wrong sigmoid values %g %g %g\n", y[0], y[1], y[2]);
        return 1;
    }
    /* the GPU entry point exists in every build */
    const actk_status s = actk_cuda_forward(actk_act_default(ACTK_OP_RELU), ACTK_F32, 0, NULL, NULL, NULL);
    if (s != ACTK_SUCCESS && s != ACTK_ERROR_NO_DEVICE) {
        fprintf(stderr, "actk_cuda_forward: %s\n", actk_status_string(s));
        return 1;
    }
    printf("actk %s consumer OK (cuda: %s)\n", actk_version_string(), actk_status_string(s));
    return actk_version() == ACTK_VERSION_NUMBER ? 0 : 1;
}
