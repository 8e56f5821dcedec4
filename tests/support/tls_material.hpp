// Certificates for the TLS tests, made once per test process with the
// openssl command in a fresh temporary directory (no key is kept in the
// tree).  Shared by tests/unit/tls/*_test.cpp.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>
#include <string>
#include <unistd.h>

namespace nnghttp::detail::test {

namespace fs = std::filesystem;

// The material, made once per test process.
//   ca.crt/.key        a CA (EC P-256)
//   ca.crl             its revocation list, revoking revoked.crt
//   server.crt/.key    signed by the CA, CN and SAN localhost, SAN 127.0.0.1
//   server_enc.key     server.key encrypted (AES-256, password "secret")
//   expired.crt        server.key's certificate, valid for a day in 2020
//   revoked.crt        server.key's certificate, revoked in ca.crl
//   other.key          an unrelated key
//   weak.pem           a self-signed RSA-1024 certificate and its key
//   ca2.crt, ca2_server.crt   a second CA without a CRL, and a certificate
//                      for server.key it signed
//   inter.crt, inter_server.crt   an intermediate CA signed by ca, and a
//                      certificate for server.key it signed
//   *.pem              concatenations (see make())
class material {
  public:
    static material& get() {
        static material m;
        return m;
    }
    std::string path(const std::string& name) const { return (dir_ / name).string(); }
    std::string read(const std::string& name) const {
        std::ifstream in(path(name), std::ios::binary);
        std::ostringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
    bool ok() const { return ok_; }
    ~material() {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }

  private:
    material() {
        std::string tmpl = (fs::temp_directory_path() / "nnghttp-tls-XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr) {
            return;
        }
        dir_ = tmpl;
        ok_ = make();
    }

    bool run(const std::string& cmd) {
        std::string full = "cd '" + dir_.string() + "' && { " + cmd + " ; } >/dev/null 2>&1";
        if (std::system(full.c_str()) != 0) {
            ADD_FAILURE() << "certificate setup failed: " << cmd;
            return false;
        }
        return true;
    }

    bool sign(const std::string& ca, const std::string& csr, const std::string& out,
              const std::string& dates) {
        return run("openssl ca -batch -config ca.cnf -cert " + ca + ".crt -keyfile " + ca +
                   ".key -notext " + dates + " -in " + csr + " -out " + out);
    }

    bool make() {
        const std::string ec_key = "openssl ecparam -name prime256v1 -genkey -noout -out ";
        const std::string ca_ext = " -addext basicConstraints=critical,CA:TRUE"
                                   " -addext keyUsage=critical,keyCertSign,cRLSign";
        return run("printf '%s\\n' '[ca]' 'default_ca = ca_sect' '[ca_sect]' 'dir = .'"
                   " 'database = index.txt' 'new_certs_dir = .' 'serial = serial'"
                   " 'crlnumber = crlnumber' 'default_md = sha256' 'policy = pol'"
                   " 'copy_extensions = copy' 'default_crl_days = 30' 'unique_subject = no'"
                   " '[pol]' 'commonName = supplied' > ca.cnf"
                   " && touch index.txt && echo 1000 > serial && echo 1000 > crlnumber") &&
               run(ec_key + "ca.key") &&
               run("openssl req -x509 -new -key ca.key -subj /CN=test-ca -days 30 -out ca.crt" +
                   ca_ext) &&
               run(ec_key + "ca2.key") &&
               run("openssl req -x509 -new -key ca2.key -subj /CN=test-ca2 -days 30 -out ca2.crt" +
                   ca_ext) &&
               run(ec_key + "server.key") && run(ec_key + "other.key") &&
               run("openssl req -new -key server.key -subj /CN=localhost"
                   " -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -out server.csr") &&
               sign("ca", "server.csr", "server.crt", "-days 30") &&
               sign("ca", "server.csr", "expired.crt",
                    "-startdate 20200101000000Z -enddate 20200102000000Z") &&
               sign("ca", "server.csr", "revoked.crt", "-days 30") &&
               sign("ca2", "server.csr", "ca2_server.crt", "-days 30") &&
               run(ec_key + "inter.key") &&
               run("openssl req -new -key inter.key -subj /CN=test-intermediate -out inter.csr" +
                   ca_ext) &&
               sign("ca", "inter.csr", "inter.crt", "-days 30") &&
               sign("inter", "server.csr", "inter_server.crt", "-days 30") &&
               run("openssl ca -batch -config ca.cnf -cert ca.crt -keyfile ca.key"
                   " -revoke revoked.crt") &&
               run("openssl ca -batch -config ca.cnf -cert ca.crt -keyfile ca.key -gencrl"
                   " -out ca.crl") &&
               run("openssl req -x509 -newkey rsa:1024 -nodes -keyout weak.key -out weak.crt"
                   " -subj /CN=weak -days 30 && cat weak.crt weak.key > weak.pem") &&
               run("openssl ec -in server.key -aes256 -passout pass:secret -out server_enc.key") &&
               run("cat server.crt server.key > server.pem"
                   " && cat server.crt server_enc.key > server_enc.pem"
                   " && cat server.crt ca.crt > server_chain.pem"
                   " && cat ca.crt ca.crl > ca_crl.pem && cat ca.crt ca2.crt > two_cas.pem"
                   " && cat server.crt other.key > mismatched.pem"
                   " && cat expired.crt server.key > expired.pem"
                   " && printf 'not a certificate\\n' > garbage.pem && : > empty.pem"
                   " && mkdir subdir");
    }

    fs::path dir_;
    bool ok_ = false;
};

} // namespace nnghttp::detail::test
