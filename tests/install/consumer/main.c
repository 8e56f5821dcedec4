/* Uses a few calls of the installed library: a sleep on an aio and a URL. */
#include <nng/nng.h>
#include <nng/supplemental/util/platform.h>
#include <stdio.h>

int main(void) {
    nng_aio* aio;
    nng_url* url;
    if (nng_aio_alloc(&aio, NULL, NULL) != 0) {
        return 1;
    }
    nng_sleep_aio(1, aio);
    nng_aio_wait(aio);
    int rv = nng_aio_result(aio);
    nng_aio_free(aio);
    if (nng_url_parse(&url, "tcp://127.0.0.1:80") != 0) {
        return 1;
    }
    printf("sleep=%d host=%s version=%s\n", rv, url->u_host, nng_version());
    nng_url_free(url);
    return rv;
}
