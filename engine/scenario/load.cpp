// Reading a scenario: the YAML document, the --set overrides, binding, resolved YAML.
#include "engine/scenario/detail/internal.hpp"
#include "engine/scenario/input.hpp"

#include <algorithm>
#include <deque>
#include <memory>
#include <mutex>
#include <sstream>
#include <system_error>

namespace citysim::scenario::detail {

// ------------------------------------------------------------------ yaml-cpp -> DocNode

Mark MarkMapper::map(const YAML::Mark& m) const {
    if (line_override > 0) return Mark{file, line_override, column_offset + std::max(m.column, 0) + 1};
    return Mark{file, m.line + 1, m.column + 1};
}

namespace {

// Thrown by the builder when the document exceeds a limit; parse_yaml turns it into a diagnostic.
struct LimitExceeded {
    Mark mark;
    std::string message;
};

// Builds DocNodes from yaml-cpp's parser events (instead of going through YAML::Node), so that the
// limits hold while the document is read: nesting depth, and the number of values after aliases
// are expanded (an alias is a copy here, counted at its full size).
class DocBuilder final : public YAML::EventHandler {
public:
    DocBuilder(const MarkMapper& mapper, const Mark& fallback, std::size_t& values)
        : mapper_(mapper), fallback_(fallback), values_(values) {}

    YAML::Mark start_mark;
    bool has_root = false;
    DocNode root;
    std::vector<YAML::Mark> quoted;  // where each quoted scalar starts

    void OnDocumentStart(const YAML::Mark& mark) override { start_mark = mark; }
    void OnDocumentEnd() override {}

    void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
        DocNode node;
        node.kind = DocNode::Kind::Null;
        node.mark = map(mark);
        count(1, mark);
        finish(std::move(node), anchor, 1);
    }
    void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
        if (anchor >= anchors_.size() || !anchors_[anchor].complete)
            throw LimitExceeded{map(mark), "an alias refers to the node that contains it (a recursive alias); "
                                           "write the value out"};
        const Anchored& target = anchors_[anchor];
        count(target.size, mark);
        finish(DocNode(target.node), 0, target.size);
    }
    void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  const std::string& value) override {
        if (tag == "!") quoted.push_back(mark);
        DocNode node;
        node.kind = DocNode::Kind::Scalar;
        node.mark = map(mark);
        node.scalar = value;
        node.tag = tag;
        count(1, mark);
        finish(std::move(node), anchor, 1);
    }
    void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                         YAML::EmitterStyle::value) override {
        open(DocNode::Kind::Sequence, mark, tag, anchor);
    }
    void OnSequenceEnd() override { close(); }
    void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                    YAML::EmitterStyle::value) override {
        open(DocNode::Kind::Map, mark, tag, anchor);
    }
    void OnMapEnd() override { close(); }

private:
    struct Frame {
        DocNode node;
        YAML::anchor_t anchor = 0;
        std::size_t size = 1;  // values in the subtree
        std::optional<DocNode> pending_key;
    };
    struct Anchored {
        DocNode node;
        std::size_t size = 0;
        bool complete = false;
    };

    Mark map(const YAML::Mark& mark) const { return mark.line < 0 ? fallback_ : mapper_.map(mark); }

    void count(std::size_t added, const YAML::Mark& mark) {
        values_ += added;
        if (values_ > limits::max_values)
            throw LimitExceeded{map(mark), "the document expands to more than " + std::to_string(limits::max_values) +
                                               " values (aliases?); a scenario has a few hundred"};
    }

    void open(DocNode::Kind kind, const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor) {
        count(1, mark);
        if (static_cast<int>(stack_.size()) >= limits::max_depth)
            throw LimitExceeded{map(mark), "the document nests deeper than " + std::to_string(limits::max_depth) +
                                               " levels; a scenario nests about 6"};
        Frame frame;
        frame.node.kind = kind;
        frame.node.mark = map(mark);
        frame.node.tag = tag;
        frame.anchor = anchor;
        if (anchor != 0) reserve_anchor(anchor);
        stack_.push_back(std::move(frame));
    }

    void close() {
        Frame frame = std::move(stack_.back());
        stack_.pop_back();
        if (frame.pending_key) {
            // A key without a value cannot come from the parser; keep it as a key with no value.
            DocNode empty;
            empty.mark = frame.pending_key->mark;
            frame.node.entries.push_back(DocEntry{std::move(*frame.pending_key), std::move(empty)});
        }
        finish(std::move(frame.node), frame.anchor, frame.size);
    }

    void reserve_anchor(YAML::anchor_t anchor) {
        if (anchor >= anchors_.size()) anchors_.resize(anchor + 1);
        anchors_[anchor] = Anchored{};
    }

    // node has been counted (count()) by the caller.
    void finish(DocNode node, YAML::anchor_t anchor, std::size_t size) {
        if (anchor != 0) {
            reserve_anchor(anchor);
            anchors_[anchor] = Anchored{node, size, true};
        }
        if (stack_.empty()) {
            root = std::move(node);
            has_root = true;
            return;
        }
        Frame& parent = stack_.back();
        parent.size += size;
        if (parent.node.kind == DocNode::Kind::Sequence) {
            parent.node.items.push_back(std::move(node));
        } else if (!parent.pending_key) {
            parent.pending_key = std::move(node);
        } else {
            DocEntry entry{std::move(*parent.pending_key), std::move(node)};
            parent.pending_key.reset();
            // yaml-cpp marks an empty value (`key:`) at the next token, often on a later line.
            if (entry.value.kind == DocNode::Kind::Null && entry.value.mark.line != entry.key.mark.line)
                entry.value.mark = entry.key.mark;
            parent.node.entries.push_back(std::move(entry));
        }
    }

    const MarkMapper& mapper_;
    Mark fallback_;
    std::size_t& values_;
    std::vector<Frame> stack_;
    std::vector<Anchored> anchors_;
};

// Receives the events of the documents after the first, only to count them.
class DocumentCounter final : public YAML::EventHandler {
public:
    explicit DocumentCounter(std::vector<YAML::Mark>& quoted) : quoted_(quoted) {}
    YAML::Mark start_mark;
    void OnDocumentStart(const YAML::Mark& mark) override { start_mark = mark; }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
    void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t, const std::string&) override {
        if (tag == "!") quoted_.push_back(mark);
    }
    void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
    void OnMapEnd() override {}

private:
    std::vector<YAML::Mark>& quoted_;
};

// yaml-cpp 0.7 accepts a quoted scalar that a line break and the end of the text cut off
// (`key: "abc` + newline + end): it takes the rest of the file as the string. Whether the quoted
// scalar at `offset` (its properties, a tag or an anchor, may come first) has its closing quote.
bool quote_closed(const std::string& text, std::size_t offset) {
    std::size_t p = offset;
    while (p < text.size() && (text[p] == '!' || text[p] == '&')) {
        while (p < text.size() && text[p] != ' ' && text[p] != '\t' && text[p] != '\n' && text[p] != '\r') ++p;
        while (p < text.size() && (text[p] == ' ' || text[p] == '\t' || text[p] == '\n' || text[p] == '\r')) ++p;
    }
    if (p >= text.size() || (text[p] != '"' && text[p] != '\'')) return true;  // not where expected: no verdict
    const char quote = text[p];
    for (++p; p < text.size(); ++p) {
        if (quote == '"' && text[p] == '\\') {
            ++p;  // an escape: the next character is part of it
        } else if (text[p] == quote) {
            if (quote == '\'' && p + 1 < text.size() && text[p + 1] == '\'') {
                ++p;  // '' is a quote inside a single-quoted scalar
            } else {
                return true;
            }
        }
    }
    return false;
}

bool same_position(const YAML::Mark& a, const YAML::Mark& b) {
    return a.pos == b.pos && a.line == b.line && a.column == b.column;
}

}  // namespace

ParsedYaml parse_yaml(const std::string& text, const MarkMapper& mapper, const Mark& fallback) {
    ParsedYaml out;
    std::istringstream stream(text);
    YAML::Parser parser(stream);
    std::size_t values = 0;
    try {
        DocBuilder first(mapper, fallback, values);
        if (!parser.HandleNextDocument(first)) return out;
        std::vector<YAML::Mark> quoted = std::move(first.quoted);
        out.documents = 1;
        if (first.has_root) out.root = std::move(first.root);
        out.root_present = first.has_root;
        YAML::Mark previous = first.start_mark;
        for (;;) {
            DocumentCounter counter(quoted);
            if (!parser.HandleNextDocument(counter)) break;
            ++out.documents;
            if (out.documents == 2)
                out.second_document = counter.start_mark.line < 0 ? fallback : mapper.map(counter.start_mark);
            // yaml-cpp 0.7 (upstream issue 1040, mended in PR 1319) returns an empty document
            // without consuming anything when it meets a ',' outside a flow collection, forever.
            // Two documents that start at the same place are that loop: refuse the input.
            if (same_position(counter.start_mark, previous) || out.documents > limits::max_documents) {
                const Mark at = counter.start_mark.line < 0 ? fallback : mapper.map(counter.start_mark);
                const bool comma = counter.start_mark.pos >= 0 &&
                                   static_cast<std::size_t>(counter.start_mark.pos) < text.size() &&
                                   text[static_cast<std::size_t>(counter.start_mark.pos)] == ',';
                out.error = Diagnostic{at, "",
                                       comma ? "invalid YAML: a ',' outside [ ] or { }; remove it, or put the list "
                                               "in brackets: [a, b]"
                                             : "invalid YAML: the parser cannot go on from here"};
                return out;
            }
            previous = counter.start_mark;
        }
        // yaml-cpp's marks count bytes after a byte order mark, which it skips.
        const std::size_t bom = text.rfind("\xEF\xBB\xBF", 0) == 0 ? 3 : 0;
        for (const YAML::Mark& mark : quoted) {
            if (mark.pos < 0 || quote_closed(text, static_cast<std::size_t>(mark.pos) + bom)) continue;
            out.yaml_error = "the quoted string that starts here is never closed (a missing quote?)";
            out.yaml_error_mark = mapper.map(mark);
            out.yaml_error_line0 = mark.line;
            return out;
        }
    } catch (const LimitExceeded& e) {
        out.error = Diagnostic{e.mark, "", e.message};
    } catch (const YAML::Exception& e) {
        out.yaml_error = e.msg.empty() ? std::string(e.what()) : e.msg;
        out.yaml_error_mark = e.mark.line < 0 ? fallback : mapper.map(e.mark);
        out.yaml_error_line0 = e.mark.line;
    }
    return out;
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

    if (const auto problem = find_text_problem(argument)) {
        fail(static_cast<std::size_t>(problem->column - 1), path_text, problem->message);
        return;
    }
    const std::string value_text = argument.substr(eq + 1);
    const MarkMapper mapper{"--set", line, static_cast<int>(eq + 1)};
    ParsedYaml parsed = parse_yaml(value_text, mapper, at(eq + 1));
    if (!parsed.yaml_error.empty()) {
        const Mark& m = parsed.yaml_error_mark;
        fail(static_cast<std::size_t>(std::max(m.column - 1, static_cast<int>(eq + 1))), path_text,
             "the value is not valid YAML: " + parsed.yaml_error);
        return;
    }
    if (parsed.error) {
        diagnostics.push_back(Diagnostic{parsed.error->mark, path_text, parsed.error->message});
        return;
    }
    if (parsed.documents > 1) {
        fail(eq + 1, path_text, "the value holds " + std::to_string(parsed.documents) + " YAML documents; give one value");
        return;
    }
    DocNode value = std::move(parsed.root);
    if (!parsed.root_present) {
        value.kind = DocNode::Kind::Null;
        value.mark = at(eq + 1);
    }

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

// Whether line `line0` (0-based) starts with a key (text up to ': ') of more than 1024 characters.
bool long_key_on_line(const std::string& text, int line0) {
    std::istringstream in(text);
    std::string l;
    for (int i = 0; std::getline(in, l); ++i) {
        if (i < line0) continue;
        const std::size_t colon = l.find(": ");
        return (colon == std::string::npos ? l.size() : colon) > 1024;
    }
    return false;
}

// The document of one scenario file (a mapping, empty if the file is), with syntax errors thrown.
DocNode parse_text(const std::string& text, const std::string& display_name, std::vector<Diagnostic>& diagnostics) {
    const Mark start{display_name, 1, 1};
    const MarkMapper mapper{display_name, 0, 0};
    ParsedYaml parsed = parse_yaml(text, mapper, start);
    if (!parsed.yaml_error.empty()) {
        std::string message = parsed.yaml_error;
        if (parsed.yaml_error_line0 >= 0 && tab_indented_near(text, parsed.yaml_error_line0))
            message += " (YAML does not allow tabs for indentation; indent with spaces)";
        else if (parsed.yaml_error_line0 >= 0 && long_key_on_line(text, parsed.yaml_error_line0))
            message += " (a key longer than 1024 characters: YAML allows no longer key unless it follows '? ')";
        throw ScenarioError({Diagnostic{parsed.yaml_error_mark, "", "invalid YAML: " + message}});
    }
    if (parsed.error) throw ScenarioError({*parsed.error});
    DocNode root = std::move(parsed.root);
    if (parsed.documents > 1) {
        diagnostics.push_back(Diagnostic{parsed.second_document, "",
                                         "the file holds " + std::to_string(parsed.documents) +
                                             " YAML documents; a scenario is one document: remove the '---' separators"});
    }
    if (root.kind == DocNode::Kind::Null) {
        root.kind = DocNode::Kind::Map;
        root.mark = start;
    }
    return root;
}

// parse_text(), remembered for the last few texts read (of at most 4 MiB each): every run of a
// sweep loads the same base scenario (and what it extends), and parsing costs more than copying
// what it gave. A text is parsed again only when its name or one of its bytes differs; a text with
// a syntax error is not kept, so its error is thrown again each time.
DocNode parse_document(const std::string& text, const std::string& display_name, std::vector<Diagnostic>& diagnostics) {
    struct Parsed {
        std::string display_name, text;
        DocNode root;
        std::vector<Diagnostic> diagnostics;
    };
    static constexpr std::size_t kept_texts = 4, kept_bytes_each = std::size_t{4} << 20;
    static std::mutex mutex;
    static std::deque<std::shared_ptr<const Parsed>> kept;  // newest last
    std::shared_ptr<const Parsed> found;
    {
        const std::lock_guard lock(mutex);
        for (const auto& p : kept)
            if (p->text == text && p->display_name == display_name) found = p;
    }
    if (!found) {
        auto parsed = std::make_shared<Parsed>();
        parsed->root = parse_text(text, display_name, parsed->diagnostics);
        found = parsed;
        if (text.size() <= kept_bytes_each) {
            parsed->display_name = display_name;
            parsed->text = text;
            const std::lock_guard lock(mutex);
            if (kept.size() == kept_texts) kept.pop_front();
            kept.push_back(std::move(parsed));
        }
    }
    diagnostics.insert(diagnostics.end(), found->diagnostics.begin(), found->diagnostics.end());
    return found->root;
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
// file, and must stay inside the allowed folders (input.hpp): a file outside them is never opened,
// so that a scenario cannot make citysim read, echo or record another file. Values keep the marks
// of the file they come from, so errors name that file.
DocNode resolve_extends(DocNode root, const std::string& display_name, std::vector<Diagnostic>& diagnostics,
                        std::vector<std::filesystem::path> chain, const AllowedFolders& allowed,
                        std::vector<std::filesystem::path>& files, bool& extends_failed) {
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
        extends_failed = true;
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
            extends_failed = true;
        return root;
        }
    }
    if (static_cast<int>(chain.size()) >= limits::max_extends_chain) {
        diagnostics.push_back(Diagnostic{value.mark, "extends",
                                         "more than " + std::to_string(limits::max_extends_chain) +
                                             " scenarios extend one another; merge some of them"});
        extends_failed = true;
        return root;
    }
    if (!allowed.contains(base_path)) {
        diagnostics.push_back(Diagnostic{value.mark, "extends",
                                         "'" + value.scalar + "' (" + base_path.string() +
                                             ") is outside the folders a scenario may read: " + allowed.describe() +
                                             "; move it there, or allow its folder with --allow-path"});
        extends_failed = true;
        return root;
    }
    std::string text;
    try {
        text = read_input_file(base_path, "scenario it extends");
    } catch (const ScenarioError& e) {
        // The reason names the file (and the line and column of a text problem) already.
        const Diagnostic& d = e.diagnostics().front();
        std::string where = d.mark.file;
        if (d.mark.line > 0) where += ":" + std::to_string(d.mark.line) + ":" + std::to_string(d.mark.column);
        diagnostics.push_back(Diagnostic{value.mark, "extends", d.message + " (" + where + ")"});
        extends_failed = true;
        return root;
    }
    chain.push_back(base_path);
    files.push_back(base_path);
    DocNode base = parse_document(text, base_path.string(), diagnostics);
    base = resolve_extends(std::move(base), base_path.string(), diagnostics, std::move(chain), allowed, files,
                           extends_failed);
    merge_into(base, std::move(root));
    return base;
}

}  // namespace

LoadOutput load_text(const RecordImpl& schema, void* object, const std::string& text, const std::string& display_name,
                     const std::vector<std::string>& overrides, bool emit_resolved) {
    LoadOutput out;
    out.source.set_file(display_name);
    Context ctx;
    ctx.source = &out.source;

    DocNode root = parse_document(text, display_name, ctx.diagnostics);
    out.files.push_back(display_name);
    bool extends_failed = false;
    root = resolve_extends(std::move(root), display_name, ctx.diagnostics, {std::filesystem::path(display_name)},
                           AllowedFolders::for_file(display_name), out.files, extends_failed);
    // Without the scenario it extends, keys that it would give are not missing: say nothing of them.
    ctx.skip_missing = extends_failed;

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

    if (emit_resolved) out.resolved_yaml = emit_yaml(schema, object);
    return out;
}

std::string emit_yaml(const RecordImpl& schema, const void* object, const KeepKey* keep) {
    YAML::Emitter emitter;
    schema.emit(emitter, object, EmitScope{keep, ""});
    if (!emitter.good()) throw std::logic_error("scenario: cannot emit the scenario: " + emitter.GetLastError());
    return std::string(emitter.c_str()) + "\n";
}

std::string read_file(const std::filesystem::path& path, std::string_view what) {
    return read_input_file(path, what);
}

}  // namespace citysim::scenario::detail

namespace citysim::scenario {

std::vector<std::string> top_level_keys(const std::string& text) {
    std::vector<std::string> keys;
    const detail::ParsedYaml parsed = detail::parse_yaml(text, detail::MarkMapper{"", 0, 0}, Mark{});
    if (!parsed.yaml_error.empty() || parsed.error || !parsed.root.is_map()) return keys;
    for (const auto& entry : parsed.root.entries)
        if (entry.key.kind == detail::DocNode::Kind::Scalar) keys.push_back(entry.key.scalar);
    return keys;
}

}  // namespace citysim::scenario
