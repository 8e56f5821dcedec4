/*
 * nng-http: NNG 1.x's TLS configuration API (<nng/supplemental/tls/tls.h>).
 *
 * Same names, types, values and signatures as NNG 1.5, so a program written
 * for NNG's TLS API builds against either.  Include <nng/nng.h> first, as
 * with NNG.  The engine underneath is OpenSSL 3; docs/compat.md lists where
 * nng-http deliberately behaves differently from NNG's mbedTLS engine.
 */
#ifndef NNG_SUPPLEMENTAL_TLS_TLS_H
#define NNG_SUPPLEMENTAL_TLS_TLS_H

#ifdef __cplusplus
extern "C" {
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A TLS configuration: certificates, keys, peer checking and protocol
 * versions, shared by any number of TLS streams.  Reference counted; it
 * becomes read-only (setters fail with NNG_EBUSY) once a stream uses it. */
typedef struct nng_tls_config nng_tls_config;

/* Which end of the connection a configuration is for. */
typedef enum nng_tls_mode {
    NNG_TLS_MODE_CLIENT = 0,
    NNG_TLS_MODE_SERVER = 1,
} nng_tls_mode;

/* How the peer's certificate is checked. */
typedef enum nng_tls_auth_mode {
    NNG_TLS_AUTH_MODE_NONE = 0,     /* not checked (servers' default) */
    NNG_TLS_AUTH_MODE_OPTIONAL = 1, /* checked if sent; failure is not fatal */
    NNG_TLS_AUTH_MODE_REQUIRED = 2, /* must be sent and valid (clients' default) */
} nng_tls_auth_mode;

/* Protocol versions: the major number in the high byte, the minor in the
 * low one, as on the wire.  Nothing older than TLS 1.0. */
typedef enum nng_tls_version {
    NNG_TLS_1_0 = 0x301,
    NNG_TLS_1_1 = 0x302,
    NNG_TLS_1_2 = 0x303,
    NNG_TLS_1_3 = 0x304
} nng_tls_version;

/* A new configuration for the given end, with one reference. */
NNG_DECL int nng_tls_config_alloc(nng_tls_config **, nng_tls_mode);

/* Adds a reference. */
NNG_DECL void nng_tls_config_hold(nng_tls_config *);

/* Drops a reference; the last one frees the configuration. */
NNG_DECL void nng_tls_config_free(nng_tls_config *);

/* The name a client sends (SNI) and checks the server's certificate
 * against. */
NNG_DECL int nng_tls_config_server_name(nng_tls_config *, const char *);

/* Adds trusted certificates (PEM, one or more, NUL-terminated) and,
 * optionally, a PEM revocation list (NULL for none). */
NNG_DECL int nng_tls_config_ca_chain(nng_tls_config *, const char *, const char *);

/* Our own certificate (PEM, leaf first, then any intermediates), its
 * private key (PEM) and the key's password (NULL if not encrypted). */
NNG_DECL int nng_tls_config_own_cert(nng_tls_config *, const char *, const char *,
                                     const char *);

/* Declared by NNG 1.x but never implemented by its TLS engines: nng-http
 * answers NNG_ENOTSUP, as NNG's build without TLS does. */
NNG_DECL int nng_tls_config_key(nng_tls_config *, const uint8_t *, size_t);
NNG_DECL int nng_tls_config_pass(nng_tls_config *, const char *);

/* Sets how the peer's certificate is checked. */
NNG_DECL int nng_tls_config_auth_mode(nng_tls_config *, nng_tls_auth_mode);

/* As nng_tls_config_ca_chain, from a PEM file holding certificates and any
 * revocation lists. */
NNG_DECL int nng_tls_config_ca_file(nng_tls_config *, const char *);

/* As nng_tls_config_own_cert, from one PEM file holding both the
 * certificate (chain) and the private key; the password may be NULL. */
NNG_DECL int nng_tls_config_cert_key_file(nng_tls_config *, const char *, const char *);

/* The lowest and highest protocol versions to negotiate.  NNG_ENOTSUP if
 * the range is empty or a bound is not a version the engine knows. */
NNG_DECL int nng_tls_config_version(nng_tls_config *, nng_tls_version, nng_tls_version);

/* The TLS engine's short name ("openssl" here; "none" without TLS). */
NNG_DECL const char *nng_tls_engine_name(void);

/* A line describing the engine, such as its version. */
NNG_DECL const char *nng_tls_engine_description(void);

/* Whether the engine runs in FIPS 140 mode. */
NNG_DECL bool nng_tls_engine_fips_mode(void);

#ifdef __cplusplus
}
#endif

#endif /* NNG_SUPPLEMENTAL_TLS_TLS_H */
