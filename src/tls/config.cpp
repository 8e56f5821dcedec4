// nng_tls_config on OpenSSL 3 (see config.hpp).
//
// Error codes follow what NNG 1.5.2 returns, checked against it by
// tests/compat/tls_config.c: material that does not parse, a wrong or
// missing password and the like are NNG_ECRYPTO (NNG's mbedTLS engine maps
// every parse error there, though its man pages say NNG_EINVAL); file errors
// are the errno's NNG code; versions outside 1.0..1.3 or an empty range are
// NNG_ENOTSUP.  Every setter either applies all of its input or none of it.
#include "tls/config.hpp"

#include "core/error.hpp"

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <new>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace nnghttp::detail::tls {

namespace {

struct bio_deleter {
    void operator()(BIO* p) const noexcept { BIO_free(p); }
};
struct x509_deleter {
    void operator()(X509* p) const noexcept { X509_free(p); }
};
struct crl_deleter {
    void operator()(X509_CRL* p) const noexcept { X509_CRL_free(p); }
};
struct pkey_deleter {
    void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
};
struct x509_stack_deleter {
    void operator()(STACK_OF(X509) * p) const noexcept { sk_X509_free(p); }
};
using bio_ptr = std::unique_ptr<BIO, bio_deleter>;
using x509_ptr = std::unique_ptr<X509, x509_deleter>;
using crl_ptr = std::unique_ptr<X509_CRL, crl_deleter>;
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_deleter>;

// OpenSSL keeps its errors in a per-thread queue, and a TLS stream reads
// that queue (SSL_get_error) after its own calls: whatever a setter leaves
// there would be taken for a later stream's failure on the same thread.
// Every entry point empties it on the way in and on the way out.
struct error_queue_scope {
    error_queue_scope() { ERR_clear_error(); }
    ~error_queue_scope() { ERR_clear_error(); }
    error_queue_scope(const error_queue_scope&) = delete;
    error_queue_scope& operator=(const error_queue_scope&) = delete;
};

// Gives OpenSSL the caller's password, or nothing: without a callback it
// would ask on the terminal.  A password too long for its buffer is refused
// rather than cut.
int password_cb(char* buf, int size, int /*rwflag*/, void* user) {
    const auto* pass = static_cast<const char*>(user);
    if (pass == nullptr) {
        return -1;
    }
    std::size_t n = std::strlen(pass);
    if (n > static_cast<std::size_t>(size)) {
        return -1;
    }
    std::memcpy(buf, pass, n);
    return static_cast<int>(n);
}

// A read-only BIO over a NUL-terminated string (not copied).
bio_ptr string_bio(const char* s) {
    return bio_ptr(BIO_new_mem_buf(s, -1));
}

// True when the last failed PEM read only ran out of blocks.
bool ran_out_of_pem() {
    unsigned long e = ERR_peek_last_error();
    return ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE;
}

// Reads every PEM block of one kind in pem (read is PEM_read_bio_X509 or
// PEM_read_bio_X509_CRL; blocks of other kinds are skipped, as mbedTLS
// does).  NNG_ECRYPTO if a block of that kind does not parse or there is
// none.
template <typename Ptr, typename Read>
int read_pem_blocks(const char* pem, Read read, std::vector<Ptr>& out) {
    bio_ptr bio = string_bio(pem);
    if (!bio) {
        return NNG_ENOMEM;
    }
    for (;;) {
        ERR_clear_error();
        auto* item = read(bio.get(), nullptr, password_cb, nullptr);
        if (item == nullptr) {
            break;
        }
        out.emplace_back(item);
    }
    if (out.empty() || !ran_out_of_pem()) {
        return NNG_ECRYPTO;
    }
    return 0;
}

int read_certs(const char* pem, std::vector<x509_ptr>& out) {
    return read_pem_blocks(pem, PEM_read_bio_X509, out);
}

int read_crls(const char* pem, std::vector<crl_ptr>& out) {
    return read_pem_blocks(pem, PEM_read_bio_X509_CRL, out);
}

// The first private key in pem, decrypted with pass if it is encrypted.
int read_key(const char* pem, const char* pass, pkey_ptr& out) {
    bio_ptr bio = string_bio(pem);
    if (!bio) {
        return NNG_ENOMEM;
    }
    out.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, password_cb, const_cast<char*>(pass)));
    return out ? 0 : NNG_ECRYPTO;
}

// A whole file, as NNG reads one: errno mapped to NNG's codes, so a
// missing file is NNG_ENOENT, an unreadable one NNG_EPERM and a directory
// NNG_ESYSERR + EISDIR.
int read_file(const char* path, std::string& out) {
    int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return from_errno(errno);
    }
    int rv = 0;
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        rv = from_errno(errno);
    } else {
        out.reserve(static_cast<std::size_t>(st.st_size));
        char buf[16384];
        for (;;) {
            ssize_t n = ::read(fd, buf, sizeof(buf));
            if (n < 0) {
                if (errno == EINTR) {
                    continue;
                }
                rv = from_errno(errno);
                break;
            }
            if (n == 0) {
                break;
            }
            out.append(buf, static_cast<std::size_t>(n));
        }
    }
    ::close(fd);
    return rv;
}

// Whether the server's list of acceptable client certificate issuers
// already holds cert's subject.
bool names_client_ca(SSL_CTX* ctx, X509* cert) {
    const STACK_OF(X509_NAME)* names = SSL_CTX_get_client_CA_list(ctx);
    const X509_NAME* subject = X509_get_subject_name(cert);
    for (int i = 0; i < sk_X509_NAME_num(names); i++) {
        if (X509_NAME_cmp(sk_X509_NAME_value(names, i), subject) == 0) {
            return true;
        }
    }
    return false;
}

// A missing revocation list is not a failure: mbedTLS checks the lists it
// has and skips authorities without one.  OpenSSL's CRL checks would
// otherwise refuse every chain whose issuer has no list.
int verify_required(int ok, X509_STORE_CTX* x) {
    if (ok == 0 && X509_STORE_CTX_get_error(x) == X509_V_ERR_UNABLE_TO_GET_CRL) {
        X509_STORE_CTX_set_error(x, X509_V_OK);
        return 1;
    }
    return ok;
}

// Optional: the result is recorded (SSL_get_verify_result, for
// NNG_OPT_TLS_VERIFIED) but never ends the handshake.
int verify_optional(int ok, X509_STORE_CTX* x) {
    (void)verify_required(ok, x);
    return 1;
}

void apply_auth(SSL_CTX* ctx, mode m, auth a) {
    switch (a) {
    case auth::none:
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
        break;
    case auth::optional:
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_optional);
        break;
    case auth::required:
        SSL_CTX_set_verify(ctx,
                           m == mode::server ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT
                                             : SSL_VERIFY_PEER,
                           verify_required);
        break;
    }
}

// The session ID of a server's new TLS 1.2 session.  With no session cache
// (and no tickets) OpenSSL still asks for one at every full handshake and
// then sends an empty ID instead, since nothing could be resumed by it; its
// default draws 32 random bytes (a DRBG generate: a getpid(2) fork check and
// an AES-CTR update, about 1% of a handshake's CPU).  The ID never leaves
// the process, so a counter fills it; it stays unique should a cache ever
// be turned on (only create() below sets these, both together).
int unsent_session_id(SSL*, unsigned char* id, unsigned int* len) {
    static std::atomic<std::uint64_t> next{1};
    std::uint64_t n = next.fetch_add(1, std::memory_order_relaxed);
    if (*len < sizeof n) {
        return 0;
    }
    std::memcpy(id, &n, sizeof n);
    return 1;
}

// NNG's version value to OpenSSL's, or 0 if it is none of 1.0..1.3.
int proto_version(int v) {
    switch (v) {
    case 0x301:
        return TLS1_VERSION;
    case 0x302:
        return TLS1_1_VERSION;
    case 0x303:
        return TLS1_2_VERSION;
    case 0x304:
        return TLS1_3_VERSION;
    default:
        return 0;
    }
}

} // namespace

void init_openssl() noexcept {
    // OpenSSL frees its global state from an atexit handler, while our
    // event loops may still be closing TLS streams and freeing contexts
    // (ThreadSanitizer saw the race): keep the state for the process's
    // life.  The flag only counts on OpenSSL's first initialisation, so
    // every entry point of ours calls this first.
    static const bool done = [] {
        return OPENSSL_init_ssl(OPENSSL_INIT_NO_ATEXIT | OPENSSL_INIT_LOAD_SSL_STRINGS |
                                    OPENSSL_INIT_LOAD_CRYPTO_STRINGS,
                                nullptr) == 1;
    }();
    (void)done;
}

int config::create(mode m, config*& out) {
    init_openssl();
    error_queue_scope errors;
    SSL_CTX* ctx = SSL_CTX_new(m == mode::server ? TLS_server_method() : TLS_client_method());
    if (ctx == nullptr) {
        return NNG_ECRYPTO;
    }
    // NNG's defaults: TLS 1.2 and up (1.3 included: OpenSSL has it), clients
    // check the server, servers do not ask for a client certificate.
    // Certificates given as trusted are trust anchors even when they are not
    // self-signed (an intermediate), as with mbedTLS.  No renegotiation and
    // no session resumption, as in NNG.
    auth a = m == mode::server ? auth::none : auth::required;
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1 ||
        X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(ctx), X509_V_FLAG_PARTIAL_CHAIN) != 1 ||
        SSL_CTX_set_num_tickets(ctx, 0) != 1) {
        SSL_CTX_free(ctx);
        return NNG_ECRYPTO;
    }
    // Only AEAD suites (see config.hpp): CBC suites, with their MAC then
    // encrypt and a history of padding oracles, are not offered.
    if (SSL_CTX_set_cipher_list(ctx, default_tls12_ciphers) != 1) {
        SSL_CTX_free(ctx);
        return NNG_ECRYPTO;
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    // The engine takes all the ciphertext our BIO holds in one read instead
    // of each record's header and body apart, keeping what it has not yet
    // handed over (nginx sets it too).  Our BIO only holds what the socket
    // gave, so nothing changes for the socket.
    SSL_CTX_set_read_ahead(ctx, 1);
    if (m == mode::server) {
        SSL_CTX_set_generate_session_id(ctx, unsent_session_id);
    }
    apply_auth(ctx, m, a);

    auto* c = new (std::nothrow) config(m, ctx);
    if (c == nullptr) {
        SSL_CTX_free(ctx);
        return NNG_ENOMEM;
    }
    c->auth_ = a;
    out = c;
    return 0;
}

config::config(mode m, SSL_CTX* ctx) : mode_(m), ctx_(ctx), auth_(auth::none) {}

config::~config() {
    SSL_CTX_free(ctx_);
}

SSL_CTX* config::use() noexcept {
    std::lock_guard lk(mtx_);
    frozen_ = true;
    return ctx_;
}

bool config::frozen() const noexcept {
    std::lock_guard lk(mtx_);
    return frozen_;
}

int config::set_server_name(const char* name) {
    if (name == nullptr) {
        return NNG_EINVAL;
    }
    std::string copy(name);
    std::lock_guard lk(mtx_);
    if (frozen_) {
        return NNG_EBUSY;
    }
    server_name_.swap(copy);
    return 0;
}

int config::set_ca_chain(const char* pem_chain, const char* pem_crl) {
    if (pem_chain == nullptr) {
        return NNG_EINVAL;
    }
    std::lock_guard lk(mtx_);
    if (frozen_) {
        return NNG_EBUSY;
    }
    error_queue_scope errors;
    std::vector<x509_ptr> certs;
    std::vector<crl_ptr> crls;
    if (int rv = read_certs(pem_chain, certs); rv != 0) {
        return rv;
    }
    if (pem_crl != nullptr) {
        if (int rv = read_crls(pem_crl, crls); rv != 0) {
            return rv;
        }
    }

    // Adding the same certificate or list twice is not an error (OpenSSL
    // keeps one copy); anything else failing here is out of memory.
    X509_STORE* store = SSL_CTX_get_cert_store(ctx_);
    for (auto& c : certs) {
        if (X509_STORE_add_cert(store, c.get()) != 1) {
            return NNG_ENOMEM;
        }
        // A server names its trusted authorities when asking for a client
        // certificate, as mbedTLS does (each name once).
        if (mode_ == mode::server && !names_client_ca(ctx_, c.get()) &&
            SSL_CTX_add_client_CA(ctx_, c.get()) != 1) {
            return NNG_ENOMEM;
        }
    }
    for (auto& l : crls) {
        if (X509_STORE_add_crl(store, l.get()) != 1) {
            return NNG_ENOMEM;
        }
    }
    if (!crls.empty()) {
        X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(ctx_),
                                    X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
    }
    return 0;
}

int config::set_own_cert(const char* pem_cert, const char* pem_key, const char* pass) {
    if (pem_cert == nullptr || pem_key == nullptr) {
        return NNG_EINVAL;
    }
    std::lock_guard lk(mtx_);
    if (frozen_) {
        return NNG_EBUSY;
    }
    error_queue_scope errors;
    std::vector<x509_ptr> certs;
    pkey_ptr key;
    if (int rv = read_certs(pem_cert, certs); rv != 0) {
        return rv;
    }
    if (int rv = read_key(pem_key, pass, key); rv != 0) {
        return rv;
    }
    // Checked before the context is touched, so a mismatched pair leaves
    // the previous certificate in place.
    X509* leaf = certs.front().get();
    if (X509_check_private_key(leaf, key.get()) != 1) {
        return NNG_ECRYPTO;
    }
    std::unique_ptr<STACK_OF(X509), x509_stack_deleter> chain(sk_X509_new_null());
    if (!chain) {
        return NNG_ENOMEM;
    }
    for (std::size_t i = 1; i < certs.size(); i++) {
        if (sk_X509_push(chain.get(), certs[i].get()) <= 0) {
            return NNG_ENOMEM;
        }
    }
    // One certificate per key type: a second RSA certificate replaces the
    // first, an EC one sits beside it (servers pick by what the peer takes).
    if (SSL_CTX_use_certificate(ctx_, leaf) != 1 || SSL_CTX_use_PrivateKey(ctx_, key.get()) != 1 ||
        SSL_CTX_set1_chain(ctx_, chain.get()) != 1 || SSL_CTX_check_private_key(ctx_) != 1) {
        return NNG_ECRYPTO;
    }
    return 0;
}

int config::set_auth_mode(auth a) {
    std::lock_guard lk(mtx_);
    if (frozen_) {
        return NNG_EBUSY;
    }
    switch (a) {
    case auth::none:
    case auth::optional:
    case auth::required:
        apply_auth(ctx_, mode_, a);
        auth_ = a;
        return 0;
    }
    return NNG_EINVAL;
}

int config::set_ca_file(const char* path) {
    if (path == nullptr) {
        return NNG_EINVAL;
    }
    // As NNG: the file is read before the configuration is looked at.
    std::string pem;
    if (int rv = read_file(path, pem); rv != 0) {
        return rv;
    }
    bool has_crl = pem.find("-----BEGIN X509 CRL-----") != std::string::npos;
    return set_ca_chain(pem.c_str(), has_crl ? pem.c_str() : nullptr);
}

int config::set_cert_key_file(const char* path, const char* pass) {
    if (path == nullptr) {
        return NNG_EINVAL;
    }
    std::string pem;
    if (int rv = read_file(path, pem); rv != 0) {
        return rv;
    }
    return set_own_cert(pem.c_str(), pem.c_str(), pass);
}

int config::set_version(int min_version, int max_version) {
    std::lock_guard lk(mtx_);
    if (frozen_) {
        return NNG_EBUSY;
    }
    int lo = proto_version(min_version);
    int hi = proto_version(max_version);
    if (min_version > max_version || lo == 0 || hi == 0) {
        return NNG_ENOTSUP;
    }
    error_queue_scope errors;
    if (SSL_CTX_set_min_proto_version(ctx_, lo) != 1 ||
        SSL_CTX_set_max_proto_version(ctx_, hi) != 1) {
        return NNG_ENOTSUP;
    }
    return 0;
}

int config::set_ciphers(const char* tls12, const char* tls13) {
    if (tls12 == nullptr && tls13 == nullptr) {
        return NNG_EINVAL;
    }
    std::lock_guard lk(mtx_);
    if (frozen_) {
        return NNG_EBUSY;
    }
    error_queue_scope errors;
    // OpenSSL replaces a context's list even when it then reports that the
    // new one selects nothing, so the lists are tried on a scratch context
    // first: a refused list leaves this one as it was.
    SSL_CTX* trial = SSL_CTX_new(TLS_method());
    if (trial == nullptr) {
        return NNG_ENOMEM;
    }
    bool ok = (tls12 == nullptr || SSL_CTX_set_cipher_list(trial, tls12) == 1) &&
              (tls13 == nullptr || SSL_CTX_set_ciphersuites(trial, tls13) == 1);
    SSL_CTX_free(trial);
    if (!ok) {
        return NNG_EINVAL;
    }
    if ((tls12 != nullptr && SSL_CTX_set_cipher_list(ctx_, tls12) != 1) ||
        (tls13 != nullptr && SSL_CTX_set_ciphersuites(ctx_, tls13) != 1)) {
        return NNG_ENOMEM; // accepted above: only memory can fail here
    }
    return 0;
}

std::string config::server_name() const {
    std::lock_guard lk(mtx_);
    return server_name_;
}

auth config::auth_mode() const {
    std::lock_guard lk(mtx_);
    return auth_;
}

} // namespace nnghttp::detail::tls
