/*
 * Differential test of the HTTP message API: every nng_http_req_* and
 * nng_http_res_* function.
 *
 * Each step prints the return codes and the values read back (NULL as
 * "(null)").  The output must be the same against NNG 1.5.2 and against
 * nng-http.  Left out on purpose, because nng-http differs there
 * (docs/compat.md): values containing CR or LF, NULL arguments, the
 * reason phrases of 207, 208, 226, 308, 413, 422 and 502, and the bytes of
 * the nng_http_res_alloc_error page (only its parts are compared).  Also
 * left out: nng_http_*_copy_data with size 0, which NNG 1.5.2 fails with
 * NNG_ENOMEM (it allocates zero bytes) where nng-http succeeds.
 */
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <stdio.h>
#include <string.h>

static const char* show(const char* s) {
    return s != NULL ? s : "(null)";
}

static void req_line(const char* what, nng_http_req* req) {
    printf("%s: method=%s uri=[%s] version=%s\n", what, show(nng_http_req_get_method(req)),
           show(nng_http_req_get_uri(req)), show(nng_http_req_get_version(req)));
}

static void res_line(const char* what, nng_http_res* res) {
    printf("%s: status=%u reason=[%s] version=%s\n", what, (unsigned)nng_http_res_get_status(res),
           show(nng_http_res_get_reason(res)), show(nng_http_res_get_version(res)));
}

static void req_hdr(nng_http_req* req, const char* name) {
    printf("  req header [%s] = [%s]\n", name, show(nng_http_req_get_header(req, name)));
}

static void res_hdr(nng_http_res* res, const char* name) {
    printf("  res header [%s] = [%s]\n", name, show(nng_http_res_get_header(res, name)));
}

/* Prints the body: its size, whether it is the given pointer, its bytes. */
static void show_data(const char* what, void* data, size_t size, const void* src) {
    printf("  %s data: size=%zu null=%d same_ptr=%d bytes=[", what, size, data == NULL,
           src != NULL && data == src);
    if (data != NULL) {
        fwrite(data, 1, size, stdout);
    }
    printf("]\n");
}

static void request_fields(void) {
    nng_http_req* req = NULL;
    int rv = nng_http_req_alloc(&req, NULL);
    printf("req_alloc(NULL url) = %d\n", rv);
    if (rv != 0) {
        return;
    }
    req_line("default", req);
    req_hdr(req, "Host");

    static const char* const methods[] = {"POST", "PUT",      "DELETE", "HEAD",
                                          "get",  "X-CUSTOM", "GET"};
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        rv = nng_http_req_set_method(req, methods[i]);
        printf("set_method(%s) = %d -> %s\n", methods[i], rv, show(nng_http_req_get_method(req)));
    }
    rv = nng_http_req_set_method(req, "OPTIONS");
    rv = nng_http_req_set_method(req, NULL);
    printf("set_method(NULL) = %d -> %s\n", rv, show(nng_http_req_get_method(req)));

    static const char* const uris[] = {"/", "/a/b?c=d&e=f", "*", "http://x.example/abs", "/%20x",
                                       ""};
    for (size_t i = 0; i < sizeof(uris) / sizeof(uris[0]); i++) {
        rv = nng_http_req_set_uri(req, uris[i]);
        printf("set_uri(%s) = %d -> [%s]\n", uris[i], rv, show(nng_http_req_get_uri(req)));
    }
    rv = nng_http_req_set_uri(req, "/before-null");
    rv = nng_http_req_set_uri(req, NULL);
    printf("set_uri(NULL) = %d -> [%s]\n", rv, show(nng_http_req_get_uri(req)));

    static const char* const versions[] = {"HTTP/1.0", "HTTP/2.0", "FOO", "", "HTTP/1.1"};
    for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
        rv = nng_http_req_set_version(req, versions[i]);
        printf("req set_version(%s) = %d -> %s\n", versions[i], rv,
               show(nng_http_req_get_version(req)));
    }
    rv = nng_http_req_set_version(req, "HTTP/1.0");
    rv = nng_http_req_set_version(req, NULL);
    printf("req set_version(NULL) = %d -> %s\n", rv, show(nng_http_req_get_version(req)));

    nng_http_req_free(req);
}

static void request_headers(void) {
    nng_http_req* req = NULL;
    if (nng_http_req_alloc(&req, NULL) != 0) {
        printf("req_alloc failed\n");
        return;
    }
    printf("req headers:\n");
    req_hdr(req, "Accept");
    printf("  set Accept=text/plain: %d\n", nng_http_req_set_header(req, "Accept", "text/plain"));
    req_hdr(req, "Accept");
    req_hdr(req, "accept");
    req_hdr(req, "ACCEPT");
    printf("  set aCCept=text/html: %d\n", nng_http_req_set_header(req, "aCCept", "text/html"));
    req_hdr(req, "Accept");
    printf("  add ACCEPT=image/png: %d\n", nng_http_req_add_header(req, "ACCEPT", "image/png"));
    req_hdr(req, "accept");
    printf("  add accept=*/*: %d\n", nng_http_req_add_header(req, "accept", "*/*"));
    req_hdr(req, "Accept");
    printf("  add X-New=1 (absent): %d\n", nng_http_req_add_header(req, "X-New", "1"));
    req_hdr(req, "x-new");
    printf("  set X-Empty=(empty): %d\n", nng_http_req_set_header(req, "X-Empty", ""));
    req_hdr(req, "X-EMPTY");
    printf("  add X-Empty=(empty): %d\n", nng_http_req_add_header(req, "X-Empty", ""));
    req_hdr(req, "X-Empty");
    printf("  set X-Spaces='  padded  ': %d\n",
           nng_http_req_set_header(req, "X-Spaces", "  padded  "));
    req_hdr(req, "X-Spaces");
    printf(
        "  set X-Long: %d\n",
        nng_http_req_set_header(req, "X-Long",
                                "0123456789012345678901234567890123456789012345678901234567890123"
                                "4567890123456789"));
    req_hdr(req, "X-Long");
    printf("  del ACCEPT: %d\n", nng_http_req_del_header(req, "ACCEPT"));
    req_hdr(req, "Accept");
    printf("  del Accept again: %d\n", nng_http_req_del_header(req, "Accept"));
    printf("  del Missing: %d\n", nng_http_req_del_header(req, "Missing"));
    req_hdr(req, "X-New");
    req_hdr(req, "Missing");
    req_hdr(req, "X-Ne");
    req_hdr(req, "X-New2");
    nng_http_req_free(req);
}

static void request_data(void) {
    nng_http_req* req = NULL;
    void* data = NULL;
    size_t size = 99;
    static char body[] = "hello, body";
    static char other[] = "xyz";
    if (nng_http_req_alloc(&req, NULL) != 0) {
        printf("req_alloc failed\n");
        return;
    }
    printf("req data:\n");
    nng_http_req_get_data(req, &data, &size);
    show_data("initial", data, size, NULL);
    req_hdr(req, "Content-Length");

    printf("  set_data(11) = %d\n", nng_http_req_set_data(req, body, strlen(body)));
    nng_http_req_get_data(req, &data, &size);
    show_data("set", data, size, body);
    req_hdr(req, "Content-Length");

    printf("  copy_data(3) = %d\n", nng_http_req_copy_data(req, other, strlen(other)));
    nng_http_req_get_data(req, &data, &size);
    show_data("copied", data, size, other);
    req_hdr(req, "content-length");

    printf("  set_data(0) = %d\n", nng_http_req_set_data(req, body, 0));
    nng_http_req_get_data(req, &data, &size);
    printf("  after set_data(0): size=%zu\n", size);
    req_hdr(req, "Content-Length");

    printf("  set Content-Length=42 by hand: %d\n",
           nng_http_req_set_header(req, "Content-Length", "42"));
    printf("  copy_data(5) = %d\n", nng_http_req_copy_data(req, "12345", 5));
    req_hdr(req, "Content-Length");

    /* A big body (borrowed) and its length. */
    {
        static char big[100000];
        memset(big, 'b', sizeof(big));
        printf("  set_data(100000) = %d\n", nng_http_req_set_data(req, big, sizeof(big)));
        nng_http_req_get_data(req, &data, &size);
        printf("  big: size=%zu same_ptr=%d\n", size, data == (void*)big);
        req_hdr(req, "Content-Length");
    }

    /* reset: back to the freshly allocated state. */
    nng_http_req_set_method(req, "PUT");
    nng_http_req_set_uri(req, "/reset-me");
    nng_http_req_set_version(req, "HTTP/1.0");
    nng_http_req_set_header(req, "X-Gone", "yes");
    nng_http_req_reset(req);
    req_line("after reset", req);
    req_hdr(req, "X-Gone");
    req_hdr(req, "Content-Length");
    nng_http_req_get_data(req, &data, &size);
    show_data("after reset", data, size, NULL);
    /* Still usable. */
    printf("  set after reset: %d\n", nng_http_req_set_header(req, "X-Again", "1"));
    req_hdr(req, "X-Again");
    nng_http_req_free(req);
}

static void request_from_urls(void) {
    static const char* const urls[] = {
        "http://example.com",
        "http://example.com/",
        "http://example.com:80/",
        "http://example.com:8080/",
        "http://Example.COM:81/Path",
        "http://example.com/a/b?x=1&y=2",
        "http://example.com/p?q#frag",
        "http://user:pw@example.com:8000/secret?k=v",
        "https://example.com/",
        "https://example.com:443/s",
        "https://example.com:80/s",
        "https://example.com:8443/s?t",
        "http://[::1]/v6",
        "http://[::1]:80/v6",
        "http://[::1]:8080/v6?z",
        "http://127.0.0.1:9000/ip",
        "ws://example.com/ws",
        "ws://example.com:80/ws",
        "wss://example.com:443/wss",
        "wss://example.com:8443/wss",
        "tcp://host:80",
    };
    printf("req from URLs:\n");
    for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
        nng_url* url = NULL;
        nng_http_req* req = NULL;
        int rv = nng_url_parse(&url, urls[i]);
        if (rv != 0) {
            printf("  %s: url_parse = %d\n", urls[i], rv);
            continue;
        }
        rv = nng_http_req_alloc(&req, url);
        printf("  %s: alloc=%d", urls[i], rv);
        if (rv == 0) {
            printf(" method=%s uri=[%s] version=%s Host=[%s]\n", show(nng_http_req_get_method(req)),
                   show(nng_http_req_get_uri(req)), show(nng_http_req_get_version(req)),
                   show(nng_http_req_get_header(req, "Host")));
            /* The Host header is an ordinary header: replaceable. */
            nng_http_req_set_header(req, "host", "other");
            printf("    after set: Host=[%s]\n", show(nng_http_req_get_header(req, "HOST")));
            nng_http_req_reset(req);
            printf("    after reset: uri=[%s] Host=[%s]\n", show(nng_http_req_get_uri(req)),
                   show(nng_http_req_get_header(req, "Host")));
            nng_http_req_free(req);
        } else {
            printf("\n");
        }
        nng_url_free(url);
    }
}

static void response_fields(void) {
    nng_http_res* res = NULL;
    int rv = nng_http_res_alloc(&res);
    printf("res_alloc = %d\n", rv);
    if (rv != 0) {
        return;
    }
    res_line("default", res);
    res_hdr(res, "Content-Length");
    res_hdr(res, "Content-Type");

    static const unsigned statuses[] = {404, 201, 999, 0, 100, 599, 65535, 200};
    for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
        rv = nng_http_res_set_status(res, (uint16_t)statuses[i]);
        printf("set_status(%u) = %d -> %u [%s]\n", statuses[i], rv,
               (unsigned)nng_http_res_get_status(res), show(nng_http_res_get_reason(res)));
    }

    rv = nng_http_res_set_reason(res, "Fine Thanks");
    res_line("set_reason(Fine Thanks)", res);
    nng_http_res_set_status(res, 404);
    res_line("then set_status(404)", res);
    rv = nng_http_res_set_reason(res, NULL);
    printf("set_reason(NULL) = %d\n", rv);
    res_line("after", res);
    rv = nng_http_res_set_reason(res, "");
    printf("set_reason(empty) = %d\n", rv);
    res_line("after", res);
    /* The standard phrase of the current status is stored as "none". */
    nng_http_res_set_reason(res, "Not Found");
    nng_http_res_set_status(res, 200);
    res_line("set_reason(Not Found) at 404, then status 200", res);
    nng_http_res_set_reason(res, "not found");
    nng_http_res_set_status(res, 500);
    res_line("set_reason(not found) at 200, then status 500", res);
    nng_http_res_set_reason(res, NULL);

    static const char* const versions[] = {"HTTP/1.0", "HTTP/2.0", "FOO", "HTTP/1.1"};
    for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
        rv = nng_http_res_set_version(res, versions[i]);
        printf("res set_version(%s) = %d -> %s\n", versions[i], rv,
               show(nng_http_res_get_version(res)));
    }
    nng_http_res_set_version(res, "HTTP/1.0");
    rv = nng_http_res_set_version(res, NULL);
    printf("res set_version(NULL) = %d -> %s\n", rv, show(nng_http_res_get_version(res)));

    /* Headers. */
    printf("res headers:\n");
    printf("  set Server=a: %d\n", nng_http_res_set_header(res, "Server", "a"));
    printf("  set SERVER=b: %d\n", nng_http_res_set_header(res, "SERVER", "b"));
    res_hdr(res, "server");
    printf("  add server=c: %d\n", nng_http_res_add_header(res, "server", "c"));
    res_hdr(res, "Server");
    printf("  add Vary=x: %d\n", nng_http_res_add_header(res, "Vary", "x"));
    printf("  add vary=y: %d\n", nng_http_res_add_header(res, "vary", "y"));
    printf("  add VARY=z: %d\n", nng_http_res_add_header(res, "VARY", "z"));
    res_hdr(res, "Vary");
    printf("  del vary: %d\n", nng_http_res_del_header(res, "vary"));
    printf("  del Vary again: %d\n", nng_http_res_del_header(res, "Vary"));
    res_hdr(res, "Vary");
    res_hdr(res, "Server");

    /* Body. */
    {
        static char body[] = "response body";
        void* data = NULL;
        size_t size = 99;
        nng_http_res_get_data(res, &data, &size);
        show_data("res initial", data, size, NULL);
        printf("  set_data = %d\n", nng_http_res_set_data(res, body, strlen(body)));
        nng_http_res_get_data(res, &data, &size);
        show_data("res set", data, size, body);
        res_hdr(res, "Content-Length");
        printf("  copy_data = %d\n", nng_http_res_copy_data(res, "abcdef", 6));
        nng_http_res_get_data(res, &data, &size);
        show_data("res copied", data, size, body);
        res_hdr(res, "Content-Length");
        printf("  set_data(0) = %d\n", nng_http_res_set_data(res, body, 0));
        nng_http_res_get_data(res, &data, &size);
        printf("  res after set_data(0): size=%zu\n", size);
        res_hdr(res, "Content-Length");
    }

    /* reset. */
    nng_http_res_set_status(res, 503);
    nng_http_res_set_reason(res, "Busy");
    nng_http_res_set_version(res, "HTTP/1.0");
    nng_http_res_copy_data(res, "zz", 2);
    nng_http_res_reset(res);
    res_line("after reset", res);
    res_hdr(res, "Server");
    res_hdr(res, "Content-Length");
    {
        void* data = NULL;
        size_t size = 99;
        nng_http_res_get_data(res, &data, &size);
        show_data("res after reset", data, size, NULL);
    }
    nng_http_res_free(res);
}

static int contains(const void* data, size_t size, const char* needle) {
    size_t n = strlen(needle);
    const char* p = data;
    if (data == NULL || n > size) {
        return 0;
    }
    for (size_t i = 0; i + n <= size; i++) {
        if (memcmp(p + i, needle, n) == 0) {
            return 1;
        }
    }
    return 0;
}

static void error_responses(void) {
    static const unsigned codes[] = {400, 401, 403, 404, 405, 500, 501, 503, 505, 200, 301, 999, 0};
    printf("alloc_error:\n");
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        nng_http_res* res = NULL;
        void* data = NULL;
        size_t size = 0;
        char code[16];
        int rv = nng_http_res_alloc_error(&res, (uint16_t)codes[i]);
        printf("  %u: rv=%d", codes[i], rv);
        if (rv != 0) {
            printf("\n");
            continue;
        }
        nng_http_res_get_data(res, &data, &size);
        snprintf(code, sizeof(code), "%u", codes[i]);
        printf(" status=%u reason=[%s] version=%s type=[%s] body>0=%d has_code=%d has_reason=%d"
               " has_html=%d\n",
               (unsigned)nng_http_res_get_status(res), show(nng_http_res_get_reason(res)),
               show(nng_http_res_get_version(res)),
               show(nng_http_res_get_header(res, "Content-Type")), size > 0,
               contains(data, size, code), contains(data, size, nng_http_res_get_reason(res)),
               contains(data, size, "<html"));
        {
            /* Content-Length is the body's size. */
            const char* cl = nng_http_res_get_header(res, "Content-Length");
            char want[32];
            snprintf(want, sizeof(want), "%zu", size);
            printf("    content-length matches body: %d\n", cl != NULL && strcmp(cl, want) == 0);
        }
        /* The response is an ordinary one: its fields can change. */
        nng_http_res_set_status(res, 418);
        nng_http_res_set_header(res, "Content-Type", "text/plain");
        printf("    changed: status=%u reason=[%s] type=[%s]\n",
               (unsigned)nng_http_res_get_status(res), show(nng_http_res_get_reason(res)),
               show(nng_http_res_get_header(res, "Content-Type")));
        nng_http_res_free(res);
    }
}

/* Statuses where nng-http's reason phrase deliberately differs. */
static int differs(unsigned code) {
    return code == 207 || code == 208 || code == 226 || code == 308 || code == 413 || code == 422 ||
           code == 502;
}

static void reasons(void) {
    nng_http_res* res = NULL;
    if (nng_http_res_alloc(&res) != 0) {
        printf("res_alloc failed\n");
        return;
    }
    printf("reasons:\n");
    for (unsigned code = 100; code <= 599; code++) {
        if (differs(code)) {
            continue;
        }
        nng_http_res_set_status(res, (uint16_t)code);
        printf("  %u %s\n", code, show(nng_http_res_get_reason(res)));
    }
    nng_http_res_free(res);
}

int main(void) {
    request_fields();
    request_headers();
    request_data();
    request_from_urls();
    response_fields();
    error_responses();
    reasons();
    return 0;
}
