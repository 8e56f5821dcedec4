// IPC transport (ipc://path, unix://path, abstract://name) entry points.
#pragma once

#include "stream/stream.hpp"

namespace nnghttp::detail {

int make_ipc_dialer(const nng_url& url, stream_dialer*& out);
int make_ipc_listener(const nng_url& url, stream_listener*& out);

} // namespace nnghttp::detail
