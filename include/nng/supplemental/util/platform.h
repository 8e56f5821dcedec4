/*
 * nng-http: NNG 1.x's portable platform helpers (clock, sleep, threads,
 * mutexes, condition variables, random numbers), same names and types.
 * Include <nng/nng.h> first, as with NNG.
 */
#ifndef NNG_SUPPLEMENTAL_UTIL_PLATFORM_H
#define NNG_SUPPLEMENTAL_UTIL_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Milliseconds on a monotonic clock with an arbitrary origin. */
typedef uint64_t nng_time;

NNG_DECL nng_time nng_clock(void);
NNG_DECL void nng_msleep(nng_duration);

typedef struct nng_thread nng_thread;
/* Starts a thread running fn(arg). */
NNG_DECL int nng_thread_create(nng_thread**, void (*)(void*), void*);
NNG_DECL void nng_thread_set_name(nng_thread*, const char*);
/* Waits for the thread to return, then frees it. */
NNG_DECL void nng_thread_destroy(nng_thread*);

/* A non-recursive mutex. */
typedef struct nng_mtx nng_mtx;
NNG_DECL int nng_mtx_alloc(nng_mtx**);
NNG_DECL void nng_mtx_free(nng_mtx*);
NNG_DECL void nng_mtx_lock(nng_mtx*);
NNG_DECL void nng_mtx_unlock(nng_mtx*);

/* A condition variable bound to one mutex at allocation. */
typedef struct nng_cv nng_cv;
NNG_DECL int nng_cv_alloc(nng_cv**, nng_mtx*);
NNG_DECL void nng_cv_free(nng_cv*);
NNG_DECL void nng_cv_wait(nng_cv*);
/* Waits until woken (0) or until the absolute nng_clock time (NNG_ETIMEDOUT). */
NNG_DECL int nng_cv_until(nng_cv*, nng_time);
NNG_DECL void nng_cv_wake(nng_cv*);
NNG_DECL void nng_cv_wake1(nng_cv*);

/* A random number from a strong source. */
NNG_DECL uint32_t nng_random(void);

#ifdef __cplusplus
}
#endif

#endif /* NNG_SUPPLEMENTAL_UTIL_PLATFORM_H */
