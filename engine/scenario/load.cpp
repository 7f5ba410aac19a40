// Reading a scenario: the YAML document, the --set overrides, binding, resolved YAML.
#include "engine/scenario/detail/internal.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>

namespace citysim::scenario::detail {

// ------------------------------------------------------------------ yaml-cpp -> DocNode

Mark MarkMapper::map(const YAML::Mark& m) const {
    if (line_override > 0) return Mark{file, line_override, column_offset + std::max(m.column, 0) + 1};
    return Mark{file, m.line + 1, m.column + 1};
}

namespace {

constexpr int max_depth = 256;
constexpr std::size_t max_nodes = 2'000'000;

struct Converter {
    const MarkMapper& mapper;
    std::vector<Diagnostic>& diagnostics;
    std::size_t nodes = 0;
    bool reported = false;

    DocNode run(const YAML::Node& node, const Mark& fallback, int depth) {
        DocNode out;
        const YAML::Mark ym = node.Mark();
        out.mark = ym.line < 0 ? fallback : mapper.map(ym);
        if (++nodes > max_nodes || depth > max_depth) {
            if (!reported) {
                diagnostics.push_back(Diagnostic{out.mark, "",
                                                 depth > max_depth
                                                     ? "the document nests deeper than " + std::to_string(max_depth) +
                                                           " levels (a recursive alias?)"
                                                     : "the document expands to more than " +
                                                           std::to_string(max_nodes) + " values (aliases?)"});
                reported = true;
            }
            return out;  // Null
        }
        switch (node.Type()) {
            case YAML::NodeType::Undefined:
            case YAML::NodeType::Null: out.kind = DocNode::Kind::Null; break;
            case YAML::NodeType::Scalar:
                out.kind = DocNode::Kind::Scalar;
                out.scalar = node.Scalar();
                out.tag = node.Tag();
                break;
            case YAML::NodeType::Sequence:
                out.kind = DocNode::Kind::Sequence;
                out.tag = node.Tag();
                for (auto it = node.begin(); it != node.end(); ++it) out.items.push_back(run(*it, out.mark, depth + 1));
                break;
            case YAML::NodeType::Map:
                out.kind = DocNode::Kind::Map;
                out.tag = node.Tag();
                for (auto it = node.begin(); it != node.end(); ++it) {
                    DocEntry e;
                    e.key = run(it->first, out.mark, depth + 1);
                    e.value = run(it->second, e.key.mark, depth + 1);
                    // yaml-cpp marks an empty value (`key:`) at the next token, often on a later line.
                    if (e.value.kind == DocNode::Kind::Null && e.value.mark.line != e.key.mark.line)
                        e.value.mark = e.key.mark;
                    out.entries.push_back(std::move(e));
                }
                break;
        }
        return out;
    }
};

}  // namespace

DocNode convert(const YAML::Node& node, const MarkMapper& mapper, const Mark& fallback,
                std::vector<Diagnostic>& diagnostics) {
    Converter c{mapper, diagnostics};
    return c.run(node, fallback, 0);
}

// ------------------------------------------------------------------ overrides

namespace {

struct Segment {
    std::string text;
    std::size_t column0 = 0;  // offset inside the argument
};

DocEntry* find_entry(DocNode& map, const std::string& key) {
    for (DocEntry& e : map.entries)
        if (e.key.kind == DocNode::Kind::Scalar && e.key.scalar == key) return &e;
    return nullptr;
}

std::vector<std::string> entry_names(const DocNode* map) {
    std::vector<std::string> out;
    if (map == nullptr || !map->is_map()) return out;
    for (const DocEntry& e : map->entries)
        if (e.key.kind == DocNode::Kind::Scalar) out.push_back(e.key.scalar);
    return out;
}

DocNode scalar_key(const std::string& text, const Mark& mark) {
    DocNode k;
    k.kind = DocNode::Kind::Scalar;
    k.scalar = text;
    k.tag = "?";
    k.mark = mark;
    return k;
}

std::string article(const std::string& type_name) {
    const char c = type_name.empty() ? 'x' : type_name.front();
    return (c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u') ? "an " + type_name : "a " + type_name;
}

}  // namespace

void apply_override(DocNode& root, const RecordImpl& schema, const std::string& argument, int index,
                    std::vector<Diagnostic>& diagnostics) {
    const int line = index + 1;
    auto at = [&](std::size_t column0) { return Mark{"--set", line, static_cast<int>(column0) + 1}; };
    auto fail = [&](std::size_t column0, std::string key_path, std::string message) {
        diagnostics.push_back(Diagnostic{at(column0), std::move(key_path), std::move(message)});
    };

    const std::size_t eq = argument.find('=');
    if (eq == std::string::npos) {
        fail(0, "", "expected key.path=value, got '" + argument + "'");
        return;
    }
    const std::string path_text = argument.substr(0, eq);
    std::vector<Segment> segments;
    for (std::size_t start = 0;;) {
        const std::size_t dot = path_text.find('.', start);
        const std::size_t end = dot == std::string::npos ? path_text.size() : dot;
        segments.push_back(Segment{path_text.substr(start, end - start), start});
        if (dot == std::string::npos) break;
        start = dot + 1;
    }
    for (const Segment& s : segments) {
        if (s.text.empty()) {
            fail(s.column0, "",
                 path_text.empty() ? "expected key.path=value, the key path is empty"
                                   : "the key path '" + path_text + "' has an empty part; write key.path=value");
            return;
        }
    }

    const std::string value_text = argument.substr(eq + 1);
    YAML::Node parsed;
    try {
        parsed = YAML::Load(value_text);
    } catch (const YAML::Exception& e) {
        fail(eq + 1 + static_cast<std::size_t>(std::max(e.mark.column, 0)), path_text,
             "the value is not valid YAML: " + e.msg);
        return;
    }
    const MarkMapper mapper{"--set", line, static_cast<int>(eq + 1)};
    DocNode value = convert(parsed, mapper, at(eq + 1), diagnostics);

    const RecordImpl* record = &schema;
    DocNode* doc = &root;  // the mapping governed by `record`
    std::string walked;
    std::size_t i = 0;
    while (true) {
        const Segment& seg = segments[i];
        const bool last = i + 1 == segments.size();
        const std::string child = join(walked, seg.text);
        const Field* field = record->find(seg.text);
        if (field == nullptr) {
            const std::vector<std::string> candidates = record->keys();
            const std::string s = suggest(seg.text, candidates);
            fail(seg.column0, child,
                 "unknown key '" + seg.text + "'" +
                     (!s.empty() ? "; did you mean '" + join(walked, s) + "'?"
                                 : "; the keys " + (walked.empty() ? "at the top" : "of '" + walked + "'") +
                                       " are: " + join_list(candidates)));
            return;
        }
        if (doc->kind == DocNode::Kind::Null) doc->kind = DocNode::Kind::Map;
        if (!doc->is_map()) {
            fail(seg.column0, walked,
                 "cannot apply: '" + walked + "' in the scenario is " + describe_doc(*doc) +
                     ", not a mapping; fix the file first");
            return;
        }
        DocEntry* entry = find_entry(*doc, seg.text);
        if (last) {
            if (entry != nullptr) {
                entry->key.mark = at(0);
                entry->value = std::move(value);
            } else {
                doc->entries.push_back(DocEntry{scalar_key(seg.text, at(0)), std::move(value)});
            }
            return;
        }
        const Segment& next = segments[i + 1];
        const bool next_last = i + 2 == segments.size();
        const ValueNode& node = *field->node;
        switch (node.kind()) {
            case NodeKind::Record: {
                if (entry == nullptr) {
                    DocNode empty;
                    empty.kind = DocNode::Kind::Map;
                    empty.mark = at(0);
                    doc->entries.push_back(DocEntry{scalar_key(seg.text, at(0)), std::move(empty)});
                    entry = &doc->entries.back();
                }
                record = static_cast<const RecordNode&>(node).record.get();
                doc = &entry->value;
                walked = child;
                i += 1;
                continue;
            }
            case NodeKind::Named: {
                const auto& named = static_cast<const NamedNode&>(node);
                const std::string entry_path = join(child, next.text);
                DocEntry* named_entry =
                    entry != nullptr && entry->value.is_map() ? find_entry(entry->value, next.text) : nullptr;
                if (named_entry == nullptr) {
                    const std::vector<std::string> names = entry_names(entry ? &entry->value : nullptr);
                    std::string m = "no " + named.meaning + " named '" + next.text + "' in the scenario; ";
                    m += names.empty() ? "it has no " + field->key : field->key + " are: " + join_list(names);
                    const std::string s = suggest(next.text, names);
                    if (!s.empty()) m += "; did you mean '" + s + "'?";
                    fail(next.column0, entry_path, m);
                    return;
                }
                if (next_last) {
                    named_entry->key.mark = at(0);
                    named_entry->value = std::move(value);
                    return;
                }
                record = named.record.get();
                doc = &named_entry->value;
                walked = entry_path;
                i += 2;
                continue;
            }
            case NodeKind::NamedReals: {
                const auto& reals = static_cast<const NamedRealsNode&>(node);
                const std::string entry_path = join(child, next.text);
                DocEntry* real_entry =
                    entry != nullptr && entry->value.is_map() ? find_entry(entry->value, next.text) : nullptr;
                if (real_entry == nullptr) {
                    const std::vector<std::string> names = entry_names(entry ? &entry->value : nullptr);
                    fail(next.column0, entry_path,
                         "no " + reals.meaning + " named '" + next.text + "' in " + child + "; " +
                             (names.empty() ? "it has none" : "it has: " + join_list(names)) +
                             "; to add one, set the whole mapping: " + child + "={name: value, ...}");
                    return;
                }
                if (!next_last) {
                    fail(segments[i + 2].column0, entry_path,
                         "'" + entry_path + "' is a real; it has no keys below it");
                    return;
                }
                real_entry->value = std::move(value);
                return;
            }
            case NodeKind::List: {
                const auto& list = static_cast<const ListNode&>(node);
                const std::string& t = next.text;
                const bool is_index = std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
                                      (t.size() == 1 || t.front() != '0') && t.size() < 10;
                if (!is_index) {
                    fail(next.column0, join(child, t),
                         "expected an item index after '" + child + "' (0, 1, ...), got '" + t + "'");
                    return;
                }
                const std::size_t item_index = std::stoul(t);
                DocNode* seq = entry != nullptr && entry->value.kind == DocNode::Kind::Sequence ? &entry->value : nullptr;
                const std::size_t n = seq ? seq->items.size() : 0;
                if (item_index >= n) {
                    fail(next.column0, join(child, t),
                         "no item " + t + " in " + child + "; " +
                             (n == 0 ? std::string("it has no items")
                                     : "it has " + std::to_string(n) + (n == 1 ? " item (index 0)" : " items (0.." +
                                                                                     std::to_string(n - 1) + ")")));
                    return;
                }
                DocNode& item = seq->items[item_index];
                if (next_last) {
                    item = std::move(value);
                    return;
                }
                if (item.kind == DocNode::Kind::Sequence && !list.positional.empty()) {
                    if (item.items.size() > list.positional.size()) {
                        fail(next.column0, join(child, t),
                             "cannot apply: the item has more values than [" + join_list(list.positional) +
                                 "]; fix the file first");
                        return;
                    }
                    DocNode as_map;
                    as_map.kind = DocNode::Kind::Map;
                    as_map.mark = item.mark;
                    for (std::size_t j = 0; j < item.items.size(); ++j)
                        as_map.entries.push_back(
                            DocEntry{scalar_key(list.positional[j], item.items[j].mark), std::move(item.items[j])});
                    item = std::move(as_map);
                }
                record = list.record.get();
                doc = &item;
                walked = join(child, t);
                i += 2;
                continue;
            }
            default:
                fail(next.column0, child, "'" + child + "' is " + article(node.type_name()) + "; it has no keys below it");
                return;
        }
    }
}

// ------------------------------------------------------------------ loading

namespace {

Mark yaml_mark(const std::string& file, const YAML::Mark& m) {
    if (m.line < 0) return Mark{file, 0, 0};
    return Mark{file, m.line + 1, m.column + 1};
}

// Whether line `line0` (0-based) or the one before it is indented with a tab.
bool tab_indented_near(const std::string& text, int line0) {
    std::istringstream in(text);
    std::string l;
    for (int i = 0; std::getline(in, l) && i <= line0; ++i) {
        if (i < line0 - 1) continue;
        const std::size_t end = l.find_first_not_of(" \t");
        if (l.substr(0, end).find('\t') != std::string::npos) return true;
    }
    return false;
}

[[noreturn]] void throw_yaml_error(const std::string& file, const std::string& text, const YAML::Exception& e) {
    std::string message = e.msg;
    if (message.empty()) message = e.what();
    if (e.mark.line >= 0 && tab_indented_near(text, e.mark.line))
        message += " (YAML does not allow tabs for indentation; indent with spaces)";
    throw ScenarioError({Diagnostic{yaml_mark(file, e.mark), "", "invalid YAML: " + message}});
}

// The document of one scenario file (a mapping, empty if the file is), with syntax errors thrown.
DocNode parse_document(const std::string& text, const std::string& display_name, std::vector<Diagnostic>& diagnostics) {
    std::vector<YAML::Node> documents;
    try {
        documents = YAML::LoadAll(text);
    } catch (const YAML::Exception& e) {
        throw_yaml_error(display_name, text, e);
    }
    const Mark start{display_name, 1, 1};
    const MarkMapper mapper{display_name, 0, 0};
    DocNode root;
    try {
        if (!documents.empty()) root = convert(documents[0], mapper, start, diagnostics);
        if (documents.size() > 1) {
            const YAML::Mark m = documents[1].Mark();
            diagnostics.push_back(
                Diagnostic{m.line < 0 ? start : mapper.map(m), "",
                           "the file holds " + std::to_string(documents.size()) +
                               " YAML documents; a scenario is one document: remove the '---' separators"});
        }
    } catch (const YAML::Exception& e) {
        throw_yaml_error(display_name, text, e);
    }
    if (root.kind == DocNode::Kind::Null) {
        root.kind = DocNode::Kind::Map;
        root.mark = start;
    }

    return root;
}

// Merges `over` into `base`: mappings merge key by key (recursively), anything else replaces.
void merge_into(DocNode& base, DocNode over) {
    if (!base.is_map() || !over.is_map()) {
        base = std::move(over);
        return;
    }
    for (auto& entry : over.entries) {
        auto same = std::find_if(base.entries.begin(), base.entries.end(), [&](const DocEntry& e) {
            return e.key.kind == DocNode::Kind::Scalar && entry.key.kind == DocNode::Kind::Scalar &&
                   e.key.scalar == entry.key.scalar;
        });
        if (same == base.entries.end()) {
            base.entries.push_back(std::move(entry));
        } else {
            same->key = std::move(entry.key);
            merge_into(same->value, std::move(entry.value));
        }
    }
    base.mark = over.mark;
}

// `extends: base.yaml` at the top of a scenario: the base scenario's document (itself possibly
// extending another), with this file's keys merged over it. Paths are relative to the extending
// file. Values keep the marks of the file they come from, so errors name that file.
DocNode resolve_extends(DocNode root, const std::string& display_name, std::vector<Diagnostic>& diagnostics,
                        std::vector<std::filesystem::path> chain) {
    if (!root.is_map()) return root;
    const auto it = std::find_if(root.entries.begin(), root.entries.end(), [](const DocEntry& e) {
        return e.key.kind == DocNode::Kind::Scalar && e.key.scalar == "extends";
    });
    if (it == root.entries.end()) return root;
    const DocNode value = it->value;
    root.entries.erase(it);
    if (value.kind != DocNode::Kind::Scalar || value.scalar.empty()) {
        diagnostics.push_back(Diagnostic{value.mark, "extends",
                                         "expected the path of the scenario file this one builds on (relative to this "
                                         "file), got " + describe_doc(value)});
        return root;
    }
    const std::filesystem::path here(display_name);
    std::filesystem::path base_path(value.scalar);
    if (base_path.is_relative()) base_path = here.parent_path() / base_path;
    base_path = base_path.lexically_normal();
    for (const auto& seen : chain) {
        std::error_code ec;
        if (std::filesystem::equivalent(seen, base_path, ec) || seen.lexically_normal() == base_path) {
            std::string cycle;
            for (const auto& c : chain) cycle += c.string() + " -> ";
            diagnostics.push_back(Diagnostic{value.mark, "extends",
                                             "the scenarios extend each other in a cycle: " + cycle + base_path.string() +
                                                 "; remove one of the `extends` keys"});
            return root;
        }
    }
    std::string text;
    try {
        text = read_file(base_path);
    } catch (const ScenarioError& e) {
        diagnostics.push_back(Diagnostic{value.mark, "extends",
                                         "cannot read the scenario it extends, " + base_path.string() + ": " +
                                             e.diagnostics().front().message});
        return root;
    }
    chain.push_back(base_path);
    DocNode base = parse_document(text, base_path.string(), diagnostics);
    base = resolve_extends(std::move(base), base_path.string(), diagnostics, std::move(chain));
    merge_into(base, std::move(root));
    return base;
}

}  // namespace

LoadOutput load_text(const RecordImpl& schema, void* object, const std::string& text, const std::string& display_name,
                     const std::vector<std::string>& overrides) {
    LoadOutput out;
    out.source.set_file(display_name);
    Context ctx;
    ctx.source = &out.source;

    DocNode root = parse_document(text, display_name, ctx.diagnostics);
    root = resolve_extends(std::move(root), display_name, ctx.diagnostics, {std::filesystem::path(display_name)});

    for (std::size_t i = 0; i < overrides.size(); ++i) {
        try {
            apply_override(root, schema, overrides[i], static_cast<int>(i), ctx.diagnostics);
        } catch (const YAML::Exception& e) {
            ctx.diagnostics.push_back(Diagnostic{Mark{"--set", static_cast<int>(i) + 1, 1}, "", e.what()});
        }
    }
    for (const Diagnostic& d : ctx.diagnostics) out.source.note_error(d.key_path);

    out.source.set("", root.mark);
    if (!root.is_map()) {
        ctx.error(root.mark, "", "expected a mapping of keys at the top of the scenario, got " + describe_doc(root));
        schema.assign_defaults(object);
    } else {
        schema.bind_map(&root, object, ctx, "", root.mark, "");
    }

    auto rank = [&](const Diagnostic& d) {
        if (d.mark.file == display_name) return 0;
        if (d.mark.file == "--set") return 1;
        return 2;
    };
    std::stable_sort(ctx.diagnostics.begin(), ctx.diagnostics.end(), [&](const Diagnostic& a, const Diagnostic& b) {
        const int ra = rank(a), rb = rank(b);
        if (ra != rb) return ra < rb;
        if (a.mark.line != b.mark.line) return a.mark.line < b.mark.line;
        return a.mark.column < b.mark.column;
    });
    out.diagnostics = std::move(ctx.diagnostics);

    out.resolved_yaml = emit_yaml(schema, object);
    return out;
}

std::string emit_yaml(const RecordImpl& schema, const void* object) {
    YAML::Emitter emitter;
    schema.emit(emitter, object);
    if (!emitter.good()) throw std::logic_error("scenario: cannot emit the scenario: " + emitter.GetLastError());
    return std::string(emitter.c_str()) + "\n";
}

std::string read_file(const std::filesystem::path& path) {
    auto fail = [&](const std::string& why) -> std::string {
        throw ScenarioError({Diagnostic{Mark{path.string(), 0, 0}, "", "cannot read the scenario file: " + why}});
    };
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) return fail("it is a directory");
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail(std::strerror(errno));
    std::ostringstream buffer;
    buffer << in.rdbuf();
    if (in.bad()) return fail(std::strerror(errno));
    return buffer.str();
}

}  // namespace citysim::scenario::detail
