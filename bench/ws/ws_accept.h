/* bench/ws/ws_accept.h: the Sec-WebSocket-Accept value of RFC 6455 section
 * 4.2.2 (base64 of the SHA-1 of the key followed by the fixed GUID), for the
 * benchmark's load generator and floor server, on OpenSSL's SHA-1 and
 * base64 (the library's own choice too).  Header-only, C and C++. */
#ifndef BENCH_WS_ACCEPT_H
#define BENCH_WS_ACCEPT_H

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stddef.h>
#include <string.h>

#define WSB_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

/* Standard base64 (with padding) of len bytes into out; returns the length
 * written, and NUL-terminates.  out needs 4 * ((len + 2) / 3) + 1 bytes. */
static inline size_t wsb_base64(const unsigned char* in, size_t len, char* out) {
    return (size_t)EVP_EncodeBlock((unsigned char*)out, in, (int)len);
}

/* The accept value for a key of keylen bytes (surrounding blanks already
 * trimmed) into out[29] (28 characters and a NUL).  Returns 0, or -1 for a
 * key too long to be a real one. */
static inline int wsb_accept(const char* key, size_t keylen, char out[29]) {
    char buf[128 + sizeof WSB_GUID];
    unsigned char digest[SHA_DIGEST_LENGTH];
    if (keylen > 128) {
        return -1;
    }
    memcpy(buf, key, keylen);
    memcpy(buf + keylen, WSB_GUID, sizeof WSB_GUID - 1);
    SHA1((const unsigned char*)buf, keylen + sizeof WSB_GUID - 1, digest);
    wsb_base64(digest, sizeof digest, out);
    return 0;
}

#endif
