// SPDX-License-Identifier: MIT
/*
 * errors.c - status names and the per-thread "last error" message.
 */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>

/* One buffer per host thread: actk_last_error() must not race between
 * threads, and the library must not allocate for an error path. */
static _Thread_local char last_error_text[512];

actk_status actk_fail(actk_status status, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(last_error_text, sizeof last_error_text, fmt, args);
    va_end(args);
    return status;
}

const char *actk_last_error(void) { return last_error_text; }

const char *actk_status_string(actk_status status)
{
    switch (status) {
    case ACTK_SUCCESS: return "ACTK_SUCCESS";
    case ACTK_ERROR_INVALID_VALUE: return "ACTK_ERROR_INVALID_VALUE";
    case ACTK_ERROR_NOT_SUPPORTED: return "ACTK_ERROR_NOT_SUPPORTED";
    case ACTK_ERROR_CUDA: return "ACTK_ERROR_CUDA";
    case ACTK_ERROR_NO_DEVICE: return "ACTK_ERROR_NO_DEVICE";
    case ACTK_STATUS_MAX_ENUM: break;
    }
    return "ACTK_UNKNOWN_STATUS";
}
