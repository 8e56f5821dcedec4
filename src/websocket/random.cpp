#include "websocket/random.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

namespace nnghttp::detail::ws {

std::optional<mask_key> random_mask_key() noexcept {
    mask_key k;
    if (RAND_bytes(k.data(), int(k.size())) != 1) {
        return std::nullopt;
    }
    return k;
}

std::string random_handshake_key() {
    unsigned char nonce[16];
    if (RAND_bytes(nonce, sizeof nonce) != 1) {
        return {};
    }
    unsigned char text[25]; // 24 characters and a NUL
    const int n = EVP_EncodeBlock(text, nonce, sizeof nonce);
    return std::string(reinterpret_cast<const char*>(text), std::size_t(n));
}

} // namespace nnghttp::detail::ws
