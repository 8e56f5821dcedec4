// nnghttp: the whole C++ API.
//
//   #include <nnghttp/nnghttp.hpp>
//
// See README.md for a tour; each header documents its part.
#pragma once

#include <nnghttp/aio.hpp>
#include <nnghttp/config.hpp>
#include <nnghttp/error.hpp>
#include <nnghttp/http.hpp>
#include <nnghttp/message.hpp>
#include <nnghttp/stream.hpp>
#include <nnghttp/task.hpp>
#include <nnghttp/tls.hpp>
#include <nnghttp/url.hpp>
