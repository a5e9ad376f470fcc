#include "cgemm_reference.h"

#include <cblas.h>
#include <stdlib.h>
#include <time.h>

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int compare_doubles(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

double cgemm_reference_median_seconds(int trans_a, int trans_b, int m, int n, int k,
                                      const float *a, const float *b, float *c, int repeats) {
    int lda = trans_a ? m : k, ldb = trans_b ? k : n;
    enum CBLAS_TRANSPOSE ta = trans_a ? CblasTrans : CblasNoTrans;
    enum CBLAS_TRANSPOSE tb = trans_b ? CblasTrans : CblasNoTrans;
    double *times = malloc(sizeof(double) * (size_t)repeats);
    if (times == NULL) return -1.0;
    cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, n);
    for (int r = 0; r < repeats; r++) {
        double start = now_seconds();
        cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, n);
        times[r] = now_seconds() - start;
    }
    qsort(times, (size_t)repeats, sizeof(double), compare_doubles);
    double median = times[repeats / 2];
    free(times);
    return median;
}
