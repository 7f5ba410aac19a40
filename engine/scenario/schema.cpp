// Schema nodes: binding a document to structs, emitting structs back to YAML, describing keys.
#include "engine/scenario/detail/internal.hpp"

#include <algorithm>
#include <cmath>
#include <map>

namespace citysim::scenario {

// ------------------------------------------------------------------ SourceMap

Mark SourceMap::mark(std::string_view key_path) const {
    std::string_view path = key_path;
    while (true) {
        auto it = marks_.find(path);
        if (it != marks_.end()) return it->second;
        if (path.empty()) return Mark{file_, 0, 0};
        const std::size_t dot = path.rfind('.');
        path = dot == std::string_view::npos ? std::string_view{} : path.substr(0, dot);
    }
}

bool SourceMap::has_errors_under(std::string_view prefix) const {
    if (prefix.empty()) return any_error_;
    for (auto it = errors_.lower_bound(prefix); it != errors_.end(); ++it) {
        const std::string& p = *it;
        if (p.compare(0, prefix.size(), prefix) != 0) break;
        if (p.size() == prefix.size() || p[prefix.size()] == '.') return true;
    }
    std::string_view path = prefix;
    while (true) {
        const std::size_t dot = path.rfind('.');
        if (dot == std::string_view::npos) return false;
        path = path.substr(0, dot);
        if (errors_.find(path) != errors_.end()) return true;
    }
}

bool SourceMap::has_error_at(std::string_view key_path) const {
    std::string_view path = key_path;
    while (!path.empty()) {
        if (errors_.find(path) != errors_.end()) return true;
        const std::size_t dot = path.rfind('.');
        if (dot == std::string_view::npos) return false;
        path = path.substr(0, dot);
    }
    return false;
}

void SourceMap::set_file(std::string file) { file_ = std::move(file); }
const std::string& SourceMap::file() const { return file_; }
void SourceMap::set(std::string key_path, Mark m) { marks_[std::move(key_path)] = std::move(m); }
void SourceMap::note_error(std::string key_path) {
    any_error_ = true;
    if (!key_path.empty()) errors_.insert(std::move(key_path));
}
bool SourceMap::has(std::string_view key_path) const { return marks_.find(key_path) != marks_.end(); }

namespace detail {

void Context::error(const Mark& mark, const std::string& key_path, std::string message) {
    diagnostics.push_back(Diagnostic{mark, key_path, std::move(message)});
    source->note_error(key_path);
}

std::string join(const std::string& path, std::string_view key) {
    if (path.empty()) return std::string(key);
    std::string out = path;
    out += '.';
    out += key;
    return out;
}

std::string describe_doc(const DocNode& node) {
    switch (node.kind) {
        case DocNode::Kind::Null: return "no value";
        case DocNode::Kind::Sequence: return "a sequence";
        case DocNode::Kind::Map: return "a mapping";
        case DocNode::Kind::Scalar:
            if (node.tag == "!") return "the string \"" + node.scalar + "\"";
            return "'" + node.scalar + "'";
    }
    return "an unknown value";
}

void ValueNode::describe_children(const std::string&, std::vector<KeyRow>&) const {}

bool ValueNode::scalar_like() const {
    switch (kind()) {
        case NodeKind::Real:
        case NodeKind::Integer:
        case NodeKind::Boolean:
        case NodeKind::Text:
        case NodeKind::Choice: return true;
        default: return false;
    }
}

namespace {

template <class V>
V& as(void* p) {
    return *static_cast<V*>(p);
}
template <class V>
const V& as(const void* p) {
    return *static_cast<const V*>(p);
}

std::string range_message(std::string_view what, const Range& range, const std::string& got) {
    std::string m = "expected " + std::string(what) + " " + (range.min && range.max ? "in " : "") + range.describe();
    if (!range.reason.empty()) m += " (" + range.reason + ")";
    return m + ", got " + got;
}

std::string flow_list(const std::vector<std::string>& items) {
    std::vector<std::string> quoted;
    for (const std::string& s : items) quoted.push_back(yaml_scalar_text(s));
    return "[" + join_list(quoted) + "]";
}

// ---------------------------------------------------------------- scalars

struct RealNode : ValueNode {
    std::optional<double> def;
    Range range;
    NodeKind kind() const override { return NodeKind::Real; }
    std::string type_name() const override { return "real"; }
    bool required() const override { return !def; }
    void assign_default(void* t) const override {
        if (def) as<double>(t) = *def;
    }
    void bind(const DocNode& node, void* t, Context& ctx, const std::string& path) const override {
        if (node.kind != DocNode::Kind::Scalar) {
            ctx.error(node.mark, path, "expected a number, got " + describe_doc(node));
            return assign_default(t);
        }
        NumberResult r = parse_real(node);
        if (!r.ok) {
            ctx.error(node.mark, path, r.error);
            return assign_default(t);
        }
        if (!range.contains(r.real)) {
            ctx.error(node.mark, path, range_message("a number", range, node.scalar));
            return assign_default(t);
        }
        as<double>(t) = r.real;
    }
    void emit(YAML::Emitter& out, const void* t, const EmitScope&) const override { emit_plain(out, format_double(as<double>(t))); }
    std::string default_text() const override { return def ? format_double(*def) : "(required)"; }
    std::string range_text() const override { return range.describe(); }
};

struct IntegerNode : ValueNode {
    std::optional<std::int64_t> def;
    Range range;
    NodeKind kind() const override { return NodeKind::Integer; }
    std::string type_name() const override { return "integer"; }
    bool required() const override { return !def; }
    void assign_default(void* t) const override {
        if (def) as<std::int64_t>(t) = *def;
    }
    void bind(const DocNode& node, void* t, Context& ctx, const std::string& path) const override {
        if (node.kind != DocNode::Kind::Scalar) {
            ctx.error(node.mark, path, "expected an integer, got " + describe_doc(node));
            return assign_default(t);
        }
        NumberResult r = parse_integer(node);
        if (!r.ok) {
            ctx.error(node.mark, path, r.error);
            return assign_default(t);
        }
        if (!range.contains(r.real)) {
            ctx.error(node.mark, path, range_message("an integer", range, node.scalar));
            return assign_default(t);
        }
        as<std::int64_t>(t) = r.integer;
    }
    void emit(YAML::Emitter& out, const void* t, const EmitScope&) const override { emit_plain(out, format_int(as<std::int64_t>(t))); }
    std::string default_text() const override { return def ? format_int(*def) : "(required)"; }
    std::string range_text() const override { return range.describe(); }
};

struct BooleanNode : ValueNode {
    std::optional<bool> def;
    NodeKind kind() const override { return NodeKind::Boolean; }
    std::string type_name() const override { return "boolean"; }
    bool required() const override { return !def; }
    void assign_default(void* t) const override {
        if (def) as<bool>(t) = *def;
    }
    static std::string problem(const DocNode& node) {
        if (node.kind != DocNode::Kind::Scalar) return "expected true or false, got " + describe_doc(node);
        const std::string& s = node.scalar;
        std::string l = s;
        for (char& c : l) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (node.tag == "!") {
            std::string m = "expected true or false, got the string \"" + s + "\"";
            if (l == "true" || l == "false") m += "; remove the quotes";
            return m;
        }
        if (!node.plain()) return "expected true or false, got a value tagged " + node.tag + "; remove the tag";
        if (s == "true" || s == "false") return "";
        if (l == "true" || l == "false") return "expected true or false, got " + s + "; booleans are lowercase: write " + l;
        if (l == "yes" || l == "y" || l == "on")
            return "expected true or false, got " + s + "; YAML 1.1 readers take " + s +
                   " as true, others as a string: write true";
        if (l == "no" || l == "n" || l == "off")
            return "expected true or false, got " + s + "; YAML 1.1 readers take " + s +
                   " as false, others as a string: write false";
        if (s == "1") return "expected true or false, got 1; write true";
        if (s == "0") return "expected true or false, got 0; write false";
        return "expected true or false, got '" + s + "'";
    }
    void bind(const DocNode& node, void* t, Context& ctx, const std::string& path) const override {
        std::string p = problem(node);
        if (!p.empty()) {
            ctx.error(node.mark, path, p);
            return assign_default(t);
        }
        as<bool>(t) = node.scalar == "true";
    }
    void emit(YAML::Emitter& out, const void* t, const EmitScope&) const override { emit_plain(out, as<bool>(t) ? "true" : "false"); }
    std::string default_text() const override { return def ? (*def ? "true" : "false") : "(required)"; }
};

struct TextNode : ValueNode {
    std::optional<std::string> def;
    NodeKind kind() const override { return NodeKind::Text; }
    std::string type_name() const override { return "string"; }
    bool required() const override { return !def; }
    void assign_default(void* t) const override {
        if (def) as<std::string>(t) = *def;
    }
    void bind(const DocNode& node, void* t, Context& ctx, const std::string& path) const override {
        if (node.kind != DocNode::Kind::Scalar) {
            ctx.error(node.mark, path, "expected a string, got " + describe_doc(node));
            return assign_default(t);
        }
        as<std::string>(t) = node.scalar;
    }
    void emit(YAML::Emitter& out, const void* t, const EmitScope&) const override { emit_string(out, as<std::string>(t)); }
    std::string default_text() const override { return def ? yaml_scalar_text(*def) : "(required)"; }
};

struct ChoiceNode : ValueNode {
    std::vector<std::string> allowed;
    std::optional<std::string> def;
    NodeKind kind() const override { return NodeKind::Choice; }
    std::string type_name() const override { return "one of {" + join_list(allowed) + "}"; }
    bool required() const override { return !def; }
    void assign_default(void* t) const override {
        if (def) as<std::string>(t) = *def;
    }
    void bind(const DocNode& node, void* t, Context& ctx, const std::string& path) const override {
        if (node.kind != DocNode::Kind::Scalar) {
            ctx.error(node.mark, path, "expected " + type_name() + ", got " + describe_doc(node));
            return assign_default(t);
        }
        if (std::find(allowed.begin(), allowed.end(), node.scalar) == allowed.end()) {
            std::string m = "expected " + type_name() + ", got " + describe_doc(node);
            std::string s = suggest(node.scalar, allowed);
            if (!s.empty()) m += "; did you mean '" + s + "'?";
            ctx.error(node.mark, path, m);
            return assign_default(t);
        }
        as<std::string>(t) = node.scalar;
    }
    void emit(YAML::Emitter& out, const void* t, const EmitScope&) const override { emit_string(out, as<std::string>(t)); }
    std::string default_text() const override { return def ? yaml_scalar_text(*def) : "(required)"; }
};

struct TextListNode : ValueNode {
    std::optional<std::vector<std::string>> def;
    NodeKind kind() const override { return NodeKind::TextList; }
    std::string type_name() const override { return "list of strings"; }
    bool required() const override { return !def; }
    void assign_default(void* t) const override {
        if (def) as<std::vector<std::string>>(t) = *def;
    }
    void bind(const DocNode& node, void* t, Context& ctx, const std::string& path) const override {
        if (node.kind != DocNode::Kind::Sequence) {
            std::string m = "expected a list of strings, got " + describe_doc(node);
            if (node.kind == DocNode::Kind::Scalar) m += "; write [" + yaml_scalar_text(node.scalar) + "]";
            ctx.error(node.mark, path, m);
            return assign_default(t);
        }
        std::vector<std::string> values;
        std::map<std::string, Mark> first;
        bool failed = false;
        for (std::size_t i = 0; i < node.items.size(); ++i) {
            const DocNode& item = node.items[i];
            const std::string child = join(path, std::to_string(i));
            ctx.source->set(child, item.mark);
            if (item.kind == DocNode::Kind::Null) {
                ctx.error(item.mark, child, "has no value; give a string or remove the item");
                failed = true;
                continue;
            }
            if (item.kind != DocNode::Kind::Scalar) {
                ctx.error(item.mark, child, "expected a string, got " + describe_doc(item));
                failed = true;
                continue;
            }
            auto [it, inserted] = first.emplace(item.scalar, item.mark);
            if (!inserted) {
                ctx.error(item.mark, child,
                          "duplicate entry '" + item.scalar + "' (first given at " + mark_position(it->second) +
                              "); remove one of them");
                failed = true;
                continue;
            }
            values.push_back(item.scalar);
        }
        if (failed) return assign_default(t);
        as<std::vector<std::string>>(t) = std::move(values);
    }
    void emit(YAML::Emitter& out, const void* t, const EmitScope&) const override {
        out << YAML::Flow << YAML::BeginSeq;
        for (const std::string& s : as<std::vector<std::string>>(t)) emit_string(out, s);
        out << YAML::EndSeq;
    }
    std::string default_text() const override { return def ? flow_list(*def) : "(required)"; }
    std::string range_text() const override { return "distinct"; }
};

}  // namespace

// ---------------------------------------------------------------- RecordImpl

const Field* RecordImpl::find(std::string_view key) const {
    for (const Field& f : fields)
        if (f.key == key) return &f;
    return nullptr;
}

std::vector<std::string> RecordImpl::keys() const {
    std::vector<std::string> out;
    for (const Field& f : fields) out.push_back(f.key);
    return out;
}

namespace {
std::string null_message(const Field& field) {
    const ValueNode& node = *field.node;
    switch (node.kind()) {
        case NodeKind::Record: return "has no value; give a mapping, or remove the key to take every default";
        case NodeKind::Named:
            return "has no value; give a mapping of names to mappings" +
                   std::string(node.required() ? "" : ", or remove the key");
        default: break;
    }
    if (node.required()) {
        return "has no value; give a value (" + node.type_name() + (field.unit.empty() ? "" : ", " + field.unit) + ")";
    }
    return "has no value; remove the key to take the default " + node.default_text() + ", or give a value";
}
}  // namespace

void RecordImpl::bind_value(const Field& field, const DocNode& value, const Mark& key_mark, void* object,
                            Context& ctx, const std::string& path) const {
    void* target = field.access(object);
    const ValueNode& node = *field.node;
    const bool value_mark = node.scalar_like() || value.kind == DocNode::Kind::Scalar;
    ctx.source->set(path, value_mark && value.kind != DocNode::Kind::Null ? value.mark : key_mark);
    if (value.kind == DocNode::Kind::Null) {
        ctx.error(value.mark, path, null_message(field));
        node.assign_default(target);
        return;
    }
    node.bind(value, target, ctx, path);
}

void RecordImpl::finish_missing(const std::vector<bool>& seen, void* object, Context& ctx, const std::string& path,
                                const Mark& missing_mark, const std::string& note) const {
    for (std::size_t i = 0; i < fields.size(); ++i) {
        if (seen[i]) continue;
        const Field& f = fields[i];
        void* target = f.access(object);
        const std::string child = join(path, f.key);
        if (f.node->kind() == NodeKind::Record) {
            const auto& rn = static_cast<const RecordNode&>(*f.node);
            rn.record->bind_map(nullptr, target, ctx, child, missing_mark, note.empty() ? child : note);
        } else if (f.node->required() && ctx.skip_missing) {
            f.node->assign_default(target);
        } else if (f.node->required()) {
            std::string m = "missing required key '" + f.key + "' (" + f.node->type_name() +
                            (f.unit.empty() ? "" : ", " + f.unit) + ")";
            if (!note.empty()) m += "; '" + note + "' is absent";
            ctx.error(missing_mark, child, m);
        } else {
            f.node->assign_default(target);
        }
    }
}

void RecordImpl::bind_map(const DocNode* map, void* object, Context& ctx, const std::string& path,
                          const Mark& missing_mark, const std::string& absent_name) const {
    std::vector<bool> seen(fields.size(), false);
    std::vector<Mark> first(fields.size());
    if (map != nullptr) {
        for (const DocEntry& e : map->entries) {
            if (e.key.kind != DocNode::Kind::Scalar) {
                ctx.error(e.key.mark, path, "keys must be strings, got " + describe_doc(e.key));
                continue;
            }
            const std::string& key = e.key.scalar;
            const std::string child = join(path, key);
            const Field* f = find(key);
            if (f == nullptr) {
                std::vector<std::string> candidates = keys();
                std::string s = suggest(key, candidates);
                std::string m = "unknown key '" + key + "'";
                if (key == "<<") m += "; merge keys are not supported: write the keys out";
                else if (!s.empty()) m += "; did you mean '" + s + "'?";
                else if (candidates.empty()) m += "; this mapping takes no keys";
                else m += "; the keys here are: " + join_list(candidates);
                ctx.error(e.key.mark, child, m);
                continue;
            }
            const std::size_t index = static_cast<std::size_t>(f - fields.data());
            if (seen[index]) {
                ctx.error(e.key.mark, child,
                          "duplicate key '" + key + "' (first given at " + mark_position(first[index]) +
                              "); remove one of them");
                continue;
            }
            seen[index] = true;
            first[index] = e.key.mark;
            bind_value(*f, e.value, e.key.mark, object, ctx, child);
        }
    }
    finish_missing(seen, object, ctx, path, missing_mark, map == nullptr ? absent_name : std::string());
}

void RecordImpl::bind_positional(const DocNode& seq, const std::vector<std::string>& positional, void* object,
                                 Context& ctx, const std::string& path) const {
    std::vector<bool> seen(fields.size(), false);
    const std::string form = "[" + join_list(positional) + "]";
    if (seq.items.size() > positional.size()) {
        ctx.error(seq.items[positional.size()].mark, path,
                  "too many values: expected at most " + std::to_string(positional.size()) + " " + form + ", got " +
                      std::to_string(seq.items.size()) + "; remove the extra values");
    }
    const std::size_t n = std::min(seq.items.size(), positional.size());
    for (std::size_t j = 0; j < n; ++j) {
        const Field* f = find(positional[j]);
        const std::size_t index = static_cast<std::size_t>(f - fields.data());
        seen[index] = true;
        bind_value(*f, seq.items[j], seq.items[j].mark, object, ctx, join(path, f->key));
    }
    // Missing keys: reported at the item, with the positional form as a reminder.
    for (std::size_t i = 0; i < fields.size(); ++i) {
        if (seen[i]) continue;
        const Field& f = fields[i];
        void* target = f.access(object);
        if (f.node->required() && f.node->kind() != NodeKind::Record) {
            ctx.error(seq.mark, join(path, f.key),
                      "missing required key '" + f.key + "' (" + f.node->type_name() +
                          (f.unit.empty() ? "" : ", " + f.unit) + "); this item gives " + std::to_string(n) +
                          " of the values " + form);
        } else if (f.node->kind() == NodeKind::Record) {
            static_cast<const RecordNode&>(*f.node).record->bind_map(nullptr, target, ctx, join(path, f.key), seq.mark,
                                                                      join(path, f.key));
        } else {
            f.node->assign_default(target);
        }
    }
}

void RecordImpl::assign_defaults(void* object) const {
    for (const Field& f : fields) f.node->assign_default(f.access(object));
}

std::optional<EmitScope> EmitScope::child(std::string_view key) const {
    if (keep == nullptr) return EmitScope{};
    EmitScope below{keep, join(path, key)};
    if (!(*keep)(below.path)) return std::nullopt;
    return below;
}

void RecordImpl::emit(YAML::Emitter& out, const void* object, const EmitScope& scope) const {
    out << YAML::BeginMap;
    for (const Field& f : fields) {
        const auto below = scope.child(f.key);
        if (!below) continue;
        out << YAML::Key;
        emit_key(out, f.key);
        out << YAML::Value;
        f.node->emit(out, f.access(const_cast<void*>(object)), *below);
    }
    out << YAML::EndMap;
}

bool RecordImpl::all_scalar() const {
    return std::all_of(fields.begin(), fields.end(), [](const Field& f) {
        return f.node->scalar_like() || f.node->kind() == NodeKind::TextList;
    });
}

void RecordImpl::describe(const std::string& prefix, std::vector<KeyRow>& rows) const {
    for (const Field& f : fields) {
        const std::string path = join(prefix, f.key);
        std::string text = f.description;
        const std::string suffix = f.node->describe_suffix();
        if (!suffix.empty()) text += (text.empty() ? "" : " ") + suffix;
        rows.push_back(KeyRow{path, f.node->type_name(), f.unit, f.node->default_text(), f.node->range_text(), text});
        f.node->describe_children(path, rows);
    }
}

// ---------------------------------------------------------------- containers

// Whether a named-map entry may be bound; if not, says why: a key that is not a string, a name that
// cannot be a key-path segment, or a name given twice (`first` remembers where each came first).
bool accept_entry_name(const DocEntry& e, const std::string& path, const std::string& meaning,
                       std::map<std::string, Mark>& first, Context& ctx) {
    if (e.key.kind != DocNode::Kind::Scalar) {
        ctx.error(e.key.mark, path, meaning + " names must be strings, got " + describe_doc(e.key));
        return false;
    }
    const std::string& name = e.key.scalar;
    if (std::string problem = check_entry_name(name, meaning); !problem.empty()) {
        ctx.error(e.key.mark, path, problem);
        return false;
    }
    auto [it, inserted] = first.emplace(name, e.key.mark);
    if (!inserted) {
        ctx.error(e.key.mark, join(path, name),
                  "duplicate " + meaning + " '" + name + "' (first given at " + mark_position(it->second) +
                      "); remove or rename one of them");
        return false;
    }
    return true;
}

void RecordNode::bind(const DocNode& node, void* target, Context& ctx, const std::string& path) const {
    if (!node.is_map()) {
        ctx.error(node.mark, path, "expected a mapping, got " + describe_doc(node));
        return assign_default(target);
    }
    record->bind_map(&node, target, ctx, path, ctx.source->mark(path), "");
}

void RecordNode::describe_children(const std::string& path, std::vector<KeyRow>& rows) const {
    record->describe(path, rows);
}

void NamedNode::assign_default(void* target) const { ops.clear(target); }

void NamedNode::bind(const DocNode& node, void* target, Context& ctx, const std::string& path) const {
    if (!node.is_map()) {
        ctx.error(node.mark, path,
                  "expected a mapping <" + meaning + "> -> ... (each " + meaning + " name to its settings), got " +
                      describe_doc(node));
        return assign_default(target);
    }
    ops.clear(target);
    std::map<std::string, Mark> first;
    for (const DocEntry& e : node.entries) {
        if (!accept_entry_name(e, path, meaning, first, ctx)) continue;
        const std::string& name = e.key.scalar;
        const std::string child = join(path, name);
        void* element = ops.append(target);
        *ops.name(element) = name;
        void* value = ops.value(element);
        ctx.source->set(child, e.key.mark);
        if (e.value.kind == DocNode::Kind::Null) {
            ctx.error(e.value.mark, child, "has no value; give a mapping (write {} to take every default)");
            record->assign_defaults(value);
            continue;
        }
        if (!e.value.is_map()) {
            ctx.error(e.value.mark, child, "expected a mapping, got " + describe_doc(e.value));
            record->assign_defaults(value);
            continue;
        }
        record->bind_map(&e.value, value, ctx, child, e.key.mark, "");
    }
    const std::size_t count = ops.size(target);
    if (count < min_entries) {
        ctx.error(ctx.source->mark(path), path,
                  "expected at least " + std::to_string(min_entries) + " " + meaning +
                      (min_entries == 1 ? "" : " entries") + ", got " + std::to_string(count));
    }
}

// An empty mapping or sequence is written in flow style, `key: {}`, as a YAML reader that loaded the
// text would write it again (not `key:` and `{}` on a line of its own).
void NamedNode::emit(YAML::Emitter& out, const void* target, const EmitScope& scope) const {
    void* vec = const_cast<void*>(target);
    if (ops.size(vec) == 0) out << YAML::Flow;
    out << YAML::BeginMap;
    for (std::size_t i = 0; i < ops.size(vec); ++i) {
        void* element = ops.at(vec, i);
        const auto below = scope.child(*ops.name(element));
        if (!below) continue;
        out << YAML::Key;
        emit_string(out, *ops.name(element));
        out << YAML::Value;
        record->emit(out, ops.value(element), *below);
    }
    out << YAML::EndMap;
}

std::string NamedNode::range_text() const {
    if (min_entries == 0) return "";
    return "at least " + std::to_string(min_entries) + (min_entries == 1 ? " entry" : " entries");
}

void NamedNode::describe_children(const std::string& path, std::vector<KeyRow>& rows) const {
    record->describe(join(path, "<" + meaning + ">"), rows);
}

void NamedRealsNode::assign_default(void* target) const {
    if (default_value) as<std::vector<Named<double>>>(target) = *default_value;
}

void NamedRealsNode::bind(const DocNode& node, void* target, Context& ctx, const std::string& path) const {
    if (!node.is_map()) {
        ctx.error(node.mark, path, "expected a " + type_name() + " (each " + meaning + " name to a number), got " +
                                       describe_doc(node));
        return assign_default(target);
    }
    auto& out = as<std::vector<Named<double>>>(target);
    out.clear();
    std::map<std::string, Mark> first;
    for (const DocEntry& e : node.entries) {
        if (!accept_entry_name(e, path, meaning, first, ctx)) continue;
        const std::string& name = e.key.scalar;
        const std::string child = join(path, name);
        Named<double>& entry = out.emplace_back(Named<double>{name, 0.0});
        ctx.source->set(child, e.value.kind == DocNode::Kind::Null ? e.key.mark : e.value.mark);
        if (e.value.kind == DocNode::Kind::Null) {
            ctx.error(e.value.mark, child, "has no value; give a number");
            continue;
        }
        if (e.value.kind != DocNode::Kind::Scalar) {
            ctx.error(e.value.mark, child, "expected a number, got " + describe_doc(e.value));
            continue;
        }
        NumberResult r = parse_real(e.value);
        if (!r.ok) {
            ctx.error(e.value.mark, child, r.error);
            continue;
        }
        if (!range.contains(r.real)) {
            ctx.error(e.value.mark, child, range_message("a number", range, e.value.scalar));
            continue;
        }
        entry.value = r.real;
    }
}

void NamedRealsNode::emit(YAML::Emitter& out, const void* target, const EmitScope& scope) const {
    if (as<std::vector<Named<double>>>(target).empty()) out << YAML::Flow;
    out << YAML::BeginMap;
    for (const Named<double>& e : as<std::vector<Named<double>>>(target)) {
        if (!scope.child(e.name)) continue;
        out << YAML::Key;
        emit_string(out, e.name);
        out << YAML::Value;
        emit_plain(out, format_double(e.value));
    }
    out << YAML::EndMap;
}

std::string NamedRealsNode::default_text() const {
    if (!default_value) return "(required)";
    std::string out = "{";
    for (std::size_t i = 0; i < default_value->size(); ++i) {
        if (i > 0) out += ", ";
        out += yaml_scalar_text((*default_value)[i].name) + ": " + format_double((*default_value)[i].value);
    }
    return out + "}";
}

std::string NamedRealsNode::range_text() const { return range.describe(); }

void ListNode::assign_default(void* target) const {
    if (default_vector) ops.copy(target, default_vector.get());
}

void ListNode::bind(const DocNode& node, void* target, Context& ctx, const std::string& path) const {
    const std::string form = positional.empty() ? "" : " or a sequence [" + join_list(positional) + "]";
    if (node.kind != DocNode::Kind::Sequence) {
        std::string m = "expected a list of mappings, got " + describe_doc(node);
        if (node.is_map()) m += "; start each item with '- '";
        ctx.error(node.mark, path, m);
        return assign_default(target);
    }
    if (node.items.size() > limit.max_items) {
        // Refused as a whole: checking each item of an over-long list (and carrying it into the
        // resolved scenario) is the cost the limit exists to avoid.
        std::string m = "the list has " + std::to_string(node.items.size()) + " items; at most " +
                        std::to_string(limit.max_items);
        if (!limit.how_to_shorten.empty()) m += " (" + limit.how_to_shorten + ")";
        ctx.error(node.mark, path, m);
        return assign_default(target);
    }
    ops.clear(target);
    for (std::size_t i = 0; i < node.items.size(); ++i) {
        const DocNode& item = node.items[i];
        const std::string child = join(path, std::to_string(i));
        void* element = ops.value(ops.append(target));
        ctx.source->set(child, item.mark);
        if (item.kind == DocNode::Kind::Null) {
            ctx.error(item.mark, child, "has no value; give a mapping" + form);
            record->assign_defaults(element);
        } else if (item.is_map()) {
            record->bind_map(&item, element, ctx, child, item.mark, "");
        } else if (item.kind == DocNode::Kind::Sequence && !positional.empty()) {
            record->bind_positional(item, positional, element, ctx, child);
        } else {
            ctx.error(item.mark, child, "expected a mapping" + form + ", got " + describe_doc(item));
            record->assign_defaults(element);
        }
    }
}

// Items are never left out (that would renumber the ones after them), only keys inside them.
void ListNode::emit_items(YAML::Emitter& out, const void* vec, const EmitScope& scope) const {
    void* v = const_cast<void*>(vec);
    if (ops.size(v) == 0) out << YAML::Flow;
    out << YAML::BeginSeq;
    for (std::size_t i = 0; i < ops.size(v); ++i) {
        if (record->all_scalar()) out << YAML::Flow;
        record->emit(out, ops.value(ops.at(v, i)),
                     scope.keep == nullptr ? EmitScope{} : EmitScope{scope.keep, join(scope.path, std::to_string(i))});
    }
    out << YAML::EndSeq;
}

void ListNode::emit(YAML::Emitter& out, const void* target, const EmitScope& scope) const {
    emit_items(out, target, scope);
}

std::string ListNode::default_text() const {
    if (!default_vector) return "(required)";
    YAML::Emitter out;
    out << YAML::Flow;
    emit_items(out, default_vector.get(), EmitScope{});
    return out.c_str();
}

std::string ListNode::describe_suffix() const {
    std::string text;
    if (!positional.empty()) text = "Each item is a mapping or a sequence [" + join_list(positional) + "].";
    if (limit.max_items != static_cast<std::size_t>(-1))
        text += std::string(text.empty() ? "" : " ") + "At most " + std::to_string(limit.max_items) + " items.";
    return text;
}

void ListNode::describe_children(const std::string& path, std::vector<KeyRow>& rows) const {
    record->describe(join(path, "<i>"), rows);
}

// ---------------------------------------------------------------- builders

namespace {
[[noreturn]] void schema_bug(const std::string& message) {
    throw std::logic_error("scenario schema: " + message);
}
}  // namespace

RecordPtr make_record(std::string description) {
    auto r = std::make_shared<RecordImpl>();
    r->description = std::move(description);
    return r;
}

RecordPtr copy_record(const RecordImpl& record) { return std::make_shared<RecordImpl>(record); }

const std::string& record_description(const RecordImpl& record) { return record.description; }

void add_field(RecordImpl& record, std::string key, std::string unit, std::string description, NodePtr node,
               Access access) {
    if (key.empty()) schema_bug("a key may not be empty");
    if (key.find_first_of(".= \t") != std::string::npos)
        schema_bug("key '" + key + "' contains '.', '=' or whitespace");
    if (record.find(key) != nullptr) schema_bug("key '" + key + "' is declared twice");
    record.fields.push_back(Field{std::move(key), std::move(unit), std::move(description), std::move(node),
                                  std::move(access)});
}

NodePtr real_node(std::optional<double> default_value, Range range) {
    if (default_value && !range.contains(*default_value))
        schema_bug("default " + format_double(*default_value) + " is outside the range " + range.describe());
    auto n = std::make_shared<RealNode>();
    n->def = default_value;
    n->range = std::move(range);
    return n;
}

NodePtr integer_node(std::optional<std::int64_t> default_value, Range range) {
    if (default_value && !range.contains(static_cast<double>(*default_value)))
        schema_bug("default " + format_int(*default_value) + " is outside the range " + range.describe());
    auto n = std::make_shared<IntegerNode>();
    n->def = default_value;
    n->range = std::move(range);
    return n;
}

NodePtr boolean_node(std::optional<bool> default_value) {
    auto n = std::make_shared<BooleanNode>();
    n->def = default_value;
    return n;
}

NodePtr text_node(std::optional<std::string> default_value) {
    auto n = std::make_shared<TextNode>();
    n->def = std::move(default_value);
    return n;
}

NodePtr choice_node(std::vector<std::string> allowed, std::optional<std::string> default_value) {
    if (allowed.empty()) schema_bug("a choice needs at least one allowed value");
    if (default_value && std::find(allowed.begin(), allowed.end(), *default_value) == allowed.end())
        schema_bug("default '" + *default_value + "' is not one of {" + join_list(allowed) + "}");
    auto n = std::make_shared<ChoiceNode>();
    n->allowed = std::move(allowed);
    n->def = std::move(default_value);
    return n;
}

NodePtr text_list_node(std::optional<std::vector<std::string>> default_value) {
    if (default_value) {
        std::vector<std::string> sorted = *default_value;
        std::sort(sorted.begin(), sorted.end());
        if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
            schema_bug("default list " + flow_list(*default_value) + " has duplicates");
    }
    auto n = std::make_shared<TextListNode>();
    n->def = std::move(default_value);
    return n;
}

NodePtr record_node(RecordPtr record) { return std::make_shared<RecordNode>(std::move(record)); }

NodePtr named_node(RecordPtr record, VectorOps ops, std::string name_meaning, std::size_t min_entries) {
    if (name_meaning.empty()) schema_bug("a named map needs a name meaning (e.g. \"city\")");
    auto n = std::make_shared<NamedNode>();
    n->record = std::move(record);
    n->ops = ops;
    n->meaning = std::move(name_meaning);
    n->min_entries = min_entries;
    return n;
}

NodePtr named_reals_node(std::string name_meaning, Range range, std::optional<std::vector<Named<double>>> default_value) {
    if (name_meaning.empty()) schema_bug("a named map needs a name meaning (e.g. \"field\")");
    if (default_value) {
        for (const Named<double>& e : *default_value) {
            if (!range.contains(e.value))
                schema_bug("default " + e.name + ": " + format_double(e.value) + " is outside the range " +
                           range.describe());
            if (!check_entry_name(e.name, name_meaning).empty()) schema_bug(check_entry_name(e.name, name_meaning));
        }
    }
    auto n = std::make_shared<NamedRealsNode>();
    n->meaning = std::move(name_meaning);
    n->range = std::move(range);
    n->default_value = std::move(default_value);
    return n;
}

NodePtr list_node(RecordPtr record, VectorOps ops, std::vector<std::string> positional_keys,
                  std::shared_ptr<const void> default_vector, ListLimit limit) {
    for (std::size_t i = 0; i < positional_keys.size(); ++i) {
        if (record->find(positional_keys[i]) == nullptr)
            schema_bug("positional key '" + positional_keys[i] + "' is not a key of the item record");
        for (std::size_t j = 0; j < i; ++j)
            if (positional_keys[j] == positional_keys[i])
                schema_bug("positional key '" + positional_keys[i] + "' is given twice");
    }
    auto n = std::make_shared<ListNode>();
    n->record = std::move(record);
    n->ops = ops;
    n->positional = std::move(positional_keys);
    n->default_vector = std::move(default_vector);
    n->limit = std::move(limit);
    return n;
}

namespace {
// "cities.a.labour" -> {"cities", "a", "labour"} ("" -> {""}).
std::vector<std::string> key_path_parts(const std::string& key_path) {
    std::vector<std::string> parts;
    for (std::size_t begin = 0;;) {
        const std::size_t dot = key_path.find('.', begin);
        parts.push_back(key_path.substr(begin, dot == std::string::npos ? std::string::npos : dot - begin));
        if (dot == std::string::npos) break;
        begin = dot + 1;
    }
    return parts;
}
}  // namespace

double number_at(const RecordImpl& schema, const void* object, const std::string& key_path) {
    const double none = std::nan("");
    const std::vector<std::string> parts = key_path_parts(key_path);
    const RecordImpl* record = &schema;
    void* at = const_cast<void*>(object);
    for (std::size_t i = 0; i < parts.size(); ++i) {
        const Field* field = record->find(parts[i]);
        if (field == nullptr) return none;
        void* member = field->access(at);
        const ValueNode& node = *field->node;
        // A mapping, an entry or an item is no number: a key path must go on below them.
        const bool below = i + 1 < parts.size();
        switch (node.kind()) {
            case NodeKind::Record:
                if (!below) return none;
                record = static_cast<const RecordNode&>(node).record.get();
                at = member;
                continue;
            case NodeKind::Named: {
                const auto& named = static_cast<const NamedNode&>(node);
                if (i + 2 >= parts.size()) return none;
                const std::string& name = parts[++i];
                void* entry = nullptr;
                for (std::size_t k = 0; k < named.ops.size(member) && entry == nullptr; ++k)
                    if (*named.ops.name(named.ops.at(member, k)) == name) entry = named.ops.value(named.ops.at(member, k));
                if (entry == nullptr) return none;
                record = named.record.get();
                at = entry;
                continue;
            }
            case NodeKind::List: {
                const auto& list = static_cast<const ListNode&>(node);
                if (i + 2 >= parts.size()) return none;
                const std::string& index_text = parts[++i];
                if (index_text.empty() || index_text.size() > 9 ||
                    !std::all_of(index_text.begin(), index_text.end(), [](char c) { return c >= '0' && c <= '9'; }))
                    return none;
                const std::size_t index = std::stoul(index_text);
                if (index >= list.ops.size(member)) return none;
                record = list.record.get();
                at = list.ops.value(list.ops.at(member, index));
                continue;
            }
            case NodeKind::NamedReals:
                if (i + 2 != parts.size()) return none;
                for (const Named<double>& e : as<std::vector<Named<double>>>(member))
                    if (e.name == parts[i + 1]) return e.value;
                return none;
            case NodeKind::Real:
                return below ? none : as<double>(member);
            case NodeKind::Integer:
                return below ? none : static_cast<double>(as<std::int64_t>(member));
            default:  // a switch, a text, a choice, a list of texts
                return none;
        }
    }
    return none;
}

std::string check_value(const RecordImpl& schema, const std::string& key_path, const std::string& value_text) {
    const std::vector<std::string> parts = key_path_parts(key_path);
    const RecordImpl* record = &schema;
    const ValueNode* leaf = nullptr;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        const Field* field = record->find(parts[i]);
        if (field == nullptr) return "no key '" + parts[i] + "' at " + key_path;
        const ValueNode& node = *field->node;
        const bool last = i + 1 == parts.size();
        switch (node.kind()) {
            case NodeKind::Record:
                if (last) return key_path + " is a mapping, not a number";
                record = static_cast<const RecordNode&>(node).record.get();
                continue;
            case NodeKind::Named:
                if (i + 2 >= parts.size()) return key_path + " names no number below a named entry";
                record = static_cast<const NamedNode&>(node).record.get();
                ++i;  // the entry's name
                continue;
            case NodeKind::List:
                if (i + 2 >= parts.size()) return key_path + " names no number below a list item";
                record = static_cast<const ListNode&>(node).record.get();
                ++i;  // the item's index
                continue;
            case NodeKind::NamedReals:
                if (i + 2 != parts.size()) return key_path + " names no number in a mapping of numbers";
                leaf = &node;
                break;
            default:
                if (!last) return key_path + ": '" + parts[i] + "' has no keys below it";
                leaf = &node;
        }
        break;
    }
    if (leaf == nullptr) return key_path + " names no number";
    DocNode value;
    value.kind = DocNode::Kind::Scalar;
    value.scalar = value_text;
    value.tag = "?";
    SourceMap source;
    Context ctx;
    ctx.source = &source;
    if (leaf->kind() == NodeKind::NamedReals) {
        const auto& reals = static_cast<const NamedRealsNode&>(*leaf);
        const NumberResult r = parse_real(value);
        if (!r.ok) return r.error;
        if (!reals.range.contains(r.real)) return range_message("a number", reals.range, value_text);
        return "";
    }
    if (leaf->kind() == NodeKind::Real) {
        double target = 0;
        leaf->bind(value, &target, ctx, key_path);
    } else if (leaf->kind() == NodeKind::Integer) {
        std::int64_t target = 0;
        leaf->bind(value, &target, ctx, key_path);
    } else {
        return key_path + " is a " + leaf->type_name() + ", not a number";
    }
    return ctx.diagnostics.empty() ? std::string() : ctx.diagnostics.front().message;
}

std::vector<KeyRow> describe_record(const RecordImpl& schema) {
    std::vector<KeyRow> rows;
    schema.describe("", rows);
    return rows;
}

}  // namespace detail
}  // namespace citysim::scenario
