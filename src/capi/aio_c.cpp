// nng_aio_* and nng_sleep_aio: shims over nnghttp::detail::aio.
#include <nng/nng.h>

#include "capi/handles.hpp"
#include "core/aio.hpp"
#include "core/executor.hpp"

using nnghttp::detail::aio;
using nnghttp::detail::capi::from_c;
using nnghttp::detail::capi::to_c;

extern "C" {

int nng_aio_alloc(nng_aio** out, void (*cb)(void*), void* arg) {
    auto* a = new (std::nothrow) aio(cb, arg);
    if (a == nullptr) {
        return NNG_ENOMEM;
    }
    a->set_timeout(NNG_DURATION_DEFAULT);
    *out = to_c(a);
    return 0;
}

void nng_aio_free(nng_aio* a) { delete from_c(a); }

void nng_aio_reap(nng_aio* a) {
    if (a != nullptr) {
        asio::post(nnghttp::detail::executor::global().current_or_next().context(), [a] { delete from_c(a); });
    }
}

void nng_aio_stop(nng_aio* a) {
    if (a != nullptr) {
        from_c(a)->stop();
    }
}

int nng_aio_result(nng_aio* a) { return from_c(a)->result(); }

size_t nng_aio_count(nng_aio* a) { return from_c(a)->count(); }

void nng_aio_cancel(nng_aio* a) { from_c(a)->cancel(); }

void nng_aio_abort(nng_aio* a, int err) { from_c(a)->abort(err); }

void nng_aio_wait(nng_aio* a) { from_c(a)->wait(); }

int nng_aio_set_input(nng_aio* a, unsigned i, void* p) {
    if (i >= aio::max_args) {
        return NNG_EINVAL;
    }
    from_c(a)->set_input(i, p);
    return 0;
}

void* nng_aio_get_input(nng_aio* a, unsigned i) { return from_c(a)->input(i); }

int nng_aio_set_output(nng_aio* a, unsigned i, void* p) {
    if (i >= aio::max_args) {
        return NNG_EINVAL;
    }
    from_c(a)->set_output(i, p);
    return 0;
}

void* nng_aio_get_output(nng_aio* a, unsigned i) { return from_c(a)->output(i); }

void nng_aio_set_timeout(nng_aio* a, nng_duration d) { from_c(a)->set_timeout(d); }

int nng_aio_set_iov(nng_aio* a, unsigned n, const nng_iov* iov) {
    return from_c(a)->set_iov(n, iov);
}

bool nng_aio_begin(nng_aio* a) { return from_c(a)->begin(); }

// NNG keeps the count the provider accumulated.
void nng_aio_finish(nng_aio* a, int err) { from_c(a)->finish(err, from_c(a)->count()); }

// As in NNG, a failed schedule (stopped aio, zero timeout) is not reported:
// the begun operation is dropped, so wait() returns and no callback runs
// unless the provider finishes the aio anyway.
void nng_aio_defer(nng_aio* a, nng_aio_cancelfn fn, void* arg) {
    if (from_c(a)->schedule_c(fn, arg) != 0) {
        from_c(a)->abandon();
    }
}

void nng_sleep_aio(nng_duration ms, nng_aio* a) { from_c(a)->sleep(ms); }

void nng_fini(void) { nnghttp::detail::executor::shutdown_global(); }

} // extern "C"
