/*
 * Differential test of the platform helpers: threads, mutexes, condition
 * variables, the clock and sleeps.  Only return codes and outcomes are
 * printed (never times, pointers or random values), so the output must be
 * the same against NNG 1.5.2 and against nng-http.
 *
 * nng_cv_until(cv, 0) is left out: NNG 1.5.2 returns NNG_EAGAIN there and
 * nng-http NNG_ETIMEDOUT (see tests/unit/capi/platform_test.cpp).  So is
 * nng_msleep with a negative duration, which NNG 1.5.2 turns into an
 * endless sleep.
 */
#include <nng/nng.h>
#include <nng/supplemental/util/platform.h>
#include <stdio.h>

static nng_mtx* mtx;
static nng_cv* cv;
static nng_cv* ready_cv; /* waiters announce themselves here */
static int flag;
static int counter;
static int waiting;
static int woken;

static void set_flag(void* arg) {
    (void)arg;
    nng_msleep(20);
    nng_mtx_lock(mtx);
    flag = 1;
    nng_cv_wake(cv);
    nng_mtx_unlock(mtx);
}

static void count_up(void* arg) {
    int i;
    (void)arg;
    for (i = 0; i < 10000; i++) {
        nng_mtx_lock(mtx);
        counter++;
        nng_mtx_unlock(mtx);
    }
}

/* Waits (at most 2 s) for flag to change; counts itself when woken. */
static void waiter(void* arg) {
    int seen;
    int rv = 0;
    nng_time end;
    (void)arg;
    nng_mtx_lock(mtx);
    end = nng_clock() + 2000;
    seen = flag;
    waiting++;
    nng_cv_wake(ready_cv);
    while (flag == seen && rv == 0) {
        rv = nng_cv_until(cv, end);
    }
    if (rv == 0) {
        woken++;
    }
    nng_mtx_unlock(mtx);
}

static int run_waiters(int all) {
    nng_thread* t[3];
    int i;
    woken = 0;
    waiting = 0;
    for (i = 0; i < 3; i++) {
        if (nng_thread_create(&t[i], waiter, NULL) != 0) {
            return -1;
        }
    }
    nng_mtx_lock(mtx);
    while (waiting < 3) {
        nng_cv_wait(ready_cv);
    }
    flag++;
    if (all) {
        nng_cv_wake(cv);
    } else {
        nng_cv_wake1(cv);
    }
    nng_mtx_unlock(mtx);
    for (i = 0; i < 3; i++) {
        nng_thread_destroy(t[i]);
    }
    return woken;
}

int main(void) {
    nng_thread* t[4];
    nng_time t0;
    nng_time t1;
    int rv;
    int i;
    int monotonic = 1;

    printf("mtx_alloc: %d\n", nng_mtx_alloc(&mtx));
    printf("cv_alloc: %d\n", nng_cv_alloc(&cv, mtx));
    printf("cv_alloc: %d\n", nng_cv_alloc(&ready_cv, mtx));

    t0 = nng_clock();
    for (i = 0; i < 1000; i++) {
        t1 = nng_clock();
        if (t1 < t0) {
            monotonic = 0;
        }
        t0 = t1;
    }
    printf("clock monotonic: %s\n", monotonic ? "yes" : "no");
    t0 = nng_clock();
    nng_msleep(30);
    printf("msleep(30) slept at least 30 ms: %s\n", nng_clock() - t0 >= 30 ? "yes" : "no");
    t0 = nng_clock();
    nng_msleep(0);
    printf("msleep(0) returned at once: %s\n", nng_clock() - t0 < 1000 ? "yes" : "no");

    nng_mtx_lock(mtx);
    printf("cv_until past: %d\n", nng_cv_until(cv, nng_clock() - 5));
    printf("cv_until now: %d\n", nng_cv_until(cv, nng_clock()));
    printf("cv_until 1: %d\n", nng_cv_until(cv, 1));
    t0 = nng_clock();
    rv = nng_cv_until(cv, t0 + 15);
    printf("cv_until +15 ms: %d, waited long enough: %s\n", rv,
           nng_clock() - t0 >= 15 ? "yes" : "no");
    nng_mtx_unlock(mtx);

    printf("thread_create: %d\n", nng_thread_create(&t[0], set_flag, NULL));
    nng_thread_set_name(t[0], "compat-waker");
    nng_mtx_lock(mtx);
    rv = 0;
    t0 = nng_clock() + 5000;
    while (flag == 0 && rv == 0) {
        rv = nng_cv_until(cv, t0);
    }
    printf("cv_until woken: %d, flag %d\n", rv, flag);
    nng_mtx_unlock(mtx);
    nng_thread_destroy(t[0]);

    flag = 0;
    printf("thread_create: %d\n", nng_thread_create(&t[0], set_flag, NULL));
    nng_mtx_lock(mtx);
    while (flag == 0) {
        nng_cv_wait(cv);
    }
    printf("cv_wait woken, flag %d\n", flag);
    nng_mtx_unlock(mtx);
    nng_thread_destroy(t[0]);

    for (i = 0; i < 4; i++) {
        rv = nng_thread_create(&t[i], count_up, NULL);
        if (rv != 0) {
            printf("thread_create: %d\n", rv);
            return 1;
        }
    }
    for (i = 0; i < 4; i++) {
        nng_thread_destroy(t[i]);
    }
    printf("mutex counter: %d\n", counter);

    printf("cv_wake woke: %d of 3\n", run_waiters(1));
    /* wake1 wakes at least one (POSIX allows more); the others time out
     * after 2 s. */
    rv = run_waiters(0);
    printf("cv_wake1 woke at least one: %s\n", rv >= 1 && rv <= 3 ? "yes" : "no");

    nng_thread_set_name(NULL, "compat-main");
    nng_cv_free(ready_cv);
    nng_cv_free(cv);
    nng_mtx_free(mtx);
    printf("done\n");
    return 0;
}
