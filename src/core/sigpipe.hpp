// Writes that cannot ask the kernel not to raise SIGPIPE.
//
// A send(2) or sendmsg(2) to a socket whose peer is gone takes
// MSG_NOSIGNAL; sendfile(2) has no such flag, and its EPIPE comes with a
// SIGPIPE aimed at the calling thread, whose default action ends the
// process.  The library must neither die of that nor change the process's
// signal dispositions, which belong to the application.  A signal mask is
// per thread, though, so:
//  * the library's own loop threads block SIGPIPE once, when they start
//    (block_sigpipe_here): a SIGPIPE they raise stays pending on them,
//    never delivered, and costs nothing per write;
//  * any other thread (the application's, in thread-free mode or when it
//    starts a send itself) wraps each such write in a sigpipe_shield,
//    which blocks SIGPIPE for the call, takes back a signal that became
//    pending during it (only if none was pending before: one the
//    application sent itself is left alone), and restores the mask.  Not
//    only a failed call raises it: sendfile moves a file in pieces, and one
//    that meets the peer's reset after the first piece returns the count
//    it moved, with SIGPIPE raised all the same.
#pragma once

#include <csignal>

namespace nnghttp::detail {

// Blocks SIGPIPE in the calling thread for good; for the library's threads.
void block_sigpipe_here() noexcept;

class sigpipe_shield {
  public:
    sigpipe_shield() noexcept;
    ~sigpipe_shield();
    sigpipe_shield(const sigpipe_shield&) = delete;
    sigpipe_shield& operator=(const sigpipe_shield&) = delete;

  private:
    bool active_ = false;      // this thread's mask was changed
    bool was_pending_ = false; // a SIGPIPE was pending before the write
    sigset_t old_{};
};

} // namespace nnghttp::detail
