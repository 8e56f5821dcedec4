/*
 * Differential test of nng_strerror, nng_version, nng_alloc and
 * nng_strdup.  Prints the text of every NNG error value, of system and
 * transport errors, of unknown and negative values; the output must be the
 * same against NNG 1.5.2 and against nng-http.
 */
#include <errno.h>
#include <limits.h>
#include <nng/nng.h>
#include <stdio.h>
#include <string.h>

static void show(const char* label, int code) {
    printf("%s %d: %s\n", label, code, nng_strerror(code));
}

int main(void) {
    static const int sys_errnos[] = {0,      EPERM,  ENOENT,     EINTR,        EIO,       EBADF,
                                     EAGAIN, ENOMEM, EACCES,     EEXIST,       EINVAL,    EMFILE,
                                     ENOSPC, EPIPE,  ECONNRESET, ECONNREFUSED, ETIMEDOUT, 9999};
    static const int tran_codes[] = {0, 1, 2, 42, 1000, 0x0fffffff};
    static const int odd[] = {-1,  -2,   -3,   -20,        -1000,      INT_MIN,    INT_MAX,
                              999, 1001, 1002, 0x0fffffff, 0x30000000, 0x30000003, 0x40000000};
    char* s;
    void* p;
    int i;
    size_t k;

    for (i = 0; i <= 33; i++) {
        show("nng", i);
    }
    show("nng", NNG_EINTERNAL);
    for (k = 0; k < sizeof(sys_errnos) / sizeof(sys_errnos[0]); k++) {
        show("sys", NNG_ESYSERR + sys_errnos[k]);
    }
    for (k = 0; k < sizeof(tran_codes) / sizeof(tran_codes[0]); k++) {
        show("tran", NNG_ETRANERR + tran_codes[k]);
    }
    for (k = 0; k < sizeof(odd) / sizeof(odd[0]); k++) {
        show("odd", odd[k]);
    }

    printf("version: %s\n", nng_version());
    printf("alloc(0) is NULL: %s\n", nng_alloc(0) == NULL ? "yes" : "no");
    p = nng_alloc(64);
    printf("alloc(64) is NULL: %s\n", p == NULL ? "yes" : "no");
    if (p != NULL) {
        memset(p, 'x', 64);
        nng_free(p, 64);
    }
    s = nng_strdup("differential");
    printf("strdup: %s\n", s != NULL ? s : "(null)");
    if (s != NULL) {
        printf("strdup copies: %s\n", strcmp(s, "differential") == 0 ? "yes" : "no");
        nng_strfree(s);
    }
    s = nng_strdup("");
    printf("strdup empty: [%s]\n", s != NULL ? s : "(null)");
    nng_strfree(s);
    return 0;
}
