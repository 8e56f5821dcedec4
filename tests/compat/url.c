/*
 * Differential test of nng_url_parse, nng_url_clone and nng_url_free.
 *
 * Each input is parsed and the return code and every field of the result
 * are printed (bytes outside printable ASCII as \xNN, NULL as "(null)").
 * Every URL that parses is then cloned; the clone must hold equal strings
 * in separately allocated memory, and NULL exactly where the original has
 * NULL.  The program's output must be the same against NNG 1.5.2 and
 * against nng-http.
 *
 * Inputs are copied into a zero-filled buffer before parsing: NNG 1.5.2
 * reads one byte past the end of "scheme://user@", and the zero padding
 * makes what it reads there the same on every run.
 */
#include <nng/nng.h>
#include <stdio.h>
#include <string.h>

static const char* const inputs[] = {
    /* ordinary http, https, ws and wss */
    "http://www.google.com",
    "http://www.google.com:1234",
    "http://www.google.com:1234/somewhere",
    "http://garrett@www.google.com:1234/somewhere",
    "http://www.google.com/somewhere?result=yes",
    "http://www.google.com/somewhere?result=yes#chapter1",
    "http://www.google.com/somewhere#chapter2",
    "http://www.google.com#chapter3",
    "http://www.google.com?color=red",
    "HTTP://WWW.Example.COM/Path/To?Q=Upper#Frag",
    "https://example.com",
    "https://example.com:8443/a/b/",
    "hTTpS://Example.com",
    "ws://",
    "ws://*:12345/foobar",
    "wss://host/ws?x=1",
    "ws4://host",
    "ws6://host/",
    "wss6://host",
    "http4://host",
    "http6://host",
    "https4://host",
    "http44://host",
    "httpx://host",
    /* default ports of the other schemes NNG knows */
    "ssh://user@host.example.com",
    "git://host",
    "gopher://host",
    "telnet://host",
    "gitx://host",
    /* SP transports */
    "tcp://127.0.0.1:5555",
    "tcp://:9876/",
    "tcp://*:5555",
    "tcp://*",
    "tcp://*x",
    "tcp://*:",
    "tcp://host",
    "tcp4://host:1",
    "tcp6://[::1]:80",
    "tls+tcp://host:443",
    "tcp://host#frag",
    "tcp://host?q",
    "ipc:///tmp/sock",
    "ipc://relative/./path/../x?x#y",
    "IPC://Upper/Case",
    "ipc://",
    "unix:///tmp/a",
    "abstract://name",
    "inproc://some name%zz",
    "inproc://",
    "zmtp://host:1",
    "://host/path",
    /* IPv6 literals */
    "http://[::1]",
    "http://[::1]:29",
    "http://[::1]:29/bottles",
    "http://[FE80::1%25eth0]:8080/",
    "http://[fe80::1%eth0]/",
    "http://[]/",
    "http://[]:80/",
    "http://[::1",
    "http://[::1]bogus",
    "http://[::1]:",
    "http://[::1]:80:90",
    "http://::1/",
    "http://[[::1]]/",
    "http://user@[::1]:8/x",
    /* ports */
    "http://host:/",
    "http://host:",
    "http://host:abc/",
    "http://host:99999",
    "http://host:-1",
    "http://host:80:90",
    "http://host:0",
    /* userinfo */
    "http://user:pass@host/",
    "http://a@b@c/",
    "http://a@@b/",
    "http://user@/path",
    "http://user@/a/b",
    "http://user@",
    "http://user@?q",
    "http://@host/",
    "http://u%20x@host/",
    "http://u@*:80/",
    "http://u@*",
    "http://a?b@c/",
    "http://a/b@c/",
    "http://a#b@c",
    /* percent encodings */
    "http://x.com/%41%42%43",
    "http://x.com/a%2fb",
    "http://x.com/a%2Fb%3f",
    "http://x.com/%7e%5F%2d%2E",
    "http://x.com/%00",
    "http://x.com/a%00b?c%00#%00",
    "http://x.com/%",
    "http://x.com/%4",
    "http://x.com/%zz",
    "http://x.com/%%20",
    "http://x.com/?q=%zz",
    "http://x.com/#%g1",
    "http://x.com/?q=%41%20%2e",
    "http://x.com/#%61%2F",
    "http://ho%41st/",
    "http://ho%zzst/",
    "http://www.example.com/%7egarrett",
    /* UTF-8, decoded from escapes and raw */
    "http://www.x.com/%c2%a2_cents",
    "http://x.com/x%80x",
    "http://x.com/x%c0%81",
    "http://x.com/%c1%bf",
    "http://x.com/%e0%a0%80",
    "http://x.com/%e0%a0%80%bf",
    "http://x.com/%e2%82%ac",
    "http://x.com/%ed%9f%bf",
    "http://x.com/%ed%9f%80",
    "http://x.com/%ed%a0%80",
    "http://x.com/%f0%9f%98%80",
    "http://x.com/%f0%8f%bf%bf",
    "http://x.com/%f4%8f%bf%bf",
    "http://x.com/%f4%90%80%80",
    "http://x.com/%f8%88%80%80%80",
    "http://x.com/%c2",
    "http://x.com/%e2%82",
    "http://x.com/caf\xc3\xa9",
    "http://x.com/\xff",
    "http://x.com/?\xff",
    "http://x.com/#\xc0\x80",
    "http://h\xc3\xa9st\xff/",
    /* dot segments and repeated slashes */
    "http://www.x.com//abc/def/./x/..///./../y",
    "http://www.x.com/?/abc/def/./x/.././../y",
    "http://x.com/a/..",
    "http://x.com/..",
    "http://x.com/.",
    "http://x.com/../a",
    "http://x.com/../../..",
    "http://x.com/a/./b/../c/",
    "http://x.com/a/..b/.c/...",
    "http://x.com/%2e%2e/a/%2E/b",
    "http://x.com/a/..?q#f",
    "http://x.com/a/.#f",
    "http://x.com///",
    "http://x.com/a//b?c//d#e//f",
    "http://x.com/a#b/../c",
    "http://x.com/a/b/c/../../d",
    /* missing or malformed scheme, and garbage */
    "www.google.com",
    "http:www.google.com",
    "http:/x",
    "http//x",
    "",
    ":",
    "://",
    "a/b://x/y",
    "1http://x",
    "http://host name/with space",
    "http://\x01/\x7f",
    "http://host\\path",
    "http://h/?a#b?c#d",
    "http://h?a?b#c#d",
    "http://h:8/\t",
    "mailto:user@example.com",
};

static void print_escaped(const char* s) {
    if (s == NULL) {
        fputs("(null)", stdout);
        return;
    }
    putchar('"');
    for (const unsigned char* p = (const unsigned char*)s; *p != '\0'; p++) {
        if (*p < 0x20 || *p > 0x7e || *p == '\\' || *p == '"') {
            printf("\\x%02x", *p);
        } else {
            putchar(*p);
        }
    }
    putchar('"');
}

#define FIELD_COUNT 10

static void fields_of(const nng_url* u, const char* f[FIELD_COUNT]) {
    f[0] = u->u_rawurl;
    f[1] = u->u_scheme;
    f[2] = u->u_userinfo;
    f[3] = u->u_host;
    f[4] = u->u_hostname;
    f[5] = u->u_port;
    f[6] = u->u_path;
    f[7] = u->u_query;
    f[8] = u->u_fragment;
    f[9] = u->u_requri;
}

static const char* const field_names[FIELD_COUNT] = {
    "rawurl", "scheme", "userinfo", "host",     "hostname",
    "port",   "path",   "query",    "fragment", "requri",
};

/* 0 if b is an equal copy of a in fresh memory, else a count of faults. */
static int compare_clone(const nng_url* a, const nng_url* b) {
    const char* fa[FIELD_COUNT];
    const char* fb[FIELD_COUNT];
    int faults = 0;
    fields_of(a, fa);
    fields_of(b, fb);
    for (int i = 0; i < FIELD_COUNT; i++) {
        if (fa[i] == NULL || fb[i] == NULL) {
            if (fa[i] != fb[i]) {
                printf("  clone %s: NULL mismatch\n", field_names[i]);
                faults++;
            }
        } else if (fa[i] == fb[i] || strcmp(fa[i], fb[i]) != 0) {
            printf("  clone %s: not an equal copy\n", field_names[i]);
            faults++;
        }
    }
    return faults;
}

static int check_clone(const nng_url* u) {
    nng_url* c = NULL;
    int rv = nng_url_clone(&c, u);
    if (rv != 0 || c == NULL || c == u) {
        printf("  clone: failed rv=%d\n", rv);
        return 1;
    }
    int faults = compare_clone(u, c);
    nng_url_free(c);
    return faults;
}

/* Names the codes the parser can return (nng_strerror is not needed). */
static const char* code_name(int rv) {
    switch (rv) {
    case 0:
        return "ok";
    case NNG_EINVAL:
        return "NNG_EINVAL";
    case NNG_ENOMEM:
        return "NNG_ENOMEM";
    default:
        return "unexpected";
    }
}

static int parse_one(const char* in) {
    static char buf[512];
    nng_url* const untouched = (nng_url*)&buf;
    nng_url* u = untouched;

    memset(buf, 0, sizeof(buf));
    strncpy(buf, in, sizeof(buf) - 8);
    int rv = nng_url_parse(&u, buf);

    fputs("input ", stdout);
    print_escaped(in);
    printf("\n  rv=%d (%s)\n", rv, code_name(rv));
    if (rv != 0) {
        printf("  result pointer %s\n", u == untouched ? "untouched" : "CHANGED");
        return u == untouched ? 0 : 1;
    }
    const char* f[FIELD_COUNT];
    fields_of(u, f);
    for (int i = 0; i < FIELD_COUNT; i++) {
        printf("  %-8s ", field_names[i]);
        print_escaped(f[i]);
        putchar('\n');
    }
    int faults = (f[0] == NULL || strcmp(f[0], in) != 0) ? 1 : 0;
    faults += check_clone(u);
    nng_url_free(u);
    return faults;
}

/* A hand-built URL: the clone keeps every NULL and copies every string. */
static int clone_hand_built(void) {
    char raw[] = "x://y", path[] = "/p";
    nng_url blank;
    memset(&blank, 0, sizeof(blank));
    int faults = check_clone(&blank);
    blank.u_rawurl = raw;
    blank.u_path = path;
    faults += check_clone(&blank);
    printf("hand-built clones: %s\n", faults == 0 ? "ok" : "FAILED");
    return faults;
}

int main(void) {
    int faults = 0;
    size_t n = sizeof(inputs) / sizeof(inputs[0]);
    for (size_t i = 0; i < n; i++) {
        faults += parse_one(inputs[i]);
    }
    faults += clone_hand_built();
    nng_url_free(NULL); /* must be harmless */
    printf("%zu inputs, %d faults\n", n, faults);
    return faults == 0 ? 0 : 1;
}
