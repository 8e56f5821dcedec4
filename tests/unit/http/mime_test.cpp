// Media type table: the real /etc/mime.types, the loader, the built-in table.
#include "http/mime.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using namespace nnghttp::detail::http;

constexpr const char* system_file = "/etc/mime.types";

std::string lower(std::string s) {
    for (char& c : s) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return s;
}

// An independent reading of a mime.types file: extension -> first type.
std::map<std::string, std::string> read_reference(const std::string& path) {
    std::map<std::string, std::string> m;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        if (auto h = line.find('#'); h != std::string::npos) {
            line.erase(h);
        }
        std::istringstream words(line);
        std::string type, ext;
        if (!(words >> type) || type.find('/') == std::string::npos) {
            continue;
        }
        while (words >> ext) {
            if (ext.find('.') == std::string::npos && ext.size() <= mime_table::max_extension) {
                m.emplace(lower(ext), type);
            }
        }
    }
    return m;
}

bool have_system_file() {
    return std::filesystem::exists(system_file);
}

// A temporary file removed at scope exit.
struct temp_file {
    std::string path;
    explicit temp_file(const std::string& text) {
        path = (std::filesystem::temp_directory_path() /
                ("mime_test_" + std::to_string(::getpid()) + ".types"))
                   .string();
        std::ofstream(path, std::ios::binary) << text;
    }
    ~temp_file() { std::remove(path.c_str()); }
};

TEST(Mime, DefaultTableIsTheSystemFile) {
    if (!have_system_file()) {
        GTEST_SKIP() << "no " << system_file;
    }
    EXPECT_TRUE(default_mime_table_from_file());
    EXPECT_GT(default_mime_table().size(), 500u);
}

TEST(Mime, CommonTypesFromSystemFile) {
    if (!have_system_file()) {
        GTEST_SKIP() << "no " << system_file;
    }
    auto ref = read_reference(system_file);
    struct row {
        const char* name;
        const char* type;
    };
    // What Debian's media-types file says; each is also checked against the
    // file itself below, so a changed file shows up as a clear failure.
    const row rows[] = {
        {"index.html", "text/html"},
        {"INDEX.HTML", "text/html"},
        {"a.htm", "text/html"},
        {"style.css", "text/css"},
        {"app.js", "text/javascript"},
        {"mod.mjs", "text/javascript"},
        {"data.json", "application/json"},
        {"notes.txt", "text/plain"},
        {"logo.svg", "image/svg+xml"},
        {"pic.png", "image/png"},
        {"pic.PNG", "image/png"},
        {"photo.jpg", "image/jpeg"},
        {"photo.JPG", "image/jpeg"},
        {"photo.JpEg", "image/jpeg"},
        {"anim.gif", "image/gif"},
        {"pic.webp", "image/webp"},
        {"favicon.ico", "image/vnd.microsoft.icon"},
        {"mod.wasm", "application/wasm"},
        {"feed.xml", "application/xml"},
        {"doc.pdf", "application/pdf"},
        {"f.woff", "font/woff"},
        {"f.woff2", "font/woff2"},
        {"archive.tar.gz", "application/gzip"},
        {"/srv/www/a.b/c.d/page.html", "text/html"},
    };
    for (const row& r : rows) {
        SCOPED_TRACE(r.name);
        EXPECT_EQ(mime_type_for(r.name), r.type);
        std::string ext = lower(std::string(file_extension(r.name)));
        ASSERT_TRUE(ref.count(ext));
        EXPECT_EQ(ref[ext], r.type);
    }
}

TEST(Mime, EveryExtensionOfSystemFile) {
    if (!have_system_file()) {
        GTEST_SKIP() << "no " << system_file;
    }
    auto ref = read_reference(system_file);
    ASSERT_GT(ref.size(), 500u);
    EXPECT_EQ(default_mime_table().size(), ref.size());
    for (const auto& [ext, type] : ref) {
        SCOPED_TRACE(ext);
        EXPECT_EQ(mime_type_for("file." + ext), type);
        std::string upper = ext;
        for (char& c : upper) {
            if (c >= 'a' && c <= 'z') {
                c = static_cast<char>(c - 'a' + 'A');
            }
        }
        EXPECT_EQ(mime_type_for("dir/FILE." + upper), type);
        EXPECT_EQ(default_mime_table().find_extension(upper), type);
    }
}

TEST(Mime, UnknownAndMissingExtensions) {
    const char* names[] = {"",
                           "README",
                           "Makefile",
                           ".bashrc",
                           "dir/.hidden",
                           "file.",
                           "dir.d/file",
                           "a.zzqqxxyyw",
                           "x.",
                           "a.tar.zzqqxxy",
                           "/etc.d/passwd",
                           ".",
                           "..",
                           "a/",
                           "a.b/",
                           "a..",
                           "a.this-is-a-very-long-extension-"
                           "that-exceeds-the-limit-for-sure"};
    for (const char* n : names) {
        SCOPED_TRACE(n);
        EXPECT_EQ(mime_type_for(n), "application/octet-stream");
        EXPECT_EQ(content_type_for(n), "application/octet-stream");
    }
}

TEST(Mime, FileExtension) {
    struct row {
        const char* name;
        const char* ext;
    } rows[] = {
        {"a.html", "html"}, {"archive.tar.gz", "gz"},
        {".bashrc", ""},    {"x/.bashrc", ""},
        {"x/.a.b", "b"},    {"file.", ""},
        {"a.b/c", ""},      {"/p/q.R", "R"},
        {"noext", ""},      {"", ""},
        {"..", ""},         {"a..b", "b"},
    };
    for (const row& r : rows) {
        SCOPED_TRACE(r.name);
        EXPECT_EQ(file_extension(r.name), r.ext);
    }
}

TEST(Mime, ContentTypeCharset) {
    if (!have_system_file()) {
        GTEST_SKIP() << "no " << system_file;
    }
    struct row {
        const char* name;
        const char* ct;
    } rows[] = {
        {"a.html", "text/html; charset=utf-8"},
        {"a.css", "text/css; charset=utf-8"},
        {"a.js", "text/javascript; charset=utf-8"},
        {"a.txt", "text/plain; charset=utf-8"},
        {"a.svg", "image/svg+xml; charset=utf-8"},
        {"a.xml", "application/xml; charset=utf-8"},
        {"a.xhtml", "application/xhtml+xml; charset=utf-8"},
        {"a.json", "application/json"},
        {"a.png", "image/png"},
        {"a.pdf", "application/pdf"},
        {"a.wasm", "application/wasm"},
    };
    for (const row& r : rows) {
        SCOPED_TRACE(r.name);
        EXPECT_EQ(content_type_for(r.name), r.ct);
        // mime_type_for never adds parameters.
        std::string bare(r.ct);
        EXPECT_EQ(mime_type_for(r.name), bare.substr(0, bare.find(';')));
    }
}

TEST(Mime, IsText) {
    struct row {
        const char* type;
        bool text;
    } rows[] = {
        {"text/html", true},
        {"TEXT/plain", true},
        {"text/x-c", true},
        {"application/javascript", true},
        {"application/xml", true},
        {"image/svg+xml", true},
        {"application/xhtml+xml", true},
        {"application/atom+XML", true},
        {"application/json", false},
        {"application/ld+json", false},
        {"application/xml-dtd", false},
        {"image/png", false},
        {"application/octet-stream", false},
        {"text", false},
        {"", false},
        {"textual/html", false},
    };
    for (const row& r : rows) {
        SCOPED_TRACE(r.type);
        EXPECT_EQ(mime_is_text(r.type), r.text);
    }
}

TEST(Mime, LoaderParsesTempFile) {
    temp_file f("# a comment line\n"
                "\n"
                "   \t\n"
                "text/x-one\tone  ONEB\r\n"
                "image/x-two two # trailing comment three\n"
                "application/x-dup   one dup\n"
                "  text/x-indented  ind\n"
                "notatype ext1 ext2\n"
                "/nosub ext3\n"
                "nosup/ ext4\n"
                "application/x-dotted multi.part dotted\n"
                "application/x-long "
                "aaaaaaaaaabbbbbbbbbbccccccccccdd aaaaaaaaaabbbbbbbbbbccccccccccddd\n"
                "text/x-noext\n"
                "text/x-last last");
    auto t = mime_table::load(f.path);
    ASSERT_TRUE(t.has_value());
    struct row {
        const char* name;
        const char* type;
    } rows[] = {
        {"a.one", "text/x-one"},        // first type listed wins
        {"a.oneb", "text/x-one"},       // stored lower-cased
        {"a.ONEB", "text/x-one"},       //
        {"a.two", "image/x-two"},       //
        {"a.three", ""},                // in a comment
        {"a.dup", "application/x-dup"}, //
        {"a.ind", "text/x-indented"},   //
        {"a.ext1", ""},                 // not a media type
        {"a.ext3", ""},
        {"a.ext4", ""},
        {"a.dotted", "application/x-dotted"},
        {"a.part", ""}, // "multi.part" cannot match a last extension
        {"a.aaaaaaaaaabbbbbbbbbbccccccccccdd", "application/x-long"}, // 32 chars
        {"a.aaaaaaaaaabbbbbbbbbbccccccccccddd", ""},                  // 33 chars
        {"a.last", "text/x-last"},                                    // no final newline
        {"a.noext", ""},
        {"noext", ""},
    };
    for (const row& r : rows) {
        SCOPED_TRACE(r.name);
        EXPECT_EQ(t->find(r.name), r.type);
    }
    EXPECT_EQ(t->size(), 8u);
    EXPECT_EQ(t->find_content_type("x.one"), "text/x-one; charset=utf-8");
    EXPECT_EQ(t->find_content_type("x.two"), "image/x-two");
    EXPECT_EQ(t->find_extension("DoTtEd"), "application/x-dotted");
    EXPECT_EQ(t->find_extension(""), "");
}

TEST(Mime, LoaderMissingFile) {
    EXPECT_FALSE(mime_table::load("/nonexistent/dir/mime.types").has_value());
    mime_table empty;
    EXPECT_EQ(empty.size(), 0u);
    EXPECT_EQ(empty.find("a.html"), "");
    EXPECT_EQ(mime_table::parse("").size(), 0u);
}

TEST(Mime, TableSurvivesMove) {
    mime_table a = mime_table::parse("text/x-a a\nimage/x-b b\n");
    mime_table b = std::move(a);
    std::vector<mime_table> v;
    v.push_back(std::move(b));
    v.emplace_back();
    v.emplace_back();
    EXPECT_EQ(v[0].find("q.a"), "text/x-a");
    EXPECT_EQ(v[0].find("q.B"), "image/x-b");
}

TEST(Mime, BuiltinTable) {
    mime_table t = mime_table::builtin();
    const char* exts[] = {"html", "htm", "css", "js",   "mjs",  "json", "txt",
                          "svg",  "png", "jpg", "jpeg", "gif",  "webp", "ico",
                          "wasm", "xml", "pdf", "woff", "woff2"};
    EXPECT_EQ(t.size(), std::size(exts));
    std::map<std::string, std::string> ref;
    if (have_system_file()) {
        ref = read_reference(system_file);
    }
    for (const char* e : exts) {
        SCOPED_TRACE(e);
        std::string_view type = t.find_extension(e);
        EXPECT_FALSE(type.empty());
        EXPECT_EQ(type.find(';'), std::string_view::npos);
        // The fallback agrees with Debian's file.
        if (ref.count(e)) {
            EXPECT_EQ(type, ref[e]);
        }
    }
    EXPECT_EQ(t.find("x.HTML"), "text/html");
    EXPECT_EQ(t.find("x.exe"), "");
}

TEST(Mime, ConcurrentLookups) {
    std::vector<std::thread> threads;
    std::vector<int> bad(4, 0);
    for (int i = 0; i < 4; i++) {
        threads.emplace_back([i, &bad] {
            for (int k = 0; k < 2000; k++) {
                if (mime_type_for("a/b/c.png") != "image/png" ||
                    mime_type_for("x.unknownext") != "application/octet-stream") {
                    bad[static_cast<std::size_t>(i)]++;
                }
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    for (int b : bad) {
        EXPECT_EQ(b, 0);
    }
}

} // namespace
