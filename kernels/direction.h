// SPDX-License-Identifier: MIT
/*
 * direction.h - which pass of an element-wise op a call computes; one enum
 * shared by the host checks, the kernels' launch interface and the bench
 * (C and C++/CUDA; not part of the public API, whose entry points name the
 * direction).
 */
#ifndef ACTK_KERNELS_DIRECTION_H
#define ACTK_KERNELS_DIRECTION_H

typedef enum {
    ACTK_DIR_FORWARD = 0,         /* (x) -> y          */
    ACTK_DIR_BACKWARD = 1,        /* (x, dy) -> dx     */
    ACTK_DIR_BACKWARD_FROM_Y = 2  /* (y, dy) -> dx     */
} actk_direction;

#endif
