// Private to engine/scenario/*.cpp: the document tree, the binding context, the schema nodes.
#pragma once

#include "engine/scenario/schema.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace citysim::scenario::detail {

// ------------------------------------------------------------------ the document
// A copy of the yaml-cpp tree in which every node carries its full Mark (file included, so that
// values spliced in by --set keep "--set" marks) and in which duplicate keys stay visible.
struct DocEntry;
struct DocNode {
    enum class Kind { Null, Scalar, Sequence, Map };
    Kind kind = Kind::Null;
    std::string scalar;  // Scalar
    std::string tag;     // yaml-cpp tag: "?" plain, "!" quoted, else an explicit tag
    Mark mark;
    std::vector<DocEntry> entries;  // Map, in document order, duplicates included
    std::vector<DocNode> items;     // Sequence

    bool plain() const { return tag == "?"; }
    bool is_map() const { return kind == Kind::Map; }
};
struct DocEntry {
    DocNode key;
    DocNode value;
};

// "a mapping", "a sequence", "the string \"x\"", "'x'", "no value"
std::string describe_doc(const DocNode& node);

// Maps yaml-cpp's (0-based) marks to Marks of a file or of an override argument.
struct MarkMapper {
    std::string file;
    int line_override = 0;  // > 0: every mark gets this line (an override argument)
    int column_offset = 0;  // added to the 1-based column
    Mark map(const YAML::Mark& m) const;
};

// A YAML stream read into DocNodes under the limits of input.hpp (depth, values after aliases,
// documents). Exactly one of yaml_error (a syntax error from yaml-cpp) and error (a limit, or the
// parser stuck on a stray ',') is set when the text could not be read.
struct ParsedYaml {
    std::size_t documents = 0;
    bool root_present = false;
    DocNode root;  // the first document
    Mark second_document;
    std::optional<Diagnostic> error;
    std::string yaml_error;
    Mark yaml_error_mark;
    int yaml_error_line0 = -1;
};
// fallback is the mark of values yaml-cpp gives no mark.
ParsedYaml parse_yaml(const std::string& text, const MarkMapper& mapper, const Mark& fallback);

// ------------------------------------------------------------------ binding
struct Context {
    std::vector<Diagnostic> diagnostics;
    SourceMap* source = nullptr;
    bool skip_missing = false;  // no "missing required key" errors (the file a scenario extends is unreadable)

    void error(const Mark& mark, const std::string& key_path, std::string message);
};

std::string join(const std::string& path, std::string_view key);

enum class NodeKind { Real, Integer, Boolean, Text, Choice, TextList, Record, Named, NamedReals, List };

// Where an emission is in the object, and which keys it leaves out (keep == nullptr: none, and
// no key path is built).
struct EmitScope {
    const KeepKey* keep = nullptr;
    std::string path;
    // The scope of `key` below this one, or none when keep leaves the key out.
    std::optional<EmitScope> child(std::string_view key) const;
};

class ValueNode {
public:
    virtual ~ValueNode() = default;
    virtual NodeKind kind() const = 0;
    virtual std::string type_name() const = 0;
    // Absent from the document and no default: an error (records are never required themselves).
    virtual bool required() const = 0;
    // Sets the default (records: every child's default); leaves the target alone when there is none.
    virtual void assign_default(void* target) const = 0;
    // node is not Null (the caller reports null values). Reports errors to ctx; a value in error
    // takes its default (when there is one).
    virtual void bind(const DocNode& node, void* target, Context& ctx, const std::string& path) const = 0;
    virtual void emit(YAML::Emitter& out, const void* target, const EmitScope& scope) const = 0;
    virtual std::string default_text() const = 0;
    virtual std::string range_text() const { return ""; }
    virtual std::string describe_suffix() const { return ""; }  // appended to the description
    virtual void describe_children(const std::string& path, std::vector<KeyRow>& rows) const;
    // Whether a value of this node is emitted/located as a scalar (SourceMap keeps the value's mark).
    bool scalar_like() const;
};

struct Field {
    std::string key;
    std::string unit;
    std::string description;
    NodePtr node;
    Access access;
};

struct RecordImpl {
    std::string description;
    std::vector<Field> fields;

    const Field* find(std::string_view key) const;
    std::vector<std::string> keys() const;
    // map: a Map node, or nullptr when the mapping is absent (then missing required keys are reported
    // at missing_mark, and absent_name names the absent mapping in the message).
    void bind_map(const DocNode* map, void* object, Context& ctx, const std::string& path, const Mark& missing_mark,
                  const std::string& absent_name) const;
    // A sequence whose values fill positional keys in order.
    void bind_positional(const DocNode& seq, const std::vector<std::string>& positional, void* object, Context& ctx,
                         const std::string& path) const;
    void assign_defaults(void* object) const;
    void emit(YAML::Emitter& out, const void* object, const EmitScope& scope) const;
    bool all_scalar() const;  // every field scalar-like (emitted as a flow mapping inside lists)
    void describe(const std::string& prefix, std::vector<KeyRow>& rows) const;

private:
    void bind_value(const Field& field, const DocNode& value, const Mark& key_mark, void* object, Context& ctx,
                    const std::string& path) const;
    void finish_missing(const std::vector<bool>& seen, void* object, Context& ctx, const std::string& path,
                        const Mark& missing_mark, const std::string& note) const;
};

struct RecordNode : ValueNode {
    RecordPtr record;
    explicit RecordNode(RecordPtr r) : record(std::move(r)) {}
    NodeKind kind() const override { return NodeKind::Record; }
    std::string type_name() const override { return "mapping"; }
    bool required() const override { return false; }
    void assign_default(void* target) const override { record->assign_defaults(target); }
    void bind(const DocNode& node, void* target, Context& ctx, const std::string& path) const override;
    void emit(YAML::Emitter& out, const void* target, const EmitScope& scope) const override {
        record->emit(out, target, scope);
    }
    std::string default_text() const override { return ""; }
    void describe_children(const std::string& path, std::vector<KeyRow>& rows) const override;
};

struct NamedNode : ValueNode {
    RecordPtr record;
    VectorOps ops;
    std::string meaning;
    std::size_t min_entries = 1;
    NodeKind kind() const override { return NodeKind::Named; }
    std::string type_name() const override { return "mapping <" + meaning + "> -> ..."; }
    bool required() const override { return min_entries > 0; }
    void assign_default(void* target) const override;
    void bind(const DocNode& node, void* target, Context& ctx, const std::string& path) const override;
    void emit(YAML::Emitter& out, const void* target, const EmitScope& scope) const override;
    std::string default_text() const override { return min_entries > 0 ? "(required)" : "{}"; }
    std::string range_text() const override;
    void describe_children(const std::string& path, std::vector<KeyRow>& rows) const override;
};

struct NamedRealsNode : ValueNode {
    std::string meaning;
    Range range;
    std::optional<std::vector<Named<double>>> default_value;
    NodeKind kind() const override { return NodeKind::NamedReals; }
    std::string type_name() const override { return "mapping <" + meaning + "> -> real"; }
    bool required() const override { return !default_value.has_value(); }
    void assign_default(void* target) const override;
    void bind(const DocNode& node, void* target, Context& ctx, const std::string& path) const override;
    void emit(YAML::Emitter& out, const void* target, const EmitScope& scope) const override;
    std::string default_text() const override;
    std::string range_text() const override;
};

struct ListNode : ValueNode {
    RecordPtr record;
    VectorOps ops;
    std::vector<std::string> positional;
    std::shared_ptr<const void> default_vector;
    ListLimit limit;
    NodeKind kind() const override { return NodeKind::List; }
    std::string type_name() const override { return "list of mappings"; }
    bool required() const override { return default_vector == nullptr; }
    void assign_default(void* target) const override;
    void bind(const DocNode& node, void* target, Context& ctx, const std::string& path) const override;
    void emit(YAML::Emitter& out, const void* target, const EmitScope& scope) const override;
    std::string default_text() const override;
    std::string describe_suffix() const override;
    void describe_children(const std::string& path, std::vector<KeyRow>& rows) const override;
    void emit_items(YAML::Emitter& out, const void* vec, const EmitScope& scope) const;
};

// ------------------------------------------------------------------ text helpers (text.cpp)
struct NumberResult {
    bool ok = false;
    double real = 0;
    std::int64_t integer = 0;
    std::string error;  // when !ok: the message, without the key path
};
// node must be a Scalar. The text is echoed as written in messages.
NumberResult parse_real(const DocNode& node);
NumberResult parse_integer(const DocNode& node);

std::string format_double(double x);  // shortest form that reads back exactly
std::string format_int(std::int64_t x);
// The closest candidate (see suggest.hpp), or "".
std::string suggest(std::string_view key, const std::vector<std::string>& candidates);
std::string join_list(const std::vector<std::string>& items, std::string_view separator = ", ");
// Whether a string must be quoted in YAML so that no reader (1.1 or 1.2) takes it for a number,
// boolean or null.
bool needs_quotes(std::string_view s);
// A string value: double-quoted where needs_quotes(), plain otherwise.
void emit_string(YAML::Emitter& out, const std::string& s);
// A key, quoted exactly where yaml-cpp's own `out << s` would quote it.
void emit_key(YAML::Emitter& out, const std::string& s);
// A number (format_double, format_int) or a boolean: always a plain scalar.
void emit_plain(YAML::Emitter& out, std::string_view text);
// A scalar as it would appear in flow YAML: quoted when needed.
std::string yaml_scalar_text(const std::string& s);
std::string mark_position(const Mark& m);  // "line 3, column 5" / "--set 2, column 4"

// Validates an entry name of a named map; returns an error message or "".
std::string check_entry_name(const std::string& name, const std::string& meaning);

// ------------------------------------------------------------------ overrides (load.cpp)
void apply_override(DocNode& root, const RecordImpl& schema, const std::string& argument, int index,
                    std::vector<Diagnostic>& diagnostics);

}  // namespace citysim::scenario::detail
