// A lock-step job with no Swift and no engine in it, for results/bench/README.md "Fair under
// load": THREADS threads each compute WORK multiply-adds (about 85 µs at 20000), then meet at a
// barrier, ROUNDS times, as the ranks of `bench load`'s training meet at each collective.
// It prints the wall time, so the same job can be timed idle and beside busy loops, with each
// waiting lever the kernel offers:
//   SLICE_NS  asks EEVDF (Linux 6.12+) for that scheduling slice on every thread (0: the default);
//   SPIN=1    waits at the barrier by spinning instead of sleeping on a condition variable.
// Build and run: cc -O2 -pthread scripts/lockstep-probe.c -o /tmp/lockstep-probe
//                /tmp/lockstep-probe THREADS WORK ROUNDS [SLICE_NS]
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

// struct sched_attr as the kernel reads it (SCHED_ATTR_SIZE_VER1); glibc 2.36 has no wrapper.
struct scheduling_attributes {
    uint32_t size, policy;
    uint64_t flags;
    int32_t nice;
    uint32_t priority;
    uint64_t runtime, deadline, period;
    uint32_t utilization_min, utilization_max;
};

static int threads, work, rounds, spin;
static unsigned long long slice_ns;
static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t condition = PTHREAD_COND_INITIALIZER;
static int arrived;
static long generation;

static void barrier(void) {
    if (spin) {
        long entered = __atomic_load_n(&generation, __ATOMIC_ACQUIRE);
        if (__atomic_add_fetch(&arrived, 1, __ATOMIC_ACQ_REL) == threads) {
            arrived = 0;
            __atomic_store_n(&generation, entered + 1, __ATOMIC_RELEASE);
        } else {
            while (__atomic_load_n(&generation, __ATOMIC_ACQUIRE) == entered) __builtin_ia32_pause();
        }
        return;
    }
    pthread_mutex_lock(&mutex);
    long entered = generation;
    if (++arrived == threads) {
        arrived = 0;
        generation++;
        pthread_cond_broadcast(&condition);
    } else {
        while (generation == entered) pthread_cond_wait(&condition, &mutex);
    }
    pthread_mutex_unlock(&mutex);
}

// Keeps the thread's policy and nice value: only the slice changes.
static void request_slice(void) {
    struct scheduling_attributes attributes;
    memset(&attributes, 0, sizeof attributes);
    if (syscall(SYS_sched_getattr, 0, &attributes, sizeof attributes, 0) != 0) { perror("sched_getattr"); exit(1); }
    attributes.size = sizeof attributes;
    attributes.flags = 0;
    attributes.runtime = slice_ns;
    if (syscall(SYS_sched_setattr, 0, &attributes, 0) != 0) { perror("sched_setattr"); exit(1); }
}

static void *rank(void *unused) {
    (void)unused;
    if (slice_ns) request_slice();
    volatile double sink = 0;
    for (int round = 0; round < rounds; round++) {
        for (int k = 0; k < work; k++) sink += k * 1e-9;
        barrier();
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s THREADS WORK ROUNDS [SLICE_NS]   (SPIN=1 to spin at the barrier)\n", argv[0]);
        return 2;
    }
    threads = atoi(argv[1]);
    work = atoi(argv[2]);
    rounds = atoi(argv[3]);
    slice_ns = argc > 4 ? strtoull(argv[4], NULL, 10) : 0;
    spin = getenv("SPIN") != NULL;
    if (threads < 1 || threads > 64 || work < 0 || rounds < 1) {
        fprintf(stderr, "%s: THREADS 1-64, WORK >= 0, ROUNDS >= 1\n", argv[0]);
        return 2;
    }
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    pthread_t handles[64];
    for (int i = 0; i < threads; i++) pthread_create(&handles[i], NULL, rank, NULL);
    for (int i = 0; i < threads; i++) pthread_join(handles[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &end);
    printf("threads %d, work %d, rounds %d, slice %llu ns, %s: %.3f s\n", threads, work, rounds, slice_ns,
           spin ? "spinning" : "sleeping", (end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) * 1e-9);
    return 0;
}
