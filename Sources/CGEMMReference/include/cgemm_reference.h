#ifndef CGEMM_REFERENCE_H
#define CGEMM_REFERENCE_H

/* The yardstick for `megatron bench gemm`: the same sgemm shapes timed from plain C, so the
   Swift path's overhead (if any) shows as a ratio measured in the same run. */

/* Median seconds of `repeats` calls of C = op(A)·op(B) after one warm-up call (row-major). */
double cgemm_reference_median_seconds(int trans_a, int trans_b, int m, int n, int k,
                                      const float *a, const float *b, float *c, int repeats);

#endif
