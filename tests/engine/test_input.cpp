// Bounded input (engine/scenario/input.hpp): what is read, how it is checked, what it may reach,
// and how text that was not written by citysim is shown.
#include "engine/scenario/input.hpp"
#include "engine/scenario/schema.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace fs = std::filesystem;
namespace sc = citysim::scenario;
using Catch::Matchers::Contains;

namespace {

struct Folder {
    fs::path path;
    explicit Folder(const std::string& name)
        : path(fs::temp_directory_path() / ("citysim-input-" + name + "-" + std::to_string(::getpid()))) {
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~Folder() {
        std::error_code ignored;
        fs::remove_all(path, ignored);
    }
    fs::path write(const std::string& name, const std::string& text) const {
        std::ofstream(path / name, std::ios::binary) << text;
        return path / name;
    }
};

struct Settings {
    std::int64_t steps = 0;
    double rate = 0;
    std::string name;
};

sc::Record<Settings> settings_schema() {
    sc::Record<Settings> r("settings");
    r.integer("steps", &Settings::steps, "steps", "steps", 1, sc::Range::closed(0, 100));
    r.real("rate", &Settings::rate, "1", "a rate", 0.5, sc::Range::unit_interval());
    r.text("name", &Settings::name, "a name", "x");
    return r;
}

std::string error_of(const fs::path& path) {
    try {
        sc::read_input_file(path, "scenario file");
    } catch (const sc::ScenarioError& e) {
        return e.what();
    }
    return "(read)";
}

std::string load_error(const std::string& text, const std::string& name = "t.yaml") {
    try {
        const auto loaded = sc::load_string(settings_schema(), text, name);
        return loaded.diagnostics.empty() ? "(loaded)" : loaded.diagnostics.front().format();
    } catch (const sc::ScenarioError& e) {
        return e.what();
    }
}

}  // namespace

TEST_CASE("input: printable() escapes what could act on a terminal", "[input]") {
    CHECK(sc::printable("plain text, ünïcode, 深圳") == "plain text, ünïcode, 深圳");
    CHECK(sc::printable("a\x1b[31mred") == "a\\e[31mred");
    CHECK(sc::printable("two\nlines\tand\rreturn") == "two\\nlines\\tand\\rreturn");
    CHECK(sc::printable(std::string("nul\0byte", 8)) == "nul\\x00byte");
    CHECK(sc::printable("del\x7f") == "del\\x7f");
    CHECK(sc::printable("c1 \xc2\x9b csi") == "c1 \\u{009B} csi");
    CHECK(sc::printable("bidi \xe2\x80\xae override") == "bidi \\u{202E} override");
    CHECK(sc::printable("bad \xff\xfe utf8") == "bad \\xff\\xfe utf8");
    CHECK(sc::printable("cut \xe6\xb7") == "cut \\xe6\\xb7");
}

TEST_CASE("input: text problems are found with their line and column", "[input]") {
    CHECK_FALSE(sc::find_text_problem("a: 1\r\nb: 'ok'\t# tab\n\xef\xbb\xbf"));
    auto p = sc::find_text_problem("a: 1\nb: \xff\n");
    REQUIRE(p);
    CHECK(p->line == 2);
    CHECK(p->column == 4);
    CHECK_THAT(p->message, Contains("invalid UTF-8"));
    p = sc::find_text_problem("a: 1\nb: 深圳\x1b\n");
    REQUIRE(p);
    CHECK(p->line == 2);
    CHECK(p->column == 6);  // counted in characters
    CHECK_THAT(p->message, Contains("U+001B (ESC)"));
    p = sc::find_text_problem(std::string("steps: 1\0002", 11));
    REQUIRE(p);
    CHECK(p->column == 9);
    CHECK_THAT(p->message, Contains("U+0000 (NUL)"));
    CHECK(sc::find_text_problem("overlong \xc0\xaf"));
    CHECK(sc::find_text_problem("surrogate \xed\xa0\x80"));
    CHECK(sc::find_text_problem("beyond \xf4\x90\x80\x80"));
    CHECK(sc::find_text_problem("non-character \xef\xbf\xbe"));
}

TEST_CASE("input: only regular files are read, and no more than the limit", "[input]") {
    const Folder folder("read");
    CHECK(sc::read_input_file(folder.write("ok.yaml", "a: 1\n"), "scenario file") == "a: 1\n");
    CHECK_THAT(error_of(folder.path), Contains("it is a folder"));
    CHECK_THAT(error_of(folder.path / "none.yaml"), Contains("no such file"));
    CHECK_THAT(error_of("/dev/zero"), Contains("a character device"));
    const fs::path fifo = folder.path / "fifo.yaml";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    CHECK_THAT(error_of(fifo), Contains("a FIFO"));  // and does not wait for a writer
    const fs::path big = folder.write("big.yaml", std::string(sc::limits::max_file_bytes + 1, '#'));
    CHECK_THAT(error_of(big), Contains("larger than 4 MiB"));
    CHECK_THAT(error_of(folder.write("bad.yaml", "a: 1\nb: \xc3\x28\n")), Contains("bad.yaml:2:4: error: invalid UTF-8"));
}

TEST_CASE("input: extends may reach only the scenario's folder, the library and allowed folders", "[input]") {
    const Folder folder("allowed");
    fs::create_directories(folder.path / "scenarios" / "sub");
    fs::create_directories(folder.path / "elsewhere");
    const auto in = [&](const std::string& p) { return folder.path / p; };
    const auto allowed = sc::AllowedFolders::for_file(in("scenarios/top.yaml"));
    CHECK(allowed.contains(in("scenarios/base.yaml")));
    CHECK(allowed.contains(in("scenarios/sub/base.yaml")));
    CHECK_FALSE(allowed.contains(in("scenarios/../elsewhere/base.yaml")));
    CHECK_FALSE(allowed.contains("/etc/passwd"));
    // A link inside that points outside is outside.
    fs::create_symlink(in("elsewhere"), in("scenarios/link"));
    CHECK_FALSE(allowed.contains(in("scenarios/link/base.yaml")));
    CHECK(allowed.contains(fs::path(CITYSIM_SOURCE_DIR) / "scenarios" / "china-2025.yaml"));
    sc::set_extra_allowed_folders({in("elsewhere")});
    CHECK(sc::AllowedFolders::for_file(in("scenarios/top.yaml")).contains(in("elsewhere/base.yaml")));
    sc::set_extra_allowed_folders({});

    const fs::path top = in("scenarios/top.yaml");
    std::ofstream(in("elsewhere/base.yaml")) << "rate: 0.25\n";
    std::ofstream(top) << "extends: ../elsewhere/base.yaml\n";
    const auto outside = sc::load_file(settings_schema(), top);
    REQUIRE(outside.diagnostics.size() == 1);  // and no "missing key" noise from the unread base
    CHECK_THAT(outside.diagnostics[0].format(), Contains("top.yaml:1:10: error: extends: '../elsewhere/base.yaml'"));
    CHECK_THAT(outside.diagnostics[0].format(), Contains("is outside the folders a scenario may read"));
    std::ofstream(top) << "extends: /etc/passwd\n";
    const auto passwd = sc::load_file(settings_schema(), top);
    REQUIRE(passwd.diagnostics.size() == 1);
    CHECK_THAT(passwd.diagnostics[0].format(), !Contains("root:"));
}

TEST_CASE("input: the YAML parser is bounded and never loops", "[input]") {
    // yaml-cpp 0.7 loops forever on a ',' outside a flow collection (upstream issue 1040).
    for (const std::string text : {",", "# comment\n,", "&a ,", "steps: 1\n---\n,\n", "---\n,"}) {
        INFO(text);
        CHECK_THAT(load_error(text), Contains("a ',' outside [ ] or { }"));
    }
    CHECK_THAT(load_error("a: " + std::string(100, '[') + std::string(100, ']') + "\n"),
               Contains("nests deeper than 64 levels"));
    std::string laughs = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
    for (int i = 1; i < 9; ++i) {
        laughs += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
        for (int k = 0; k < 10; ++k) laughs += (k ? ", *a" : "*a") + std::to_string(i - 1);
        laughs += "]\n";
    }
    CHECK_THAT(load_error(laughs), Contains("expands to more than 1000000 values"));
    CHECK_THAT(load_error("name: \"never closed\n"), Contains("t.yaml:1:7: error: invalid YAML: the quoted string"));
    CHECK_THAT(load_error("name: 'never closed\nsteps: 2\n"), Contains("never closed"));
    CHECK(load_error("name: \"closed \\\" escaped\"\n") == "(loaded)");
    CHECK(load_error("name: 'it''s closed'\n") == "(loaded)");
    CHECK(load_error("name: !!str \"tagged\"\n") == "(loaded)");
    CHECK_THAT(load_error(std::string(1500, 'k') + ": 1\n"), Contains("a key longer than 1024 characters"));
}

TEST_CASE("input: --set values are checked like file text", "[input]") {
    const auto loaded = sc::load_string(settings_schema(), "steps: 3\n", "t.yaml", {"name=a\x1b[2Jb", "name=,", "rate=0.5"});
    REQUIRE(loaded.diagnostics.size() == 2);
    CHECK_THAT(loaded.diagnostics[0].format(), Contains("--set:1:7: error: name: the control character U+001B"));
    CHECK(loaded.diagnostics[0].format().find('\x1b') == std::string::npos);
    CHECK_THAT(loaded.diagnostics[1].format(), Contains("--set:2"));
}

TEST_CASE("input: check_value tells a value a key accepts without loading a document", "[input]") {
    const auto schema = settings_schema();
    CHECK(sc::check_value(schema, "steps", "3") == "");
    CHECK_THAT(sc::check_value(schema, "steps", "2.5"), Contains("an integer takes no fractional part"));
    CHECK_THAT(sc::check_value(schema, "steps", "1000"), Contains("expected an integer in [0, 100]"));
    CHECK_THAT(sc::check_value(schema, "rate", "1e308"), Contains("expected a number in [0, 1]"));
    CHECK_THAT(sc::check_value(schema, "name", "3"), Contains("not a number"));
    CHECK_THAT(sc::check_value(schema, "nope", "3"), Contains("no key 'nope'"));
}

TEST_CASE("input: the top-level keys of a document", "[input]") {
    CHECK(sc::top_level_keys("base: x.yaml\nparameters: []\n") == std::vector<std::string>{"base", "parameters"});
    CHECK(sc::top_level_keys("- a\n- b\n").empty());
    CHECK(sc::top_level_keys(",").empty());
}
