// Fresh masking keys and handshake nonces, drawn from OpenSSL's random
// generator (RAND_bytes).  RFC 6455 section 10.3: a client's masking keys
// must be unpredictable to the applications it carries data for, so they
// come from a strong source, one new key per frame; section 4.1 asks the
// same of the Sec-WebSocket-Key nonce.  Kept apart from the pure code so
// that the decoder and encoder need no OpenSSL.
#pragma once

#include "websocket/frame.hpp"

#include <optional>
#include <string>

namespace nnghttp::detail::ws {

// A new masking key; nullopt if OpenSSL's generator fails.
std::optional<mask_key> random_mask_key() noexcept;

// A new Sec-WebSocket-Key: the base64 of 16 random bytes (24 characters).
// Empty if OpenSSL's generator fails.
std::string random_handshake_key();

} // namespace nnghttp::detail::ws
