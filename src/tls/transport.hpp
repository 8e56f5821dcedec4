// tls+tcp://, tls+tcp4://, tls+tcp6:// dialers and listeners: the TCP ones
// underneath, each new stream wrapped in a tls_stream.  A dial or accept
// completes when TCP connects and the handshake starts at once, in the
// background; a failed verification shows on the first send or receive.
//
// Options (NNG's): NNG_OPT_TLS_CONFIG (get: the config, held by the caller
// only as long as the endpoint; set: replaces it, holding the new one),
// and the write-only conveniences NNG_OPT_TLS_SERVER_NAME,
// NNG_OPT_TLS_AUTH_MODE, NNG_OPT_TLS_CA_FILE, NNG_OPT_TLS_CERT_KEY_FILE that
// change the current config.  Anything else goes to the TCP endpoint.  A
// dialer's default config is a client one (peer verified) naming the URL's
// host; a listener's a server one.
//
// make_any_dialer / make_any_listener: these schemes, else the stream
// layer's (tcp, ipc, ...).
#pragma once

#include "stream/stream.hpp"
#include "tls/config.hpp"

namespace nnghttp::detail::tls {

int make_any_dialer(const nng_url& url, stream_dialer*& out);
int make_any_listener(const nng_url& url, stream_listener*& out);

// For https: wraps plain endpoints with TLS using cfg (held).
int wrap_dialer(stream_dialer* tcp, config* cfg, const std::string& host, stream_dialer*& out);
int wrap_listener(stream_listener* tcp, config* cfg, stream_listener*& out);

} // namespace nnghttp::detail::tls
