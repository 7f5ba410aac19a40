// Scenario files: YAML in, typed C++ parameter structs out, with honest errors.
//
// Model code declares the keys it reads with a Record<T> per struct:
//
//     Record<Housing> housing("Housing market of one city.");
//     housing.real("supply_elasticity", &Housing::supply_elasticity, "1",
//                  "Price elasticity of housing supply.", 1.5,
//                  Range::positive().because("elasticity must be positive"));
//     Record<City> city("One city.");
//     city.record("housing", &City::housing, housing);
//     Record<Scenario> root("A citysim scenario.");
//     root.named("cities", &Scenario::cities, city, "city", "The simulated cities.");
//
//     Loaded<Scenario> loaded = load_file(root, "scenarios/pearl.yaml", {"cities.shenzhen.housing.supply_elasticity=2"});
//     // ... semantic checks: loaded.error("cities.shenzhen.housing", "..."), guarded by
//     //     loaded.source.has_errors_under(...) so values already in error are not reported twice
//     loaded.throw_if_errors();
//
// Errors. Bad input never crashes and never silently falls back. Every content error in a file is
// reported at once, each as `FILE:LINE:COL: error: key.path: message` (1-based), naming what was
// expected and how to fix it, in file order (then the --set overrides in their order). Unknown keys
// get a did-you-mean, duplicate keys are rejected, numbers are strict (see below), booleans are
// exactly true/false. An unreadable file or a YAML syntax error throws ScenarioError at once.
//
// Numbers. A number must be a plain (unquoted, untagged) scalar:
//     [+-] digits [. digits] [(e|E) [+-] digits]
// A leading '.' or a trailing '.' is accepted (`.5`, `5.`: YAML 1.2 core floats); the integer part
// may not have leading zeros (`0`, `0.5`, `0e3` are fine; `010` is not: YAML 1.1 reads it as octal
// 8). Hex, octal (0o), binary (0b), digit separators (`1_000`), `.inf` and `.nan` are rejected. A
// real must be finite and representable (1e400 and 1e-400 are errors; subnormals are accepted).
// An integer key also accepts a decimal or exponent form whose value is exactly integral
// (`17.79e6`, `2.0`), checked on the decimal digits, never through a double; `1.5` is an error.
//
// Key paths are dot-separated: record keys by name, named-map entries by their name
// (`cities.shenzhen.housing.supply_elasticity`), list items by 0-based index
// (`network.links.3.hours`). Entry names may therefore not contain '.' or '='.
//
// The schema also describes itself (describe(), render_text(), render_markdown()): that is the
// source of `citysim schema` and docs/scenario-reference.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace citysim::scenario {

// A position in an input. line and column are 1-based; 0 means unknown. The file is the display
// name given to the loader, or "--set" for an override (line = 1-based index of the override,
// column = 1-based column inside the override argument).
struct Mark {
    std::string file;
    int line = 0;
    int column = 0;
    bool operator==(const Mark&) const = default;
};

struct Diagnostic {
    Mark mark;
    std::string key_path;  // empty when the error concerns no key (a syntax error)
    std::string message;
    // "file:line:col: error: key.path: message". An unknown column drops ":col", an unknown line
    // drops ":line:col", an empty key path drops "key.path: ". A note reads "note:" for "error:".
    std::string format(std::string_view severity = "error") const;
};

// Thrown by load_file/load_string (unreadable file, YAML syntax error) and by
// Loaded::throw_if_errors(). what() is every diagnostic formatted, one per line.
class ScenarioError : public std::runtime_error {
public:
    explicit ScenarioError(std::vector<Diagnostic> diagnostics);
    const std::vector<Diagnostic>& diagnostics() const;

private:
    std::vector<Diagnostic> diagnostics_;
};

// Numeric constraint for real and integer keys (and the values of named_reals).
struct Range {
    std::optional<double> min, max;
    bool min_inclusive = true, max_inclusive = true;
    // Why the range is what it is, shown in the error: "expected a number > 0 (REASON), got -0.5".
    std::string reason;

    static Range any();
    static Range positive();       // > 0
    static Range non_negative();   // >= 0
    static Range unit_interval();  // [0, 1]
    static Range closed(double lo, double hi);
    static Range at_least(double lo);  // >= lo
    static Range above(double lo);     // > lo
    static Range at_most(double hi);   // <= hi
    Range and_at_most(double hi) const;  // a copy with the upper bound hi (inclusive): (0, hi]
    // A copy with the reason set: Range::positive().because("elasticity must be positive").
    Range because(std::string why) const;

    bool contains(double x) const;  // NaN is never contained
    // "any", "> 0", ">= 0", "<= 1", "< 1", "[0, 1]", "(0, 1]", ... (numbers in shortest form)
    std::string describe() const;
};

// An entry of a map keyed by user-chosen names (e.g. cities), in file order.
template <class R>
struct Named {
    std::string name;
    R value{};
    bool operator==(const Named&) const = default;
};

// One row of the key reference.
struct KeyRow {
    std::string path;          // e.g. cities.<city>.housing.supply_elasticity
    std::string type;          // real, integer, boolean, string, one of {a, b}, list of strings, mapping,
                               // mapping <city> -> ..., mapping <field> -> real, list of mappings
    std::string unit;
    std::string default_text;  // the default as YAML (flow style), "(required)", or "" for a container
    std::string range;         // "> 0", "[0, 1]", "at least 1 entry", "distinct", ...
    std::string description;
    bool operator==(const KeyRow&) const = default;
};

// Where each key path came from.
class SourceMap {
public:
    // The exact path, else the nearest ancestor present, else {file, 0, 0}. For a scalar value this
    // is the value's position; for a mapping or sequence value, its key's; "" is the document.
    Mark mark(std::string_view key_path) const;
    // True if an error was reported at key_path_prefix, below it, or at one of its (non-empty)
    // ancestors: values in error hold defaults, so semantic checks on them should be skipped.
    // "" asks whether there is any error at all.
    bool has_errors_under(std::string_view key_path_prefix) const;
    // True if an error was reported at key_path itself or at one of its ancestors (not below it):
    // the value there holds its default as a whole.
    bool has_error_at(std::string_view key_path) const;

    // Filled in by the loader (and Loaded::error).
    void set_file(std::string file);
    const std::string& file() const;
    void set(std::string key_path, Mark mark);
    void note_error(std::string key_path);
    bool has(std::string_view key_path) const;  // whether key_path itself is present in the input

private:
    std::string file_;
    std::map<std::string, Mark, std::less<>> marks_;
    std::set<std::string, std::less<>> errors_;
    bool any_error_ = false;
};

template <class T>
struct Loaded {
    T value{};                             // defaults filled in; values in error hold their default or T{}'s
    SourceMap source;
    std::vector<Diagnostic> diagnostics;  // schema errors; callers append their semantic errors, then throw
    std::string resolved_yaml;             // the whole resolved scenario (defaults included), re-loadable
    std::string source_text;               // the text that was read (the file as it was, for provenance)
    std::vector<std::filesystem::path> files;  // the file itself, then every file it extends
    // What the checks changed on the input's behalf (shares divided by their sum): not errors, but
    // to be shown to the user (Diagnostic::format("note")).
    std::vector<Diagnostic> notes;

    // Appends a Diagnostic at source.mark(key_path) and notes the error in source.
    void error(std::string key_path, std::string message) {
        Mark where = source.mark(key_path);
        source.note_error(key_path);
        diagnostics.push_back(Diagnostic{std::move(where), std::move(key_path), std::move(message)});
    }
    void note(std::string key_path, std::string message) {
        notes.push_back(Diagnostic{source.mark(key_path), std::move(key_path), std::move(message)});
    }
    void throw_if_errors() const {
        if (!diagnostics.empty()) throw ScenarioError(diagnostics);
    }
};

template <class T>
class Record;

// The most items a list may hold, and what the message says to do about a longer one. A longer
// list is refused where it is read, before its items are checked one by one.
struct ListLimit {
    std::size_t max_items = static_cast<std::size_t>(-1);
    std::string how_to_shorten;
};

// Which keys a resolved text keeps: keep(key_path) is asked for each key of a mapping of the schema,
// by its path as in overrides ("policies.grant.bonus", "schedule.0.value"); a key left out takes
// its children with it.
using KeepKey = std::function<bool(const std::string& key_path)>;

// ---------------------------------------------------------------------------------------------
// Type-erased machinery behind Record<T> (engine/scenario/*.cpp). Not for model code.
namespace detail {

class ValueNode;  // the schema of one value (real, record, list, ...)
struct RecordImpl;  // the schema of one mapping: its fields in declaration order
using NodePtr = std::shared_ptr<const ValueNode>;
using RecordPtr = std::shared_ptr<RecordImpl>;
using Access = std::function<void*(void*)>;  // object -> member

RecordPtr make_record(std::string description);
RecordPtr copy_record(const RecordImpl& record);
const std::string& record_description(const RecordImpl& record);
// Throws std::logic_error on a schema mistake (duplicate key, key with '.', default out of range, ...).
void add_field(RecordImpl& record, std::string key, std::string unit, std::string description, NodePtr node,
               Access access);

// Operations on a std::vector<E> seen through void*.
struct VectorOps {
    std::size_t (*size)(const void* vec) = nullptr;
    void* (*at)(void* vec, std::size_t i) = nullptr;
    void (*clear)(void* vec) = nullptr;
    void* (*append)(void* vec) = nullptr;          // appends a value-initialized element, returns it
    void (*copy)(void* dst_vec, const void* src_vec) = nullptr;
    std::string* (*name)(void* element) = nullptr;  // Named<R> elements only
    void* (*value)(void* element) = nullptr;        // &element.value for Named<R>, &element otherwise
};

template <class E>
VectorOps vector_ops() {
    VectorOps ops;
    ops.size = [](const void* v) -> std::size_t { return static_cast<const std::vector<E>*>(v)->size(); };
    ops.at = [](void* v, std::size_t i) -> void* { return &(*static_cast<std::vector<E>*>(v))[i]; };
    ops.clear = [](void* v) { static_cast<std::vector<E>*>(v)->clear(); };
    ops.append = [](void* v) -> void* { return &static_cast<std::vector<E>*>(v)->emplace_back(); };
    ops.copy = [](void* d, const void* s) {
        *static_cast<std::vector<E>*>(d) = *static_cast<const std::vector<E>*>(s);
    };
    ops.value = [](void* e) -> void* { return e; };
    return ops;
}

template <class R>
VectorOps named_vector_ops() {
    VectorOps ops = vector_ops<Named<R>>();
    ops.name = [](void* e) -> std::string* { return &static_cast<Named<R>*>(e)->name; };
    ops.value = [](void* e) -> void* { return &static_cast<Named<R>*>(e)->value; };
    return ops;
}

NodePtr real_node(std::optional<double> default_value, Range range);
NodePtr integer_node(std::optional<std::int64_t> default_value, Range range);
NodePtr boolean_node(std::optional<bool> default_value);
NodePtr text_node(std::optional<std::string> default_value);
NodePtr choice_node(std::vector<std::string> allowed, std::optional<std::string> default_value);
NodePtr text_list_node(std::optional<std::vector<std::string>> default_value);
NodePtr record_node(RecordPtr record);
NodePtr named_node(RecordPtr record, VectorOps ops, std::string name_meaning, std::size_t min_entries);
NodePtr named_reals_node(std::string name_meaning, Range range,
                         std::optional<std::vector<Named<double>>> default_value);
// default_vector: a std::vector<R> (nullptr when there is no default).
NodePtr list_node(RecordPtr record, VectorOps ops, std::vector<std::string> positional_keys,
                  std::shared_ptr<const void> default_vector, ListLimit limit);

struct LoadOutput {
    SourceMap source;
    std::vector<Diagnostic> diagnostics;
    std::string resolved_yaml;
    std::vector<std::filesystem::path> files;  // the file itself, then those it extends
};
// Binds text into *object (a value-initialized struct of the record's type). Throws ScenarioError on
// a YAML syntax error; content errors go to LoadOutput::diagnostics.
LoadOutput load_text(const RecordImpl& schema, void* object, const std::string& text,
                     const std::string& display_name, const std::vector<std::string>& overrides,
                     bool emit_resolved);
// The file's bytes, read under the bounds of input.hpp; throws ScenarioError naming the file (and
// the line and column of a text problem) when it cannot be read. `what` names it: "scenario file".
std::string read_file(const std::filesystem::path& path, std::string_view what);
std::vector<KeyRow> describe_record(const RecordImpl& schema);
std::string emit_yaml(const RecordImpl& schema, const void* object, const KeepKey* keep = nullptr);
double number_at(const RecordImpl& schema, const void* object, const std::string& key_path);
std::string check_value(const RecordImpl& schema, const std::string& key_path, const std::string& value_text);

}  // namespace detail
// ---------------------------------------------------------------------------------------------

// The schema of a YAML mapping bound to struct T. Declaration order is the order of the key
// reference and of resolved_yaml. Copies are independent: a schema passed to record()/named()/list()
// is copied at that point, so finish building a sub-record before using it.
//
// Schema mistakes (a key declared twice, a key containing '.', a default outside its range or not
// among the allowed choices, a positional key that the item record lacks) throw std::logic_error
// when the schema is built: they are bugs in model code, not in scenario files.
template <class T>
class Record {
public:
    explicit Record(std::string description) : impl_(detail::make_record(std::move(description))) {}
    Record(const Record& other) : impl_(detail::copy_record(*other.impl_)) {}
    Record& operator=(const Record& other) {
        if (this != &other) impl_ = detail::copy_record(*other.impl_);
        return *this;
    }
    Record(Record&&) noexcept = default;
    Record& operator=(Record&&) noexcept = default;
    ~Record() = default;

    // Scalars. A key with no default (std::nullopt) is required.
    Record& real(std::string key, double T::*member, std::string unit, std::string description,
                 std::optional<double> default_value, Range range = Range::any()) {
        return add(std::move(key), std::move(unit), std::move(description),
                   detail::real_node(default_value, std::move(range)), member);
    }
    Record& integer(std::string key, std::int64_t T::*member, std::string unit, std::string description,
                    std::optional<std::int64_t> default_value, Range range = Range::any()) {
        return add(std::move(key), std::move(unit), std::move(description),
                   detail::integer_node(default_value, std::move(range)), member);
    }
    Record& boolean(std::string key, bool T::*member, std::string description, std::optional<bool> default_value) {
        return add(std::move(key), "", std::move(description), detail::boolean_node(default_value), member);
    }
    Record& text(std::string key, std::string T::*member, std::string description,
                 std::optional<std::string> default_value) {
        return add(std::move(key), "", std::move(description), detail::text_node(std::move(default_value)), member);
    }
    Record& choice(std::string key, std::string T::*member, std::vector<std::string> allowed, std::string description,
                   std::optional<std::string> default_value) {
        return add(std::move(key), "", std::move(description),
                   detail::choice_node(std::move(allowed), std::move(default_value)), member);
    }
    // A YAML sequence of strings; duplicates are rejected.
    Record& text_list(std::string key, std::vector<std::string> T::*member, std::string description,
                      std::optional<std::vector<std::string>> default_value) {
        return add(std::move(key), "", std::move(description), detail::text_list_node(std::move(default_value)),
                   member);
    }
    // A nested mapping. If absent from the file, every child takes its default (an error per
    // required child). Its description is the sub-record's.
    template <class R>
    Record& record(std::string key, R T::*member, const Record<R>& schema) {
        return add(std::move(key), "", schema.description(), detail::record_node(detail::copy_record(schema.impl())),
                   member);
    }
    // A mapping from user-chosen names (e.g. city names) to records, order kept as in the file.
    // name_meaning is the placeholder in key paths, e.g. "city" -> `cities.<city>.productivity`.
    // With min_entries > 0 the key is required.
    template <class R>
    Record& named(std::string key, std::vector<Named<R>> T::*member, const Record<R>& schema, std::string name_meaning,
                  std::string description, std::size_t min_entries = 1) {
        return add(std::move(key), "", std::move(description),
                   detail::named_node(detail::copy_record(schema.impl()), detail::named_vector_ops<R>(),
                                      std::move(name_meaning), min_entries),
                   member);
    }
    // A mapping from names to numbers, e.g. field_mix: {hardware: 0.4, software: 0.6}. Required
    // unless a default is given; may be empty ({}).
    Record& named_reals(std::string key, std::vector<Named<double>> T::*member, std::string name_meaning,
                        std::string unit, std::string description, Range range = Range::any(),
                        std::optional<std::vector<Named<double>>> default_value = std::nullopt) {
        return add(std::move(key), std::move(unit), std::move(description),
                   detail::named_reals_node(std::move(name_meaning), std::move(range), std::move(default_value)),
                   member);
    }
    // A sequence of records. Each item is a mapping or, when positional_keys is not empty, a
    // sequence whose values fill those keys in order (`- [shenzhen, guangzhou, 0.5]` ==
    // `- {from: shenzhen, to: guangzhou, hours: 0.5}`); trailing positional keys that have defaults
    // may be left out. Required unless a default is given; may be empty ([]); at most
    // limit.max_items long.
    template <class R>
    Record& list(std::string key, std::vector<R> T::*member, const Record<R>& schema, std::string description,
                 std::vector<std::string> positional_keys = {},
                 std::optional<std::vector<std::type_identity_t<R>>> default_value = std::nullopt,
                 ListLimit limit = {}) {
        // (type_identity_t: R is deduced from member and schema, so that a plain std::vector<R>
        // converts to the optional.)
        std::shared_ptr<const void> def;
        if (default_value) def = std::make_shared<const std::vector<R>>(std::move(*default_value));
        return add(std::move(key), "", std::move(description),
                   detail::list_node(detail::copy_record(schema.impl()), detail::vector_ops<R>(),
                                     std::move(positional_keys), std::move(def), std::move(limit)),
                   member);
    }

    const std::string& description() const { return detail::record_description(*impl_); }
    const detail::RecordImpl& impl() const { return *impl_; }

private:
    template <class M>
    Record& add(std::string key, std::string unit, std::string description, detail::NodePtr node, M T::*member) {
        detail::add_field(*impl_, std::move(key), std::move(unit), std::move(description), std::move(node),
                          [member](void* object) -> void* { return &(static_cast<T*>(object)->*member); });
        return *this;
    }

    detail::RecordPtr impl_;
};

// Content errors go to Loaded::diagnostics (never thrown here); an unreadable file or a YAML syntax
// error throws ScenarioError at once.
//
// overrides are "key.path=value" strings (the CLI's --set, sweeps): each is applied to the document,
// in order, before validation. The value is parsed as YAML (a scalar or a flow collection; an empty
// value is null). A path the schema does not have is a diagnostic with a did-you-mean; a path naming
// a named-map entry or list item that the document lacks is a diagnostic listing those it has (a
// new entry is added by setting the whole map: `cities.x.field_mix={a: 0.5, b: 0.5}`). Override
// diagnostics have file "--set", line = 1-based index of the override, column = 1-based column
// inside the argument.
//
// resolved_yaml is the schema's text of the value as loaded (ResolvedText::emit), or left empty
// (ResolvedText::by_caller) for a caller whose checks change the value and who writes that text
// itself, once, afterwards (to_yaml): emitting costs more than parsing.
enum class ResolvedText { emit, by_caller };
template <class T>
Loaded<T> load_string(const Record<T>& schema, const std::string& text, const std::string& display_name,
                      const std::vector<std::string>& overrides = {}, ResolvedText resolved = ResolvedText::emit) {
    Loaded<T> out;
    detail::LoadOutput result = detail::load_text(schema.impl(), &out.value, text, display_name, overrides,
                                                  resolved == ResolvedText::emit);
    out.source = std::move(result.source);
    out.diagnostics = std::move(result.diagnostics);
    out.resolved_yaml = std::move(result.resolved_yaml);
    out.source_text = text;
    out.files = std::move(result.files);
    return out;
}

// `what` names the file in messages ("scenario file", "sweep file").
template <class T>
Loaded<T> load_file(const Record<T>& schema, const std::filesystem::path& path,
                    const std::vector<std::string>& overrides = {}, std::string_view what = "scenario file",
                    ResolvedText resolved = ResolvedText::emit) {
    return load_string(schema, detail::read_file(path, what), path.string(), overrides, resolved);
}

// The key reference: depth-first in declaration order; records, named maps and lists get a row of
// their own before their children. Children of a named map are under `<name_meaning>`, children of
// a list under `<i>`: `cities.<city>.housing.supply_elasticity`, `network.links.<i>.hours`.
template <class T>
std::vector<KeyRow> describe(const Record<T>& schema) {
    return detail::describe_record(schema.impl());
}
// Whether `value_text` (a plain YAML scalar, as in --set) is a valid value of the number at
// `key_path` (its type and range), without loading a document: "" if it is, else the message.
// Named-map entries and list items in the path are not looked up, only their schema. For checking
// many values against one scenario (a schedule) at a cost that does not grow with the document.
template <class T>
std::string check_value(const Record<T>& schema, const std::string& key_path, const std::string& value_text) {
    return detail::check_value(schema.impl(), key_path, value_text);
}

// The object as YAML that loads back into an equal object (defaults written out).
template <class T>
std::string to_yaml(const Record<T>& schema, const T& object) {
    return detail::emit_yaml(schema.impl(), &object);
}
// The same without the keys that `keep` leaves out (which then load back as their defaults).
template <class T>
std::string to_yaml(const Record<T>& schema, const T& object, const KeepKey& keep) {
    return detail::emit_yaml(schema.impl(), &object, &keep);
}
// The number at `key_path` (as in overrides: "cities.harbour.labour.productivity",
// "schedule.0.value") of a loaded object, as its resolved text would give it; NaN where there is no
// number there (a name or an item that is not there, a mapping, a text, a switch).
template <class T>
double number_at(const Record<T>& schema, const T& object, const std::string& key_path) {
    return detail::number_at(schema.impl(), &object, key_path);
}
// Aligned columns for a terminal: KEY TYPE UNIT DEFAULT RANGE DESCRIPTION.
std::string render_text(const std::vector<KeyRow>& rows);
// "# title", the preamble, then a GitHub-flavoured markdown table
// "| Key | Type | Unit | Default | Range | Description |".
std::string render_markdown(const std::vector<KeyRow>& rows, const std::string& title, const std::string& preamble);

}  // namespace citysim::scenario
