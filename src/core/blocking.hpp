// Calls that may block (the file system: open, stat, realpath on a slow or
// stuck mount, a FIFO) must not run on an event loop, whose every other
// connection would wait behind them.  run_blocking hands such a call to a
// small set of threads kept for the purpose; the caller posts its own
// continuation back to its loop when the call is done.
//
// The threads start on first use (at most blocking_threads, one more per
// call waiting while all are busy) and live for the whole process, like
// the aio expiry threads.  In thread-free mode (loop::thread_free) there
// are none: the call runs right here, on the application's thread, which
// is the mode's bargain.
#pragma once

namespace nnghttp::detail {

inline constexpr unsigned blocking_threads = 4;

// Runs fn(arg) on a blocking-call thread (in order of submission, several
// at once).  fn must not throw.
void run_blocking(void (*fn)(void*), void* arg);

} // namespace nnghttp::detail
