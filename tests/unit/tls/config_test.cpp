// nng_tls_config on OpenSSL 3: every setter's success and failure, NNG's
// defaults, NNG_EBUSY once a stream has used a configuration, reference
// counting, and handshakes between contexts made by configurations (over a
// memory BIO pair, no sockets) to show the settings take effect.
//
// The certificates are made when the suite starts, with the openssl
// command, in a fresh temporary directory: no key is kept in the tree.
#include "support/tls_material.hpp"
#include "tls/config.hpp"

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <sstream>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

namespace fs = std::filesystem;
using nnghttp::detail::test::material;
using nnghttp::detail::tls::auth;
using nnghttp::detail::tls::config;
using nnghttp::detail::tls::mode;

// A configuration through the C API, freed at scope exit.
class cfg_box {
  public:
    explicit cfg_box(nng_tls_mode m) { EXPECT_EQ(nng_tls_config_alloc(&c_, m), 0); }
    ~cfg_box() { nng_tls_config_free(c_); }
    cfg_box(const cfg_box&) = delete;
    cfg_box& operator=(const cfg_box&) = delete;
    nng_tls_config* get() const { return c_; }
    operator nng_tls_config*() const { return c_; }
    // The C++ object behind the handle (a handle is the object).
    config* obj() const { return reinterpret_cast<config*>(c_); }
    SSL_CTX* use() const { return obj()->use(); }

  private:
    nng_tls_config* c_ = nullptr;
};

class TlsConfig : public ::testing::Test {
  protected:
    void SetUp() override { ASSERT_TRUE(m().ok()); }
    static material& m() { return material::get(); }
    static std::string pem(const char* name) { return m().read(name); }
    static std::string path(const char* name) { return m().path(name); }

    // Whether nothing was left in this thread's OpenSSL error queue.
    static bool queue_empty() { return ERR_peek_error() == 0; }

    // Trusted certificates (objects of type certificate) in a context.
    static int store_certs(SSL_CTX* ctx) {
        int n = 0;
        STACK_OF(X509_OBJECT)* objs = X509_STORE_get0_objects(SSL_CTX_get_cert_store(ctx));
        for (int i = 0; i < sk_X509_OBJECT_num(objs); i++) {
            if (X509_OBJECT_get_type(sk_X509_OBJECT_value(objs, i)) == X509_LU_X509) {
                n++;
            }
        }
        return n;
    }
    static unsigned long verify_flags(SSL_CTX* ctx) {
        return X509_VERIFY_PARAM_get_flags(SSL_CTX_get0_param(ctx));
    }
    static bool is_tls13(const SSL_CIPHER* s) {
        return std::string(SSL_CIPHER_get_version(s)) == "TLSv1.3";
    }
    // The suites a context offers, for TLS 1.3 (tls13) or below, as a
    // colon-separated list.
    static std::string suites(SSL_CTX* ctx, bool tls13) {
        std::string out;
        STACK_OF(SSL_CIPHER)* list = SSL_CTX_get_ciphers(ctx);
        for (int i = 0; i < sk_SSL_CIPHER_num(list); i++) {
            const SSL_CIPHER* s = sk_SSL_CIPHER_value(list, i);
            if ((is_tls13(s)) == tls13) {
                out += (out.empty() ? "" : ":") + std::string(SSL_CIPHER_get_name(s));
            }
        }
        return out;
    }
    // A cipher list as OpenSSL expands it (names in order).
    static std::string suite_names(const char* list) {
        SSL_CTX* ctx = SSL_CTX_new(TLS_method());
        EXPECT_EQ(SSL_CTX_set_cipher_list(ctx, list), 1);
        std::string out = suites(ctx, false);
        SSL_CTX_free(ctx);
        return out;
    }
    static std::string subject_cn(X509* x) {
        char buf[256] = {};
        X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, buf, sizeof(buf));
        return buf;
    }
};

// ---- alloc, hold, free -------------------------------------------------

TEST_F(TlsConfig, AllocBothModes) {
    nng_tls_config* c = nullptr;
    ASSERT_EQ(nng_tls_config_alloc(&c, NNG_TLS_MODE_CLIENT), 0);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(reinterpret_cast<config*>(c)->role(), mode::client);
    nng_tls_config_free(c);
    c = nullptr;
    ASSERT_EQ(nng_tls_config_alloc(&c, NNG_TLS_MODE_SERVER), 0);
    EXPECT_EQ(reinterpret_cast<config*>(c)->role(), mode::server);
    nng_tls_config_free(c);
}

// NNG 1.5.2 takes any mode but SERVER for a client; the man page (and we)
// say NNG_EINVAL.
TEST_F(TlsConfig, AllocRefusesBadModeAndNull) {
    nng_tls_config* c = nullptr;
    EXPECT_EQ(nng_tls_config_alloc(&c, static_cast<nng_tls_mode>(2)), NNG_EINVAL);
    EXPECT_EQ(nng_tls_config_alloc(&c, static_cast<nng_tls_mode>(-1)), NNG_EINVAL);
    EXPECT_EQ(c, nullptr);
    EXPECT_EQ(nng_tls_config_alloc(nullptr, NNG_TLS_MODE_CLIENT), NNG_EINVAL);
}

TEST_F(TlsConfig, NullHandleIsInvalidEverywhere) {
    const char* p = "x";
    EXPECT_EQ(nng_tls_config_server_name(nullptr, p), NNG_EINVAL);
    EXPECT_EQ(nng_tls_config_ca_chain(nullptr, p, nullptr), NNG_EINVAL);
    EXPECT_EQ(nng_tls_config_own_cert(nullptr, p, p, nullptr), NNG_EINVAL);
    EXPECT_EQ(nng_tls_config_auth_mode(nullptr, NNG_TLS_AUTH_MODE_NONE), NNG_EINVAL);
    EXPECT_EQ(nng_tls_config_ca_file(nullptr, p), NNG_EINVAL);
    EXPECT_EQ(nng_tls_config_cert_key_file(nullptr, p, nullptr), NNG_EINVAL);
    EXPECT_EQ(nng_tls_config_version(nullptr, NNG_TLS_1_2, NNG_TLS_1_3), NNG_EINVAL);
    nng_tls_config_hold(nullptr);
    nng_tls_config_free(nullptr);
}

// The SSL_CTX is freed exactly when the last reference goes: ex_data with
// a free callback tells when OpenSSL frees it.
std::atomic<int> ctx_freed{0};
void on_ctx_free(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
    if (ptr != nullptr) {
        ctx_freed++;
    }
}

int watch_ctx(SSL_CTX* ctx) {
    static int idx =
        CRYPTO_get_ex_new_index(CRYPTO_EX_INDEX_SSL_CTX, 0, nullptr, nullptr, nullptr, on_ctx_free);
    static int marker;
    return SSL_CTX_set_ex_data(ctx, idx, &marker);
}

TEST_F(TlsConfig, HoldAndFreeCountReferences) {
    ctx_freed = 0;
    nng_tls_config* c = nullptr;
    ASSERT_EQ(nng_tls_config_alloc(&c, NNG_TLS_MODE_CLIENT), 0);
    config* obj = reinterpret_cast<config*>(c);
    ASSERT_EQ(watch_ctx(obj->use()), 1);

    nng_tls_config_hold(c);
    nng_tls_config_hold(c);
    nng_tls_config_free(c);
    nng_tls_config_free(c);
    EXPECT_EQ(ctx_freed.load(), 0);
    EXPECT_EQ(obj->auth_mode(), auth::required); // still alive
    nng_tls_config_free(c);
    EXPECT_EQ(ctx_freed.load(), 1);
}

TEST_F(TlsConfig, HoldAndFreeFromManyThreads) {
    ctx_freed = 0;
    nng_tls_config* c = nullptr;
    ASSERT_EQ(nng_tls_config_alloc(&c, NNG_TLS_MODE_SERVER), 0);
    ASSERT_EQ(watch_ctx(reinterpret_cast<config*>(c)->use()), 1);
    constexpr int threads = 4;
    constexpr int rounds = 1000;
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; t++) {
        ts.emplace_back([c] {
            for (int i = 0; i < rounds; i++) {
                nng_tls_config_hold(c);
                EXPECT_EQ(nng_tls_config_server_name(c, "x"), NNG_EBUSY);
                nng_tls_config_free(c);
            }
        });
    }
    for (auto& t : ts) {
        t.join();
    }
    EXPECT_EQ(ctx_freed.load(), 0);
    nng_tls_config_free(c);
    EXPECT_EQ(ctx_freed.load(), 1);
}

// ---- defaults ------------------------------------------------------------

TEST_F(TlsConfig, ClientDefaultsVerifyTheServer) {
    cfg_box c(NNG_TLS_MODE_CLIENT);
    EXPECT_EQ(c.obj()->auth_mode(), auth::required);
    EXPECT_EQ(c.obj()->server_name(), "");
    EXPECT_FALSE(c.obj()->frozen());
    SSL_CTX* ctx = c.use();
    EXPECT_EQ(SSL_CTX_get_verify_mode(ctx), SSL_VERIFY_PEER);
    EXPECT_EQ(SSL_CTX_get_min_proto_version(ctx), TLS1_2_VERSION);
    EXPECT_EQ(SSL_CTX_get_max_proto_version(ctx), TLS1_3_VERSION);
    EXPECT_EQ(store_certs(ctx), 0); // no system CAs: only what the user adds
}

TEST_F(TlsConfig, ServerDefaultsAskNoCertificate) {
    cfg_box c(NNG_TLS_MODE_SERVER);
    EXPECT_EQ(c.obj()->auth_mode(), auth::none);
    SSL_CTX* ctx = c.use();
    EXPECT_EQ(SSL_CTX_get_verify_mode(ctx), SSL_VERIFY_NONE);
    EXPECT_EQ(SSL_CTX_get_min_proto_version(ctx), TLS1_2_VERSION);
    EXPECT_EQ(SSL_CTX_get_max_proto_version(ctx), TLS1_3_VERSION);
}

// ---- server name ---------------------------------------------------------

TEST_F(TlsConfig, ServerName) {
    cfg_box c(NNG_TLS_MODE_CLIENT);
    EXPECT_EQ(nng_tls_config_server_name(c, "localhost"), 0);
    EXPECT_EQ(c.obj()->server_name(), "localhost");
    EXPECT_EQ(nng_tls_config_server_name(c, "example.com"), 0);
    EXPECT_EQ(c.obj()->server_name(), "example.com");
    EXPECT_EQ(nng_tls_config_server_name(c, ""), 0);
    EXPECT_EQ(c.obj()->server_name(), "");
    EXPECT_EQ(nng_tls_config_server_name(c, nullptr), NNG_EINVAL); // NNG: crash
    cfg_box s(NNG_TLS_MODE_SERVER);
    EXPECT_EQ(nng_tls_config_server_name(s, "localhost"), 0);
}

// ---- auth mode -----------------------------------------------------------

TEST_F(TlsConfig, AuthModeSetsVerification) {
    cfg_box c(NNG_TLS_MODE_CLIENT);
    cfg_box s(NNG_TLS_MODE_SERVER);
    struct row {
        nng_tls_auth_mode m;
        auth a;
        int client_flags;
        int server_flags;
    };
    const row rows[] = {
        {NNG_TLS_AUTH_MODE_NONE, auth::none, SSL_VERIFY_NONE, SSL_VERIFY_NONE},
        {NNG_TLS_AUTH_MODE_OPTIONAL, auth::optional, SSL_VERIFY_PEER, SSL_VERIFY_PEER},
        {NNG_TLS_AUTH_MODE_REQUIRED, auth::required, SSL_VERIFY_PEER,
         SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT},
    };
    config* probe_c = nullptr;
    config* probe_s = nullptr;
    for (const auto& r : rows) {
        EXPECT_EQ(nng_tls_config_auth_mode(c, r.m), 0);
        EXPECT_EQ(nng_tls_config_auth_mode(s, r.m), 0);
        EXPECT_EQ(c.obj()->auth_mode(), r.a);
        EXPECT_EQ(s.obj()->auth_mode(), r.a);
        // A fresh pair with the same mode, to read the context unfrozen.
        ASSERT_EQ(config::create(mode::client, probe_c), 0);
        ASSERT_EQ(config::create(mode::server, probe_s), 0);
        ASSERT_EQ(probe_c->set_auth_mode(r.a), 0);
        ASSERT_EQ(probe_s->set_auth_mode(r.a), 0);
        EXPECT_EQ(SSL_CTX_get_verify_mode(probe_c->use()), r.client_flags);
        EXPECT_EQ(SSL_CTX_get_verify_mode(probe_s->use()), r.server_flags);
        probe_c->release();
        probe_s->release();
    }
}

TEST_F(TlsConfig, AuthModeRefusesUnknownValues) {
    cfg_box c(NNG_TLS_MODE_CLIENT);
    EXPECT_EQ(nng_tls_config_auth_mode(c, static_cast<nng_tls_auth_mode>(3)), NNG_EINVAL);
    EXPECT_EQ(nng_tls_config_auth_mode(c, static_cast<nng_tls_auth_mode>(-1)), NNG_EINVAL);
    EXPECT_EQ(c.obj()->auth_mode(), auth::required); // unchanged
}

// ---- CA chain ------------------------------------------------------------

TEST_F(TlsConfig, CaChainAddsTrustedCertificates) {
    cfg_box c(NNG_TLS_MODE_CLIENT);
    EXPECT_EQ(nng_tls_config_ca_chain(c, pem("ca.crt").c_str(), nullptr), 0);
    EXPECT_EQ(nng_tls_config_ca_chain(c, pem("ca.crt").c_str(), nullptr), 0); // again: one copy
    EXPECT_EQ(nng_tls_config_ca_chain(c, pem("two_cas.pem").c_str(), nullptr), 0);
    EXPECT_EQ(nng_tls_config_ca_chain(c, pem("expired.crt").c_str(), nullptr), 0);
    EXPECT_TRUE(queue_empty());
    SSL_CTX* ctx = c.use();
    EXPECT_EQ(store_certs(ctx), 3);
    EXPECT_EQ(verify_flags(ctx) & X509_V_FLAG_CRL_CHECK, 0u);
    EXPECT_NE(verify_flags(ctx) & X509_V_FLAG_PARTIAL_CHAIN, 0u);
}

TEST_F(TlsConfig, CaChainWithCrlTurnsOnRevocationChecks) {
    cfg_box c(NNG_TLS_MODE_CLIENT);
    EXPECT_EQ(nng_tls_config_ca_chain(c, pem("ca.crt").c_str(), pem("ca.crl").c_str()), 0);
    SSL_CTX* ctx = c.use();
    EXPECT_NE(verify_flags(ctx) & X509_V_FLAG_CRL_CHECK, 0u);
    EXPECT_NE(verify_flags(ctx) & X509_V_FLAG_CRL_CHECK_ALL, 0u);
}

TEST_F(TlsConfig, ServerCaChainNamesAcceptableIssuers) {
    cfg_box s(NNG_TLS_MODE_SERVER);
    EXPECT_EQ(nng_tls_config_ca_chain(s, pem("two_cas.pem").c_str(), nullptr), 0);
    EXPECT_EQ(nng_tls_config_ca_chain(s, pem("ca.crt").c_str(), nullptr), 0);
    EXPECT_EQ(sk_X509_NAME_num(SSL_CTX_get_client_CA_list(s.use())), 2);
}

TEST_F(TlsConfig, CaChainRefusesBadMaterialAndKeepsWhatItHad) {
    cfg_box c(NNG_TLS_MODE_CLIENT);
    ASSERT_EQ(nng_tls_config_ca_chain(c, pem("ca.crt").c_str(), nullptr), 0);
    std::string truncated = pem("ca2.crt");
    truncated.erase(truncated.find("-----END") - 10, 10);
    const std::string ca2_then_garbage = pem("ca2.crt") + truncated;

    EXPECT_EQ(nng_tls_config_ca_chain(c, "not a certificate", nullptr), NNG_ECRYPTO);
    EXPECT_EQ(nng_tls_config_ca_chain(c, "", nullptr), NNG_ECRYPTO);
    EXPECT_EQ(nng_tls_config_ca_chain(c, truncated.c_str(), nullptr), NNG_ECRYPTO);
    // One good certificate does not let a bad one through, nor get added.
    EXPECT_EQ(nng_tls_config_ca_chain(c, ca2_then_garbage.c_str(), nullptr), NNG_ECRYPTO);
    EXPECT_EQ(nng_tls_config_ca_chain(c, pem("ca.crl").c_str(), nullptr), NNG_ECRYPTO);
    EXPECT_EQ(nng_tls_config_ca_chain(c, pem("server.key").c_str(), nullptr), NNG_ECRYPTO);
    EXPECT_EQ(nng_tls_config_ca_chain(c, pem("ca2.crt").c_str(), "garbage"), NNG_ECRYPTO);
    EXPECT_EQ(nng_tls_config_ca_chain(c, pem("ca2.crt").c_str(), pem("ca2.crt").c_str()),
              NNG_ECRYPTO);
    EXPECT_EQ(nng_tls_config_ca_chain(c, nullptr, nullptr), NNG_EINVAL); // NNG: crash
    EXPECT_TRUE(queue_empty());
    SSL_CTX* ctx = c.use();
    EXPECT_EQ(store_certs(ctx), 1);
    EXPECT_EQ(verify_flags(ctx) & X509_V_FLAG_CRL_CHECK, 0u);
}

// ---- own certificate -----------------------------------------------------

TEST_F(TlsConfig, OwnCert) {
    for (auto m : {NNG_TLS_MODE_CLIENT, NNG_TLS_MODE_SERVER}) {
        cfg_box c(m);
        EXPECT_EQ(nng_tls_config_own_cert(c, pem("server.crt").c_str(), pem("server.key").c_str(),
                                          nullptr),
                  0);
        // An unused password is ignored.
        EXPECT_EQ(nng_tls_config_own_cert(c, pem("server.crt").c_str(), pem("server.key").c_str(),
                                          "unused"),
                  0);
        // Expiry is the peer's business, as with mbedTLS.
        EXPECT_EQ(nng_tls_config_own_cert(c, pem("expired.crt").c_str(), pem("server.key").c_str(),
                                          nullptr),
                  0);
        SSL_CTX* ctx = c.use();
        ASSERT_NE(SSL_CTX_get0_certificate(ctx), nullptr);
        EXPECT_EQ(subject_cn(SSL_CTX_get0_certificate(ctx)), "localhost");
        EXPECT_EQ(SSL_CTX_check_private_key(ctx), 1);
    }
}

TEST_F(TlsConfig, OwnCertWithChain) {
    cfg_box s(NNG_TLS_MODE_SERVER);
    ASSERT_EQ(nng_tls_config_own_cert(s, pem("server_chain.pem").c_str(), pem("server.key").c_str(),
                                      nullptr),
              0);
    STACK_OF(X509)* chain = nullptr;
    SSL_CTX* ctx = s.use();
    ASSERT_EQ(SSL_CTX_get0_chain_certs(ctx, &chain), 1);
    ASSERT_EQ(sk_X509_num(chain), 1);
    EXPECT_EQ(subject_cn(sk_X509_value(chain, 0)), "test-ca");
}

TEST_F(TlsConfig, OwnCertEncryptedKey) {
    cfg_box c(NNG_TLS_MODE_SERVER);
    const std::string cert = pem("server.crt");
    const std::string key = pem("server_enc.key");
    EXPECT_EQ(nng_tls_config_own_cert(c, cert.c_str(), key.c_str(), "wrong"), NNG_ECRYPTO);
    EXPECT_EQ(nng_tls_config_own_cert(c, cert.c_str(), key.c_str(), nullptr), NNG_ECRYPTO);
    EXPECT_EQ(nng_tls_config_own_cert(c, cert.c_str(), key.c_str(), ""), NNG_ECRYPTO);
    const std::string long_pass(5000, 'x');
    EXPECT_EQ(nng_tls_config_own_cert(c, cert.c_str(), key.c_str(), long_pass.c_str()),
              NNG_ECRYPTO);
    EXPECT_EQ(SSL_CTX_get0_certificate(c.obj()->use()), nullptr);
    cfg_box d(NNG_TLS_MODE_SERVER);
    EXPECT_EQ(nng_tls_config_own_cert(d, cert.c_str(), key.c_str(), "secret"), 0);
    EXPECT_EQ(SSL_CTX_check_private_key(d.use()), 1);
    EXPECT_TRUE(queue_empty());
}

TEST_F(TlsConfig, OwnCertRefusesBadMaterialAndKeepsWhatItHad) {
    cfg_box c(NNG_TLS_MODE_SERVER);
    const std::string cert = pem("server.crt");
    const std::string key = pem("server.key");
    ASSERT_EQ(nng_tls_config_own_cert(c, pem("ca2_server.crt").c_str(), key.c_str(), nullptr), 0);
    std::string truncated = key;
    truncated.erase(truncated.find("-----END") - 10, 10);

    EXPECT_EQ(nng_tls_config_own_cert(c, "garbage", key.c_str(), nullptr), NNG_ECRYPTO);
    EXPECT_EQ(nng_tls_config_own_cert(c, "", key.c_str(), nullptr), NNG_ECRYPTO);
    EXPECT_EQ(nng_tls_config_own_cert(c, cert.c_str(), "garbage", nullptr), NNG_ECRYPTO);
    EXPECT_EQ(nng_tls_config_own_cert(c, cert.c_str(), "", nullptr), NNG_ECRYPTO);
    EXPECT_EQ(nng_tls_config_own_cert(c, cert.c_str(), truncated.c_str(), nullptr), NNG_ECRYPTO);
    EXPECT_EQ(nng_tls_config_own_cert(c, cert.c_str(), cert.c_str(), nullptr), NNG_ECRYPTO);
    // NNG (mbedTLS) takes a key that is not the certificate's; we do not.
    EXPECT_EQ(nng_tls_config_own_cert(c, cert.c_str(), pem("other.key").c_str(), nullptr),
              NNG_ECRYPTO);
    EXPECT_EQ(nng_tls_config_own_cert(c, nullptr, key.c_str(), nullptr), NNG_EINVAL);
    EXPECT_EQ(nng_tls_config_own_cert(c, cert.c_str(), nullptr, nullptr), NNG_EINVAL);
    EXPECT_TRUE(queue_empty());
    SSL_CTX* ctx = c.use();
    ASSERT_NE(SSL_CTX_get0_certificate(ctx), nullptr);
    // Still the first certificate (issued by the second CA), with its key.
    char issuer[256] = {};
    X509_NAME_get_text_by_NID(X509_get_issuer_name(SSL_CTX_get0_certificate(ctx)), NID_commonName,
                              issuer, sizeof(issuer));
    EXPECT_STREQ(issuer, "test-ca2");
    EXPECT_EQ(SSL_CTX_check_private_key(ctx), 1);
}

// OpenSSL's security level applies to our own certificate too: at level 2
// (Debian's default) RSA-1024 is refused, where NNG's mbedTLS takes it.
TEST_F(TlsConfig, OwnCertBelowSecurityLevel) {
    cfg_box c(NNG_TLS_MODE_SERVER);
    int level = SSL_CTX_get_security_level(c.obj()->use());
    cfg_box d(NNG_TLS_MODE_SERVER);
    EXPECT_EQ(nng_tls_config_cert_key_file(d, path("weak.pem").c_str(), nullptr),
              level >= 2 ? NNG_ECRYPTO : 0);
    EXPECT_TRUE(queue_empty());
}

// ---- files ---------------------------------------------------------------

TEST_F(TlsConfig, CaFile) {
    cfg_box c(NNG_TLS_MODE_CLIENT);
    EXPECT_EQ(nng_tls_config_ca_file(c, path("ca.crt").c_str()), 0);
    EXPECT_EQ(nng_tls_config_ca_file(c, path("two_cas.pem").c_str()), 0);
    EXPECT_EQ(nng_tls_config_ca_file(c, path("missing.pem").c_str()), NNG_ENOENT);
    EXPECT_EQ(nng_tls_config_ca_file(c, path("nodir/ca.crt").c_str()), NNG_ENOENT);
    EXPECT_EQ(nng_tls_config_ca_file(c, path("subdir").c_str()), NNG_ESYSERR + EISDIR); // as NNG
    EXPECT_EQ(nng_tls_config_ca_file(c, path("garbage.pem").c_str()), NNG_ECRYPTO);
    EXPECT_EQ(nng_tls_config_ca_file(c, path("empty.pem").c_str()), NNG_ECRYPTO);
    EXPECT_EQ(nng_tls_config_ca_file(c, path("ca.crl").c_str()), NNG_ECRYPTO);
    EXPECT_EQ(nng_tls_config_ca_file(c, nullptr), NNG_EINVAL);
    SSL_CTX* ctx = c.use();
    EXPECT_EQ(store_certs(ctx), 2);
    EXPECT_EQ(verify_flags(ctx) & X509_V_FLAG_CRL_CHECK, 0u);
}

TEST_F(TlsConfig, CaFileWithCrl) {
    cfg_box c(NNG_TLS_MODE_CLIENT);
    EXPECT_EQ(nng_tls_config_ca_file(c, path("ca_crl.pem").c_str()), 0);
    SSL_CTX* ctx = c.use();
    EXPECT_EQ(store_certs(ctx), 1);
    EXPECT_NE(verify_flags(ctx) & X509_V_FLAG_CRL_CHECK, 0u);
}

TEST_F(TlsConfig, UnreadableFilesArePermissionErrors) {
    if (::geteuid() == 0) {
        GTEST_SKIP() << "root reads every file";
    }
    const std::string locked = path("locked.pem");
    fs::copy_file(path("server.pem"), locked, fs::copy_options::overwrite_existing);
    fs::permissions(locked, fs::perms::none);
    cfg_box c(NNG_TLS_MODE_CLIENT);
    EXPECT_EQ(nng_tls_config_ca_file(c, locked.c_str()), NNG_EPERM);
    EXPECT_EQ(nng_tls_config_cert_key_file(c, locked.c_str(), nullptr), NNG_EPERM);
    fs::remove(locked);
}

TEST_F(TlsConfig, CertKeyFile) {
    for (auto m : {NNG_TLS_MODE_CLIENT, NNG_TLS_MODE_SERVER}) {
        cfg_box c(m);
        EXPECT_EQ(nng_tls_config_cert_key_file(c, path("server.pem").c_str(), nullptr), 0);
        EXPECT_EQ(nng_tls_config_cert_key_file(c, path("server_enc.pem").c_str(), "secret"), 0);
        EXPECT_EQ(nng_tls_config_cert_key_file(c, path("server_enc.pem").c_str(), "wrong"),
                  NNG_ECRYPTO);
        EXPECT_EQ(nng_tls_config_cert_key_file(c, path("server_enc.pem").c_str(), nullptr),
                  NNG_ECRYPTO);
        EXPECT_EQ(nng_tls_config_cert_key_file(c, path("server.crt").c_str(), nullptr),
                  NNG_ECRYPTO);
        EXPECT_EQ(nng_tls_config_cert_key_file(c, path("server.key").c_str(), nullptr),
                  NNG_ECRYPTO);
        EXPECT_EQ(nng_tls_config_cert_key_file(c, path("mismatched.pem").c_str(), nullptr),
                  NNG_ECRYPTO);
        EXPECT_EQ(nng_tls_config_cert_key_file(c, path("garbage.pem").c_str(), nullptr),
                  NNG_ECRYPTO);
        EXPECT_EQ(nng_tls_config_cert_key_file(c, path("empty.pem").c_str(), nullptr), NNG_ECRYPTO);
        EXPECT_EQ(nng_tls_config_cert_key_file(c, path("missing.pem").c_str(), nullptr),
                  NNG_ENOENT);
        EXPECT_EQ(nng_tls_config_cert_key_file(c, path("subdir").c_str(), nullptr),
                  NNG_ESYSERR + EISDIR);
        EXPECT_EQ(nng_tls_config_cert_key_file(c, nullptr, nullptr), NNG_EINVAL);
        EXPECT_TRUE(queue_empty());
        SSL_CTX* ctx = c.use();
        ASSERT_NE(SSL_CTX_get0_certificate(ctx), nullptr);
        EXPECT_EQ(SSL_CTX_check_private_key(ctx), 1);
    }
}

// ---- versions ------------------------------------------------------------

TEST_F(TlsConfig, VersionRange) {
    struct row {
        int lo, hi, ossl_lo, ossl_hi;
    };
    const row rows[] = {
        {NNG_TLS_1_2, NNG_TLS_1_3, TLS1_2_VERSION, TLS1_3_VERSION},
        {NNG_TLS_1_2, NNG_TLS_1_2, TLS1_2_VERSION, TLS1_2_VERSION},
        {NNG_TLS_1_3, NNG_TLS_1_3, TLS1_3_VERSION, TLS1_3_VERSION}, // NNG 1.5.2: ENOTSUP
        {NNG_TLS_1_0, NNG_TLS_1_1, TLS1_VERSION, TLS1_1_VERSION},
    };
    for (const auto& r : rows) {
        config* c = nullptr;
        ASSERT_EQ(config::create(mode::client, c), 0);
        EXPECT_EQ(c->set_version(r.lo, r.hi), 0);
        SSL_CTX* ctx = c->use();
        EXPECT_EQ(SSL_CTX_get_min_proto_version(ctx), r.ossl_lo);
        EXPECT_EQ(SSL_CTX_get_max_proto_version(ctx), r.ossl_hi);
        c->release();
    }
}

TEST_F(TlsConfig, VersionRefusesEmptyOrUnknownRanges) {
    cfg_box c(NNG_TLS_MODE_SERVER);
    const int bad[][2] = {{NNG_TLS_1_3, NNG_TLS_1_2}, {0x300, NNG_TLS_1_2}, {0, NNG_TLS_1_2},
                          {NNG_TLS_1_2, 0x305},       {0x305, 0x306},       {-1, NNG_TLS_1_2}};
    for (const auto& b : bad) {
        EXPECT_EQ(nng_tls_config_version(c, static_cast<nng_tls_version>(b[0]),
                                         static_cast<nng_tls_version>(b[1])),
                  NNG_ENOTSUP)
            << std::hex << b[0] << ".." << b[1];
    }
    SSL_CTX* ctx = c.use();
    EXPECT_EQ(SSL_CTX_get_min_proto_version(ctx), TLS1_2_VERSION);
    EXPECT_EQ(SSL_CTX_get_max_proto_version(ctx), TLS1_3_VERSION);
}

// ---- NNG's never-implemented setters and the engine ------------------------

TEST_F(TlsConfig, KeyAndPassAreNotSupported) {
    cfg_box c(NNG_TLS_MODE_SERVER);
    const std::string key = pem("server.key");
    EXPECT_EQ(nng_tls_config_key(c, reinterpret_cast<const uint8_t*>(key.data()), key.size()),
              NNG_ENOTSUP);
    EXPECT_EQ(nng_tls_config_pass(c, "secret"), NNG_ENOTSUP);
}

TEST_F(TlsConfig, Engine) {
    EXPECT_STREQ(nng_tls_engine_name(), "openssl");
    EXPECT_STREQ(nng_tls_engine_description(), OpenSSL_version(OPENSSL_VERSION));
    EXPECT_EQ(std::string(nng_tls_engine_description()).rfind("OpenSSL 3", 0), 0u);
    EXPECT_EQ(nng_tls_engine_fips_mode(), EVP_default_properties_is_fips_enabled(nullptr) != 0);
}

// ---- cipher suites (beyond NNG) -------------------------------------------

// Only AEAD suites with forward secrecy by default, for clients and
// servers: ECDHE with AES-GCM or ChaCha20-Poly1305 at TLS 1.2 (no CBC, no
// static RSA, no DHE), OpenSSL's three at TLS 1.3.
TEST_F(TlsConfig, DefaultSuitesAreAeadWithEcdheOnly) {
    for (auto m : {NNG_TLS_MODE_CLIENT, NNG_TLS_MODE_SERVER}) {
        cfg_box c(m);
        STACK_OF(SSL_CIPHER)* list = SSL_CTX_get_ciphers(c.use());
        int tls12 = 0;
        int tls13 = 0;
        for (int i = 0; i < sk_SSL_CIPHER_num(list); i++) {
            const SSL_CIPHER* s = sk_SSL_CIPHER_value(list, i);
            std::string n = SSL_CIPHER_get_name(s);
            EXPECT_EQ(SSL_CIPHER_is_aead(s), 1) << n;
            if (is_tls13(s)) {
                tls13++;
            } else {
                tls12++;
                EXPECT_EQ(SSL_CIPHER_get_kx_nid(s), NID_kx_ecdhe) << n;
                EXPECT_TRUE(n.find("GCM") != std::string::npos ||
                            n.find("CHACHA20") != std::string::npos)
                    << n;
            }
        }
        EXPECT_EQ(tls12, 6);
        EXPECT_EQ(tls13, 3);
        EXPECT_EQ(suites(c.use(), true),
                  "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256")
            << "TLS 1.3 as OpenSSL has it";
    }
}

TEST_F(TlsConfig, SetCiphersReplacesEitherList) {
    cfg_box c(NNG_TLS_MODE_SERVER);
    config* o = c.obj();
    ASSERT_EQ(o->set_ciphers("ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-SHA", nullptr), 0);
    EXPECT_EQ(suites(c.use(), false), "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-SHA");
    EXPECT_EQ(suites(c.use(), true),
              "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256")
        << "TLS 1.3 untouched";
    EXPECT_TRUE(queue_empty());

    cfg_box d(NNG_TLS_MODE_CLIENT);
    ASSERT_EQ(d.obj()->set_ciphers(nullptr, "TLS_CHACHA20_POLY1305_SHA256"), 0);
    EXPECT_EQ(suites(d.use(), true), "TLS_CHACHA20_POLY1305_SHA256");
    EXPECT_EQ(suites(d.use(), false), suite_names(nnghttp::detail::tls::default_tls12_ciphers))
        << "TLS 1.2 untouched";

    cfg_box e(NNG_TLS_MODE_CLIENT);
    ASSERT_EQ(e.obj()->set_ciphers("ECDHE-RSA-AES256-GCM-SHA384", ""), 0);
    EXPECT_EQ(suites(e.use(), true), "") << "no TLS 1.3 suite";
    EXPECT_EQ(suites(e.use(), false), "ECDHE-RSA-AES256-GCM-SHA384");
}

TEST_F(TlsConfig, SetCiphersRefusesWhatSelectsNothingAndKeepsWhatItHad) {
    cfg_box c(NNG_TLS_MODE_SERVER);
    config* o = c.obj();
    EXPECT_EQ(o->set_ciphers(nullptr, nullptr), NNG_EINVAL);
    EXPECT_EQ(o->set_ciphers("", nullptr), NNG_EINVAL) << "TLS 1.2 with no suite";
    EXPECT_EQ(o->set_ciphers("NO-SUCH-CIPHER", nullptr), NNG_EINVAL);
    EXPECT_TRUE(queue_empty());
    EXPECT_EQ(o->set_ciphers("ECDHE-ECDSA-AES128-SHA", "TLS_NO_SUCH_SUITE"), NNG_EINVAL)
        << "one bad list refuses both";
    EXPECT_EQ(o->set_ciphers("TLS_NO_SUCH_SUITE", "TLS_AES_128_GCM_SHA256"), NNG_EINVAL);
    EXPECT_TRUE(queue_empty());
    EXPECT_EQ(suites(c.use(), false), suite_names(nnghttp::detail::tls::default_tls12_ciphers));
    EXPECT_EQ(suites(c.use(), true),
              "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256");
}

// ---- frozen once used ----------------------------------------------------

TEST_F(TlsConfig, EverySetterIsBusyOnceUsed) {
    for (auto m : {NNG_TLS_MODE_CLIENT, NNG_TLS_MODE_SERVER}) {
        cfg_box c(m);
        ASSERT_EQ(nng_tls_config_server_name(c, "localhost"), 0);
        ASSERT_EQ(nng_tls_config_auth_mode(c, NNG_TLS_AUTH_MODE_OPTIONAL), 0);
        SSL_CTX* ctx = c.use();
        EXPECT_NE(ctx, nullptr);
        EXPECT_TRUE(c.obj()->frozen());
        EXPECT_EQ(c.use(), ctx); // using again is fine: the same context

        EXPECT_EQ(nng_tls_config_server_name(c, "other"), NNG_EBUSY);
        EXPECT_EQ(nng_tls_config_auth_mode(c, NNG_TLS_AUTH_MODE_NONE), NNG_EBUSY);
        EXPECT_EQ(nng_tls_config_auth_mode(c, static_cast<nng_tls_auth_mode>(9)), NNG_EBUSY);
        EXPECT_EQ(nng_tls_config_ca_chain(c, pem("ca.crt").c_str(), nullptr), NNG_EBUSY);
        EXPECT_EQ(nng_tls_config_ca_chain(c, "garbage", nullptr), NNG_EBUSY);
        EXPECT_EQ(nng_tls_config_own_cert(c, pem("server.crt").c_str(), pem("server.key").c_str(),
                                          nullptr),
                  NNG_EBUSY);
        EXPECT_EQ(nng_tls_config_ca_file(c, path("ca.crt").c_str()), NNG_EBUSY);
        EXPECT_EQ(nng_tls_config_cert_key_file(c, path("server.pem").c_str(), nullptr), NNG_EBUSY);
        // As NNG: the file is read first, so its own error comes first.
        EXPECT_EQ(nng_tls_config_ca_file(c, path("missing.pem").c_str()), NNG_ENOENT);
        EXPECT_EQ(nng_tls_config_cert_key_file(c, path("missing.pem").c_str(), nullptr),
                  NNG_ENOENT);
        EXPECT_EQ(nng_tls_config_version(c, NNG_TLS_1_2, NNG_TLS_1_2), NNG_EBUSY);
        EXPECT_EQ(nng_tls_config_version(c, NNG_TLS_1_3, NNG_TLS_1_2), NNG_EBUSY);
        EXPECT_EQ(c.obj()->set_ciphers("ECDHE-ECDSA-AES128-SHA", nullptr), NNG_EBUSY);
        EXPECT_EQ(c.obj()->set_ciphers(nullptr, "TLS_AES_128_GCM_SHA256"), NNG_EBUSY);

        // Nothing changed.
        EXPECT_EQ(c.obj()->server_name(), "localhost");
        EXPECT_EQ(c.obj()->auth_mode(), auth::optional);
        EXPECT_EQ(store_certs(ctx), 0);
        EXPECT_EQ(SSL_CTX_get0_certificate(ctx), nullptr);
        EXPECT_EQ(SSL_CTX_get_max_proto_version(ctx), TLS1_3_VERSION);
        EXPECT_EQ(suites(ctx, false),
                  TlsConfig::suite_names(nnghttp::detail::tls::default_tls12_ciphers));
        // References still work on a frozen configuration.
        nng_tls_config_hold(c);
        nng_tls_config_free(c);
    }
}

// ---- handshakes: the settings take effect ---------------------------------

struct handshake_result {
    bool ok = false;
    long client_verify = -1;
    long server_verify = -1;
    int version = 0;
    std::string cipher; // the suite agreed
};

// Runs a TLS handshake between a client and a server context over a
// memory BIO pair.
handshake_result handshake(SSL_CTX* cctx, SSL_CTX* sctx) {
    handshake_result r;
    SSL* c = SSL_new(cctx);
    SSL* s = SSL_new(sctx);
    BIO* cb = nullptr;
    BIO* sb = nullptr;
    if (c == nullptr || s == nullptr || BIO_new_bio_pair(&cb, 0, &sb, 0) != 1) {
        ADD_FAILURE() << "SSL_new or BIO_new_bio_pair failed";
        SSL_free(c);
        SSL_free(s);
        return r;
    }
    SSL_set_bio(c, cb, cb);
    SSL_set_bio(s, sb, sb);
    SSL_set_connect_state(c);
    SSL_set_accept_state(s);
    bool c_done = false;
    bool s_done = false;
    bool failed = false;
    for (int i = 0; i < 100 && !failed && !(c_done && s_done); i++) {
        for (auto [ssl, done] : {std::pair{c, &c_done}, std::pair{s, &s_done}}) {
            if (*done || failed) {
                continue;
            }
            int rv = SSL_do_handshake(ssl);
            if (rv == 1) {
                *done = true;
            } else {
                int e = SSL_get_error(ssl, rv);
                failed = e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE;
            }
        }
    }
    // In TLS 1.3 the server judges the client's certificate after the
    // client has finished; let the client see the server's verdict.
    if (!failed && c_done && s_done) {
        char b;
        int rv = SSL_peek(c, &b, 1);
        failed = rv <= 0 && SSL_get_error(c, rv) == SSL_ERROR_SSL;
    }
    r.ok = !failed && c_done && s_done;
    r.client_verify = SSL_get_verify_result(c);
    r.server_verify = SSL_get_verify_result(s);
    r.version = SSL_version(c);
    if (r.ok) {
        r.cipher = SSL_get_cipher_name(c);
    }
    SSL_free(c);
    SSL_free(s);
    ERR_clear_error();
    return r;
}

class TlsHandshake : public TlsConfig {
  protected:
    // A server presenting server.crt (or the given file) and a client.
    void SetUp() override {
        TlsConfig::SetUp();
        if (HasFatalFailure()) {
            return;
        }
        ASSERT_EQ(config::create(mode::server, server_), 0);
        ASSERT_EQ(config::create(mode::client, client_), 0);
    }
    void TearDown() override {
        if (server_ != nullptr) {
            server_->release();
        }
        if (client_ != nullptr) {
            client_->release();
        }
    }
    void serve(const char* cert_key_file) {
        ASSERT_EQ(server_->set_cert_key_file(path(cert_key_file).c_str(), nullptr), 0);
    }
    handshake_result run() { return handshake(client_->use(), server_->use()); }

    config* server_ = nullptr;
    config* client_ = nullptr;
};

TEST_F(TlsHandshake, ClientTrustingTheCaConnects) {
    serve("server.pem");
    ASSERT_EQ(client_->set_ca_file(path("ca.crt").c_str()), 0);
    auto r = run();
    EXPECT_TRUE(r.ok);
    EXPECT_EQ(r.client_verify, X509_V_OK);
    EXPECT_EQ(r.version, TLS1_3_VERSION);
}

TEST_F(TlsHandshake, ClientRefusesAnUntrustedServerByDefault) {
    serve("server.pem");
    auto r = run();
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.client_verify, X509_V_OK);
}

TEST_F(TlsHandshake, OptionalAndNoneLetAnUntrustedServerThrough) {
    serve("server.pem");
    ASSERT_EQ(client_->set_auth_mode(auth::optional), 0);
    auto r = run();
    EXPECT_TRUE(r.ok);
    EXPECT_NE(r.client_verify, X509_V_OK); // recorded for NNG_OPT_TLS_VERIFIED

    config* none = nullptr;
    ASSERT_EQ(config::create(mode::client, none), 0);
    ASSERT_EQ(none->set_auth_mode(auth::none), 0);
    EXPECT_TRUE(handshake(none->use(), server_->use()).ok);
    none->release();
}

TEST_F(TlsHandshake, ExpiredServerCertificateIsRefused) {
    std::string pem_cert = pem("expired.crt");
    ASSERT_EQ(server_->set_own_cert(pem_cert.c_str(), pem("server.key").c_str(), nullptr), 0);
    ASSERT_EQ(client_->set_ca_file(path("ca.crt").c_str()), 0);
    auto r = run();
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.client_verify, X509_V_ERR_CERT_HAS_EXPIRED);
}

TEST_F(TlsHandshake, RevokedServerCertificateIsRefused) {
    ASSERT_EQ(server_->set_own_cert(pem("revoked.crt").c_str(), pem("server.key").c_str(), nullptr),
              0);
    ASSERT_EQ(client_->set_ca_chain(pem("ca.crt").c_str(), pem("ca.crl").c_str()), 0);
    auto r = run();
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.client_verify, X509_V_ERR_CERT_REVOKED);
}

TEST_F(TlsHandshake, CrlOfOneCaDoesNotBlockAnother) {
    serve("server.pem");
    ASSERT_EQ(client_->set_ca_file(path("ca_crl.pem").c_str()), 0); // not revoked there
    EXPECT_TRUE(run().ok);

    config* c2 = nullptr;
    config* s2 = nullptr;
    ASSERT_EQ(config::create(mode::client, c2), 0);
    ASSERT_EQ(config::create(mode::server, s2), 0);
    ASSERT_EQ(c2->set_ca_file(path("ca_crl.pem").c_str()), 0);
    ASSERT_EQ(c2->set_ca_chain(pem("ca2.crt").c_str(), nullptr), 0); // ca2 has no CRL
    ASSERT_EQ(s2->set_own_cert(pem("ca2_server.crt").c_str(), pem("server.key").c_str(), nullptr),
              0);
    auto r = handshake(c2->use(), s2->use());
    EXPECT_TRUE(r.ok);
    EXPECT_EQ(r.client_verify, X509_V_OK);
    c2->release();
    s2->release();
}

// A trusted intermediate is a trust anchor, as in mbedTLS: the root need
// not be configured.
TEST_F(TlsHandshake, TrustedIntermediateIsEnough) {
    ASSERT_EQ(
        server_->set_own_cert(pem("inter_server.crt").c_str(), pem("server.key").c_str(), nullptr),
        0);
    ASSERT_EQ(client_->set_ca_file(path("inter.crt").c_str()), 0);
    auto r = run();
    EXPECT_TRUE(r.ok);
    EXPECT_EQ(r.client_verify, X509_V_OK);
}

TEST_F(TlsHandshake, ServerRequiringAClientCertificate) {
    serve("server.pem");
    ASSERT_EQ(client_->set_ca_file(path("ca.crt").c_str()), 0);
    ASSERT_EQ(server_->set_ca_file(path("ca.crt").c_str()), 0);
    ASSERT_EQ(server_->set_auth_mode(auth::required), 0);

    // No client certificate: refused.
    EXPECT_FALSE(run().ok);

    // With one signed by the CA: accepted and verified.
    config* c2 = nullptr;
    ASSERT_EQ(config::create(mode::client, c2), 0);
    ASSERT_EQ(c2->set_ca_file(path("ca.crt").c_str()), 0);
    ASSERT_EQ(c2->set_cert_key_file(path("server.pem").c_str(), nullptr), 0);
    auto r = handshake(c2->use(), server_->use());
    EXPECT_TRUE(r.ok);
    EXPECT_EQ(r.server_verify, X509_V_OK);
    c2->release();
}

TEST_F(TlsHandshake, VersionLimitsAreApplied) {
    serve("server.pem");
    ASSERT_EQ(client_->set_ca_file(path("ca.crt").c_str()), 0);
    ASSERT_EQ(client_->set_version(NNG_TLS_1_2, NNG_TLS_1_2), 0);
    auto r = run();
    EXPECT_TRUE(r.ok);
    EXPECT_EQ(r.version, TLS1_2_VERSION);

    config* c2 = nullptr;
    config* s2 = nullptr;
    ASSERT_EQ(config::create(mode::client, c2), 0);
    ASSERT_EQ(config::create(mode::server, s2), 0);
    ASSERT_EQ(c2->set_ca_file(path("ca.crt").c_str()), 0);
    ASSERT_EQ(c2->set_version(NNG_TLS_1_3, NNG_TLS_1_3), 0);
    ASSERT_EQ(s2->set_cert_key_file(path("server.pem").c_str(), nullptr), 0);
    ASSERT_EQ(s2->set_version(NNG_TLS_1_2, NNG_TLS_1_2), 0);
    EXPECT_FALSE(handshake(c2->use(), s2->use()).ok);
    c2->release();
    s2->release();
}

// A context OpenSSL makes itself (not from a configuration), for a peer
// that offers exactly the suites in list at TLS 1.2, trusting the test CA.
SSL_CTX* tls12_client(const char* list) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    EXPECT_NE(ctx, nullptr);
    EXPECT_EQ(SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION), 1);
    EXPECT_EQ(SSL_CTX_set_cipher_list(ctx, list), 1);
    EXPECT_EQ(SSL_CTX_load_verify_locations(ctx, material::get().path("ca.crt").c_str(), nullptr),
              1);
    return ctx;
}

// A client offering only CBC suites at TLS 1.2 (OpenSSL's default list
// has them, ECDHE and static RSA) finds none our server accepts; one
// offering AEAD suites gets the server's pick of them.
TEST_F(TlsHandshake, ClientsOfferingOnlyCbcSuitesAreRefused) {
    serve("server.pem"); // an EC key
    for (const char* cbc : {"ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES256-SHA384",
                            "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA",
                            "AES128-SHA:AES256-SHA:AES128-SHA256:AES256-SHA256"}) {
        SSL_CTX* c = tls12_client(cbc);
        EXPECT_FALSE(handshake(c, server_->use()).ok) << cbc;
        SSL_CTX_free(c);
    }
    for (const char* aead : {"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
                             "ECDHE-ECDSA-CHACHA20-POLY1305"}) {
        SSL_CTX* c = tls12_client(aead);
        auto r = handshake(c, server_->use());
        EXPECT_TRUE(r.ok) << aead;
        EXPECT_EQ(r.version, TLS1_2_VERSION);
        EXPECT_EQ(r.cipher, aead);
        SSL_CTX_free(c);
    }
    // And TLS 1.3 is as before.
    ASSERT_EQ(client_->set_ca_file(path("ca.crt").c_str()), 0);
    auto r = run();
    EXPECT_TRUE(r.ok);
    EXPECT_EQ(r.version, TLS1_3_VERSION);
    EXPECT_EQ(r.cipher, "TLS_AES_256_GCM_SHA384");
}

// Our client offers AEAD suites only too: a server that accepts nothing
// else at TLS 1.2 than a CBC suite has nothing in common with it.
TEST_F(TlsHandshake, OurClientOffersNoCbcSuite) {
    SSL_CTX* s = SSL_CTX_new(TLS_server_method());
    ASSERT_NE(s, nullptr);
    ASSERT_EQ(SSL_CTX_set_max_proto_version(s, TLS1_2_VERSION), 1);
    ASSERT_EQ(SSL_CTX_set_cipher_list(s, "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES128-SHA256"), 1);
    ASSERT_EQ(SSL_CTX_use_certificate_chain_file(s, path("server.crt").c_str()), 1);
    ASSERT_EQ(SSL_CTX_use_PrivateKey_file(s, path("server.key").c_str(), SSL_FILETYPE_PEM), 1);
    ASSERT_EQ(client_->set_ca_file(path("ca.crt").c_str()), 0);
    EXPECT_FALSE(handshake(client_->use(), s).ok);
    SSL_CTX_free(s);
}

// What set_ciphers names is what is agreed: a server configured for one
// suite gets it from any client that offers it, a CBC suite among them if
// it is configured, and loses the clients that do not offer it.
TEST_F(TlsHandshake, ConfiguredSuitesTakeEffect) {
    serve("server.pem");
    ASSERT_EQ(server_->set_ciphers("ECDHE-ECDSA-CHACHA20-POLY1305", "TLS_CHACHA20_POLY1305_SHA256"),
              0);
    ASSERT_EQ(client_->set_ca_file(path("ca.crt").c_str()), 0);
    auto r = run(); // our client: both of those are among its defaults
    EXPECT_TRUE(r.ok);
    EXPECT_EQ(r.version, TLS1_3_VERSION);
    EXPECT_EQ(r.cipher, "TLS_CHACHA20_POLY1305_SHA256");

    SSL_CTX* c = tls12_client("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305");
    r = handshake(c, server_->use());
    EXPECT_TRUE(r.ok);
    EXPECT_EQ(r.cipher, "ECDHE-ECDSA-CHACHA20-POLY1305");
    SSL_CTX_free(c);
    c = tls12_client("ECDHE-ECDSA-AES128-GCM-SHA256");
    EXPECT_FALSE(handshake(c, server_->use()).ok) << "not configured";
    SSL_CTX_free(c);

    // A CBC suite, when asked for by name, is accepted (and offered).
    config* s2 = nullptr;
    config* c2 = nullptr;
    ASSERT_EQ(config::create(mode::server, s2), 0);
    ASSERT_EQ(config::create(mode::client, c2), 0);
    ASSERT_EQ(s2->set_cert_key_file(path("server.pem").c_str(), nullptr), 0);
    ASSERT_EQ(s2->set_ciphers("ECDHE-ECDSA-AES128-SHA", nullptr), 0);
    ASSERT_EQ(c2->set_ca_file(path("ca.crt").c_str()), 0);
    ASSERT_EQ(c2->set_version(NNG_TLS_1_2, NNG_TLS_1_2), 0);
    EXPECT_FALSE(handshake(c2->use(), s2->use()).ok) << "our client offers no CBC suite";
    c2->release();
    ASSERT_EQ(config::create(mode::client, c2), 0);
    ASSERT_EQ(c2->set_ca_file(path("ca.crt").c_str()), 0);
    ASSERT_EQ(c2->set_version(NNG_TLS_1_2, NNG_TLS_1_2), 0);
    ASSERT_EQ(c2->set_ciphers("ECDHE-ECDSA-AES128-SHA", nullptr), 0);
    r = handshake(c2->use(), s2->use());
    EXPECT_TRUE(r.ok);
    EXPECT_EQ(r.cipher, "ECDHE-ECDSA-AES128-SHA");
    c2->release();
    s2->release();
}

} // namespace
