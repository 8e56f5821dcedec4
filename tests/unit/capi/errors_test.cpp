// nng_strerror, nng_version and the allocation helpers.  Every expected
// text is what NNG 1.5.2 prints for the same value (tests/compat/errors.c
// compares the two libraries directly).
#include <cerrno>
#include <climits>
#include <cstring>
#include <gtest/gtest.h>
#include <nng/nng.h>
#include <string>
#include <thread>

namespace {

struct code_text {
    int code;
    const char* text;
};

constexpr code_text nng_texts[] = {
    {0, "Hunky dory"},
    {NNG_EINTR, "Interrupted"},
    {NNG_ENOMEM, "Out of memory"},
    {NNG_EINVAL, "Invalid argument"},
    {NNG_EBUSY, "Resource busy"},
    {NNG_ETIMEDOUT, "Timed out"},
    {NNG_ECONNREFUSED, "Connection refused"},
    {NNG_ECLOSED, "Object closed"},
    {NNG_EAGAIN, "Try again"},
    {NNG_ENOTSUP, "Not supported"},
    {NNG_EADDRINUSE, "Address in use"},
    {NNG_ESTATE, "Incorrect state"},
    {NNG_ENOENT, "Entry not found"},
    {NNG_EPROTO, "Protocol error"},
    {NNG_EUNREACHABLE, "Destination unreachable"},
    {NNG_EADDRINVAL, "Address invalid"},
    {NNG_EPERM, "Permission denied"},
    {NNG_EMSGSIZE, "Message too large"},
    {NNG_ECONNABORTED, "Connection aborted"},
    {NNG_ECONNRESET, "Connection reset"},
    {NNG_ECANCELED, "Operation canceled"},
    {NNG_ENOFILES, "Out of files"},
    {NNG_ENOSPC, "Out of space"},
    {NNG_EEXIST, "Resource already exists"},
    {NNG_EREADONLY, "Read only resource"},
    {NNG_EWRITEONLY, "Write only resource"},
    {NNG_ECRYPTO, "Cryptographic error"},
    {NNG_EPEERAUTH, "Peer could not be authenticated"},
    {NNG_ENOARG, "Option requires argument"},
    {NNG_EAMBIGUOUS, "Ambiguous option"},
    {NNG_EBADTYPE, "Incorrect type"},
    {NNG_ECONNSHUT, "Connection shutdown"},
    {NNG_EINTERNAL, "Internal error detected"},
};

TEST(Strerror, EveryNngErrorValue) {
    for (const auto& ct : nng_texts) {
        EXPECT_STREQ(nng_strerror(ct.code), ct.text) << ct.code;
    }
}

TEST(Strerror, ValuesAreNngs) {
    // The enum values are NNG's ABI.
    EXPECT_EQ(NNG_ECANCELED, 20);
    EXPECT_EQ(NNG_ECONNSHUT, 31);
    EXPECT_EQ(NNG_EINTERNAL, 1000);
    EXPECT_EQ(NNG_ESYSERR, 0x10000000);
    EXPECT_EQ(NNG_ETRANERR, 0x20000000);
}

TEST(Strerror, UnknownValues) {
    EXPECT_STREQ(nng_strerror(32), "Unknown error #32");
    EXPECT_STREQ(nng_strerror(999), "Unknown error #999");
    EXPECT_STREQ(nng_strerror(1001), "Unknown error #1001");
    EXPECT_STREQ(nng_strerror(0x40000000), "Unknown error #1073741824");
    EXPECT_STREQ(nng_strerror(INT_MIN), "Unknown error #-2147483648");
}

TEST(Strerror, NegativeValuesHaveTheSysErrBitSet) {
    // -1 is 0xffffffff: NNG 1.5.2 treats it as NNG_ESYSERR plus a huge
    // errno and prints the C library's text for what is left.
    EXPECT_STREQ(nng_strerror(-1), "Unknown error -268435457");
    EXPECT_STREQ(nng_strerror(-3), "Unknown error -268435459");
    EXPECT_STREQ(nng_strerror(-1000), "Unknown error -268436456");
}

TEST(Strerror, SysErrIsTheSystemText) {
    for (int e : {EPERM, ENOENT, EINTR, EACCES, ECONNRESET, EPIPE, EMFILE}) {
        EXPECT_STREQ(nng_strerror(NNG_ESYSERR + e), std::strerror(e)) << e;
    }
    EXPECT_STREQ(nng_strerror(NNG_ESYSERR), "Success");
    EXPECT_STREQ(nng_strerror(NNG_ESYSERR + 9999), "Unknown error 9999");
}

TEST(Strerror, TransportErrors) {
    EXPECT_STREQ(nng_strerror(NNG_ETRANERR), "Transport error #0");
    EXPECT_STREQ(nng_strerror(NNG_ETRANERR + 1), "Transport error #1");
    EXPECT_STREQ(nng_strerror(NNG_ETRANERR + 42), "Transport error #42");
    EXPECT_STREQ(nng_strerror(NNG_ETRANERR + 0x0fffffff), "Transport error #268435455");
}

TEST(Strerror, BothHighBitsFollowNng) {
    // ESYSERR wins over ETRANERR, and the value loses one more ESYSERR.
    EXPECT_STREQ(nng_strerror(NNG_ETRANERR + NNG_ESYSERR + 3), "Unknown error 268435459");
    EXPECT_STREQ(nng_strerror(INT_MAX), "Unknown error 1610612735");
}

TEST(Strerror, FormattedTextIsPerThread) {
    // nng-http formats into a per-thread buffer: another thread's call does
    // not overwrite the text this thread holds.
    const char* mine = nng_strerror(NNG_ETRANERR + 7);
    std::thread t([] { (void)nng_strerror(NNG_ETRANERR + 8); });
    t.join();
    EXPECT_STREQ(mine, "Transport error #7");
}

TEST(Version, IsNngApiLevel) {
    EXPECT_STREQ(nng_version(), "1.5.2");
    std::string v = std::to_string(NNG_MAJOR_VERSION) + "." + std::to_string(NNG_MINOR_VERSION) +
                    "." + std::to_string(NNG_PATCH_VERSION);
    EXPECT_EQ(v, nng_version());
}

TEST(Alloc, ZeroIsNull) {
    EXPECT_EQ(nng_alloc(0), nullptr);
}

TEST(Alloc, UsableAndFreed) {
    auto* p = static_cast<unsigned char*>(nng_alloc(100));
    ASSERT_NE(p, nullptr);
    std::memset(p, 0xa5, 100);
    EXPECT_EQ(p[99], 0xa5);
    nng_free(p, 100);
    nng_free(nullptr, 0); // harmless
}

TEST(Alloc, FreeIgnoresSize) {
    void* p = nng_alloc(16);
    ASSERT_NE(p, nullptr);
    nng_free(p, 0);
}

TEST(Strdup, CopiesIntoNewMemory) {
    const char src[] = "hello, world";
    char* d = nng_strdup(src);
    ASSERT_NE(d, nullptr);
    EXPECT_NE(d, src);
    EXPECT_STREQ(d, src);
    d[0] = 'H';
    EXPECT_STREQ(src, "hello, world");
    nng_strfree(d);
}

TEST(Strdup, EmptyString) {
    char* d = nng_strdup("");
    ASSERT_NE(d, nullptr);
    EXPECT_STREQ(d, "");
    nng_strfree(d);
}

TEST(Strdup, NullGivesNull) {
    // An extension (NNG crashes): documented in src/capi/errors_c.cpp.
    EXPECT_EQ(nng_strdup(nullptr), nullptr);
    nng_strfree(nullptr);
}

} // namespace
