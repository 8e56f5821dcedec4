/*
 * Differential test of the TLS configuration API (nng_tls_config_* and
 * nng_tls_engine_*).  Prints the return code of every call; the output must
 * be the same against NNG 1.5.2 (mbedTLS) and nng-http (OpenSSL 3).
 *
 * The certificate material is made at run time with the openssl command
 * into a fresh temporary directory (removed at exit): a CA with a CRL, a
 * server certificate signed by it (SAN localhost and 127.0.0.1), an expired
 * certificate, an unrelated key, the server key encrypted with a password
 * (traditional PEM, which mbedTLS reads, and PKCS#8, which it does not),
 * and single files holding a certificate and its key.  No key is ever committed.
 *
 * Where NNG 1.5.2 behaves differently on purpose (docs/compat.md), the line
 * says so and prints what both agree on rather than the code.
 */
#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/nng-tls-compat-XXXXXX";
static char path_buf[4][512];
static int failures;

static void show(const char* what, int rv) {
    printf("%s: %d (%s)\n", what, rv, nng_strerror(rv));
}

static void expect(const char* what, int rv, int want) {
    show(what, rv);
    if (rv != want) {
        failures++;
    }
}

/* dir/name, in one of four rotating buffers. */
static const char* in_dir(const char* name) {
    static int next;
    char* p = path_buf[next++ % 4];
    snprintf(p, sizeof path_buf[0], "%s/%s", dir, name);
    return p;
}

static void cleanup(void) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "could not remove %s\n", dir);
    }
}

static void run(const char* cmd) {
    char full[2048];
    snprintf(full, sizeof full, "cd '%s' && { %s ; } >/dev/null 2>&1", dir, cmd);
    if (system(full) != 0) {
        printf("setup command failed: %s\n", cmd);
        exit(2);
    }
}

/* The whole file, NUL-terminated (malloc'ed; freed at exit by the OS). */
static char* slurp(const char* name) {
    FILE* f = fopen(in_dir(name), "rb");
    if (f == NULL) {
        printf("cannot open %s\n", name);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char* buf = malloc((size_t)n + 1);
    if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        printf("cannot read %s\n", name);
        exit(2);
    }
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void make_material(void) {
    if (mkdtemp(dir) == NULL) {
        printf("mkdtemp failed\n");
        exit(2);
    }
    atexit(cleanup);
    run("printf '%s\\n' '[ca]' 'default_ca = ca_sect' '[ca_sect]' 'dir = .'"
        " 'database = index.txt' 'new_certs_dir = .' 'serial = serial'"
        " 'crlnumber = crlnumber' 'default_md = sha256' 'policy = pol'"
        " 'copy_extensions = copy' 'default_crl_days = 30' '[pol]'"
        " 'commonName = supplied' > ca.cnf"
        " && touch index.txt && echo 1000 > serial && echo 1000 > crlnumber");
    run("openssl ecparam -name prime256v1 -genkey -noout -out ca.key");
    run("openssl req -x509 -new -key ca.key -subj /CN=compat-ca -days 30 -out ca.crt"
        " -addext basicConstraints=critical,CA:TRUE"
        " -addext keyUsage=critical,keyCertSign,cRLSign");
    run("openssl ecparam -name prime256v1 -genkey -noout -out server.key");
    run("openssl req -new -key server.key -subj /CN=localhost"
        " -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -out server.csr");
    run("openssl ca -batch -config ca.cnf -cert ca.crt -keyfile ca.key -notext"
        " -days 30 -in server.csr -out server.crt");
    run("openssl req -new -key server.key -subj /CN=expired -out expired.csr");
    run("openssl ca -batch -config ca.cnf -cert ca.crt -keyfile ca.key -notext"
        " -startdate 20200101000000Z -enddate 20200102000000Z"
        " -in expired.csr -out expired.crt");
    run("openssl ca -batch -config ca.cnf -cert ca.crt -keyfile ca.key -gencrl -out ca.crl");
    run("openssl ecparam -name prime256v1 -genkey -noout -out other.key");
    run("openssl ec -in server.key -aes256 -passout pass:secret -out server_enc.key");
    run("openssl req -x509 -newkey rsa:1024 -nodes -keyout weak.key -out weak.crt"
        " -subj /CN=weak -days 30 && cat weak.crt weak.key > weak.pem");
    run("openssl pkcs8 -topk8 -in server.key -v2 aes256 -passout pass:secret -out server_p8.key");
    run("cat server.crt server.key > server.pem && cat server.crt server_enc.key > server_enc.pem"
        " && cat ca.crt ca.crl > ca_crl.pem && cat ca.crt server.crt > chain.pem"
        " && cat server.crt ca.crt > server_chain.pem"
        " && cp server.crt cert_only.pem && cp server.key key_only.pem"
        " && cat server.crt other.key > mismatched.pem"
        " && printf 'not a certificate\\n' > garbage.pem && : > empty.pem && mkdir subdir");
}

static nng_tls_config* alloc_cfg(nng_tls_mode mode) {
    nng_tls_config* c = NULL;
    int rv = nng_tls_config_alloc(&c, mode);
    if (rv != 0) {
        printf("nng_tls_config_alloc failed: %d (%s)\n", rv, nng_strerror(rv));
        exit(2);
    }
    return c;
}

/* The same PEM with its last base64 line cut off, so it no longer parses. */
static char* truncate_pem(const char* pem) {
    char* s = strdup(pem);
    char* end = strstr(s, "-----END");
    if (end != NULL && end > s + 10) {
        char* cut = end - 10;
        memmove(cut, end, strlen(end) + 1);
    }
    return s;
}

static void check_engine(void) {
    const char* name = nng_tls_engine_name();
    const char* desc = nng_tls_engine_description();
    /* NNG says "mbed" and the mbedTLS version; we say "openssl" and its. */
    printf("engine name is a real engine: %s\n",
           name != NULL && *name != '\0' && strcmp(name, "none") != 0 ? "yes" : "no");
    printf("engine description non-empty: %s\n", desc != NULL && *desc != '\0' ? "yes" : "no");
    printf("engine fips mode: %s\n", nng_tls_engine_fips_mode() ? "yes" : "no");
}

static void check_alloc_hold_free(void) {
    nng_tls_config* c = NULL;
    expect("alloc client", nng_tls_config_alloc(&c, NNG_TLS_MODE_CLIENT), 0);
    nng_tls_config_hold(c);
    nng_tls_config_hold(c);
    nng_tls_config_free(c);
    nng_tls_config_free(c);
    expect("client still usable after hold/free pairs", nng_tls_config_server_name(c, "localhost"),
           0);
    nng_tls_config_free(c);

    c = NULL;
    expect("alloc server", nng_tls_config_alloc(&c, NNG_TLS_MODE_SERVER), 0);
    nng_tls_config_free(c);
}

static void check_server_name(void) {
    nng_tls_config* c = alloc_cfg(NNG_TLS_MODE_CLIENT);
    expect("server_name localhost", nng_tls_config_server_name(c, "localhost"), 0);
    expect("server_name replaced", nng_tls_config_server_name(c, "example.com"), 0);
    expect("server_name empty", nng_tls_config_server_name(c, ""), 0);
    nng_tls_config_free(c);
    c = alloc_cfg(NNG_TLS_MODE_SERVER);
    expect("server_name on a server", nng_tls_config_server_name(c, "localhost"), 0);
    nng_tls_config_free(c);
}

static void check_auth_mode(void) {
    for (int m = 0; m < 2; m++) {
        nng_tls_config* c = alloc_cfg(m == 0 ? NNG_TLS_MODE_CLIENT : NNG_TLS_MODE_SERVER);
        const char* who = m == 0 ? "client" : "server";
        char what[64];
        snprintf(what, sizeof what, "%s auth none", who);
        expect(what, nng_tls_config_auth_mode(c, NNG_TLS_AUTH_MODE_NONE), 0);
        snprintf(what, sizeof what, "%s auth optional", who);
        expect(what, nng_tls_config_auth_mode(c, NNG_TLS_AUTH_MODE_OPTIONAL), 0);
        snprintf(what, sizeof what, "%s auth required", who);
        expect(what, nng_tls_config_auth_mode(c, NNG_TLS_AUTH_MODE_REQUIRED), 0);
        snprintf(what, sizeof what, "%s auth 3", who);
        expect(what, nng_tls_config_auth_mode(c, (nng_tls_auth_mode)3), NNG_EINVAL);
        snprintf(what, sizeof what, "%s auth -1", who);
        expect(what, nng_tls_config_auth_mode(c, (nng_tls_auth_mode)-1), NNG_EINVAL);
        nng_tls_config_free(c);
    }
}

static void check_ca_chain(void) {
    char* ca = slurp("ca.crt");
    char* crl = slurp("ca.crl");
    char* chain = slurp("chain.pem");
    char* expired = slurp("expired.crt");
    char* garbage = slurp("garbage.pem");
    char* truncated = truncate_pem(ca);
    nng_tls_config* c = alloc_cfg(NNG_TLS_MODE_CLIENT);

    expect("ca_chain ca", nng_tls_config_ca_chain(c, ca, NULL), 0);
    expect("ca_chain ca again", nng_tls_config_ca_chain(c, ca, NULL), 0);
    expect("ca_chain ca + crl", nng_tls_config_ca_chain(c, ca, crl), 0);
    expect("ca_chain two certificates", nng_tls_config_ca_chain(c, chain, NULL), 0);
    expect("ca_chain expired certificate", nng_tls_config_ca_chain(c, expired, NULL), 0);
    expect("ca_chain garbage", nng_tls_config_ca_chain(c, garbage, NULL), NNG_ECRYPTO);
    expect("ca_chain empty", nng_tls_config_ca_chain(c, "", NULL), NNG_ECRYPTO);
    expect("ca_chain truncated", nng_tls_config_ca_chain(c, truncated, NULL), NNG_ECRYPTO);
    expect("ca_chain crl garbage", nng_tls_config_ca_chain(c, ca, garbage), NNG_ECRYPTO);
    expect("ca_chain crl in place of certificate", nng_tls_config_ca_chain(c, crl, NULL),
           NNG_ECRYPTO);
    expect("ca_chain certificate in place of crl", nng_tls_config_ca_chain(c, ca, ca), NNG_ECRYPTO);
    nng_tls_config_free(c);

    c = alloc_cfg(NNG_TLS_MODE_SERVER);
    expect("server ca_chain ca + crl", nng_tls_config_ca_chain(c, ca, crl), 0);
    nng_tls_config_free(c);

    free(ca);
    free(crl);
    free(chain);
    free(expired);
    free(garbage);
    free(truncated);
}

static void check_own_cert(void) {
    char* cert = slurp("server.crt");
    char* key = slurp("server.key");
    char* enc = slurp("server_enc.key");
    char* p8 = slurp("server_p8.key");
    char* other = slurp("other.key");
    char* expired = slurp("expired.crt");
    char* garbage = slurp("garbage.pem");
    char* chain = slurp("server_chain.pem");
    char* truncated = truncate_pem(key);

    for (int m = 0; m < 2; m++) {
        nng_tls_config* c = alloc_cfg(m == 0 ? NNG_TLS_MODE_CLIENT : NNG_TLS_MODE_SERVER);
        printf("-- own_cert on a %s\n", m == 0 ? "client" : "server");
        expect("own_cert", nng_tls_config_own_cert(c, cert, key, NULL), 0);
        expect("own_cert again", nng_tls_config_own_cert(c, cert, key, NULL), 0);
        expect("own_cert chain", nng_tls_config_own_cert(c, chain, key, NULL), 0);
        expect("own_cert expired certificate", nng_tls_config_own_cert(c, expired, key, NULL), 0);
        expect("own_cert unused password", nng_tls_config_own_cert(c, cert, key, "unused"), 0);
        expect("own_cert encrypted key, password", nng_tls_config_own_cert(c, cert, enc, "secret"),
               0);
        expect("own_cert encrypted key, wrong password",
               nng_tls_config_own_cert(c, cert, enc, "wrong"), NNG_ECRYPTO);
        expect("own_cert encrypted key, no password", nng_tls_config_own_cert(c, cert, enc, NULL),
               NNG_ECRYPTO);
        expect("own_cert encrypted key, empty password", nng_tls_config_own_cert(c, cert, enc, ""),
               NNG_ECRYPTO);
        expect("own_cert garbage certificate", nng_tls_config_own_cert(c, garbage, key, NULL),
               NNG_ECRYPTO);
        expect("own_cert empty certificate", nng_tls_config_own_cert(c, "", key, NULL),
               NNG_ECRYPTO);
        expect("own_cert garbage key", nng_tls_config_own_cert(c, cert, garbage, NULL),
               NNG_ECRYPTO);
        expect("own_cert empty key", nng_tls_config_own_cert(c, cert, "", NULL), NNG_ECRYPTO);
        expect("own_cert truncated key", nng_tls_config_own_cert(c, cert, truncated, NULL),
               NNG_ECRYPTO);
        expect("own_cert certificate as key", nng_tls_config_own_cert(c, cert, cert, NULL),
               NNG_ECRYPTO);
        /* mbedTLS never checks that the key belongs to the certificate
         * (NNG returns 0); we refuse the pair (NNG_ECRYPTO). */
        int rv = nng_tls_config_own_cert(c, cert, other, NULL);
        printf("own_cert key of another certificate: %s\n",
               rv == 0 || rv == NNG_ECRYPTO ? "0 (NNG) or NNG_ECRYPTO (nng-http)" : "other");
        /* PKCS#8 with AES (what OpenSSL 3 writes by default): mbedTLS 2.28
         * cannot decrypt it (NNG_ECRYPTO); OpenSSL can (0). */
        rv = nng_tls_config_own_cert(c, cert, p8, "secret");
        printf("own_cert PKCS#8 AES-encrypted key: %s\n",
               rv == 0 || rv == NNG_ECRYPTO ? "NNG_ECRYPTO (NNG) or 0 (nng-http)" : "other");
        expect("own_cert PKCS#8 key, wrong password", nng_tls_config_own_cert(c, cert, p8, "wrong"),
               NNG_ECRYPTO);
        expect("own_cert still fine after failures", nng_tls_config_own_cert(c, cert, key, NULL),
               0);
        nng_tls_config_free(c);
    }

    free(cert);
    free(key);
    free(enc);
    free(p8);
    free(other);
    free(expired);
    free(garbage);
    free(chain);
    free(truncated);
}

static void check_ca_file(void) {
    nng_tls_config* c = alloc_cfg(NNG_TLS_MODE_CLIENT);
    expect("ca_file ca", nng_tls_config_ca_file(c, in_dir("ca.crt")), 0);
    expect("ca_file ca + crl", nng_tls_config_ca_file(c, in_dir("ca_crl.pem")), 0);
    expect("ca_file two certificates", nng_tls_config_ca_file(c, in_dir("chain.pem")), 0);
    expect("ca_file missing", nng_tls_config_ca_file(c, in_dir("missing.pem")), NNG_ENOENT);
    expect("ca_file missing directory", nng_tls_config_ca_file(c, in_dir("nodir/ca.crt")),
           NNG_ENOENT);
    expect("ca_file garbage", nng_tls_config_ca_file(c, in_dir("garbage.pem")), NNG_ECRYPTO);
    expect("ca_file empty", nng_tls_config_ca_file(c, in_dir("empty.pem")), NNG_ECRYPTO);
    expect("ca_file crl only", nng_tls_config_ca_file(c, in_dir("ca.crl")), NNG_ECRYPTO);
    expect("ca_file key only", nng_tls_config_ca_file(c, in_dir("key_only.pem")), NNG_ECRYPTO);
    /* NNG reads a directory and fails on EISDIR (NNG_ESYSERR + EISDIR). */
    show("ca_file directory", nng_tls_config_ca_file(c, in_dir("subdir")));
    nng_tls_config_free(c);
}

static void check_cert_key_file(void) {
    for (int m = 0; m < 2; m++) {
        nng_tls_config* c = alloc_cfg(m == 0 ? NNG_TLS_MODE_CLIENT : NNG_TLS_MODE_SERVER);
        printf("-- cert_key_file on a %s\n", m == 0 ? "client" : "server");
        expect("cert_key_file", nng_tls_config_cert_key_file(c, in_dir("server.pem"), NULL), 0);
        expect("cert_key_file encrypted, password",
               nng_tls_config_cert_key_file(c, in_dir("server_enc.pem"), "secret"), 0);
        expect("cert_key_file encrypted, wrong password",
               nng_tls_config_cert_key_file(c, in_dir("server_enc.pem"), "wrong"), NNG_ECRYPTO);
        expect("cert_key_file encrypted, no password",
               nng_tls_config_cert_key_file(c, in_dir("server_enc.pem"), NULL), NNG_ECRYPTO);
        expect("cert_key_file certificate only",
               nng_tls_config_cert_key_file(c, in_dir("cert_only.pem"), NULL), NNG_ECRYPTO);
        expect("cert_key_file key only",
               nng_tls_config_cert_key_file(c, in_dir("key_only.pem"), NULL), NNG_ECRYPTO);
        expect("cert_key_file garbage",
               nng_tls_config_cert_key_file(c, in_dir("garbage.pem"), NULL), NNG_ECRYPTO);
        expect("cert_key_file empty", nng_tls_config_cert_key_file(c, in_dir("empty.pem"), NULL),
               NNG_ECRYPTO);
        expect("cert_key_file missing",
               nng_tls_config_cert_key_file(c, in_dir("missing.pem"), NULL), NNG_ENOENT);
        show("cert_key_file directory", nng_tls_config_cert_key_file(c, in_dir("subdir"), NULL));
        int rv = nng_tls_config_cert_key_file(c, in_dir("mismatched.pem"), NULL);
        printf("cert_key_file key of another certificate: %s\n",
               rv == 0 || rv == NNG_ECRYPTO ? "0 (NNG) or NNG_ECRYPTO (nng-http)" : "other");
        /* RSA-1024: below OpenSSL's default security level 2 (Debian's). */
        rv = nng_tls_config_cert_key_file(c, in_dir("weak.pem"), NULL);
        printf("cert_key_file RSA-1024: %s\n",
               rv == 0 || rv == NNG_ECRYPTO ? "0 (NNG) or NNG_ECRYPTO (nng-http)" : "other");
        nng_tls_config_free(c);
    }
}

static void check_unreadable(void) {
    if (geteuid() == 0) {
        /* root reads any file: nothing to show. */
        printf("unreadable files: skipped (root)\n");
        return;
    }
    nng_tls_config* c = alloc_cfg(NNG_TLS_MODE_CLIENT);
    run("cp ca.crt locked.pem && cat server.crt server.key > locked_key.pem"
        " && chmod 000 locked.pem locked_key.pem");
    expect("ca_file unreadable", nng_tls_config_ca_file(c, in_dir("locked.pem")), NNG_EPERM);
    expect("cert_key_file unreadable",
           nng_tls_config_cert_key_file(c, in_dir("locked_key.pem"), NULL), NNG_EPERM);
    nng_tls_config_free(c);
}

static void check_version(void) {
    static const struct {
        int min, max, want;
    } cases[] = {
        {NNG_TLS_1_2, NNG_TLS_1_3, 0},
        {NNG_TLS_1_2, NNG_TLS_1_2, 0},
        {NNG_TLS_1_0, NNG_TLS_1_3, 0},
        {NNG_TLS_1_0, NNG_TLS_1_0, 0},
        {NNG_TLS_1_1, NNG_TLS_1_2, 0},
        {NNG_TLS_1_3, NNG_TLS_1_2, NNG_ENOTSUP},
        {NNG_TLS_1_2, NNG_TLS_1_1, NNG_ENOTSUP},
        {0x300, NNG_TLS_1_2, NNG_ENOTSUP},
        {0, NNG_TLS_1_2, NNG_ENOTSUP},
        {NNG_TLS_1_2, 0x305, NNG_ENOTSUP},
        {0x305, 0x306, NNG_ENOTSUP},
        {-1, NNG_TLS_1_2, NNG_ENOTSUP},
    };
    for (int m = 0; m < 2; m++) {
        nng_tls_config* c = alloc_cfg(m == 0 ? NNG_TLS_MODE_CLIENT : NNG_TLS_MODE_SERVER);
        printf("-- version on a %s\n", m == 0 ? "client" : "server");
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            char what[64];
            snprintf(what, sizeof what, "version %#x..%#x", (unsigned)cases[i].min,
                     (unsigned)cases[i].max);
            expect(what,
                   nng_tls_config_version(c, (nng_tls_version)cases[i].min,
                                          (nng_tls_version)cases[i].max),
                   cases[i].want);
        }
        /* mbedTLS 2.28 has no TLS 1.3: NNG refuses a minimum of 1.3. */
        int rv = nng_tls_config_version(c, NNG_TLS_1_3, NNG_TLS_1_3);
        printf("version 1.3 only: %s\n",
               rv == 0 || rv == NNG_ENOTSUP ? "NNG_ENOTSUP (NNG) or 0 (nng-http)" : "other");
        nng_tls_config_free(c);
    }
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    make_material();
    check_engine();
    check_alloc_hold_free();
    check_server_name();
    check_auth_mode();
    check_ca_chain();
    check_own_cert();
    check_ca_file();
    check_cert_key_file();
    check_unreadable();
    check_version();
    printf("unexpected results: %d\n", failures);
    return failures == 0 ? 0 : 1;
}
