// Diagnostics, ranges, strict numbers, suggestions, quoting and the key-reference renderers.
#include "engine/scenario/detail/internal.hpp"
#include "engine/scenario/input.hpp"
#include "engine/scenario/suggest.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <sstream>
#include <system_error>

namespace citysim::scenario {

// ------------------------------------------------------------------ Diagnostic, ScenarioError

// Every part may quote input (a file name, a key, a value): printable() keeps control characters
// and bytes that are not UTF-8 from reaching the terminal raw, and keeps the diagnostic on one line.
std::string Diagnostic::format(std::string_view severity) const {
    std::string out = mark.file.empty() ? std::string("<input>") : printable(mark.file);
    if (mark.line > 0) {
        out += ':' + std::to_string(mark.line);
        if (mark.column > 0) out += ':' + std::to_string(mark.column);
    }
    out += ": ";
    out += severity;
    out += ": ";
    if (!key_path.empty()) out += printable(key_path) + ": ";
    out += printable(message);
    return out;
}

namespace {
std::string format_all(const std::vector<Diagnostic>& diagnostics) {
    std::string out;
    for (const Diagnostic& d : diagnostics) {
        if (!out.empty()) out += '\n';
        out += d.format();
    }
    return out;
}
}  // namespace

ScenarioError::ScenarioError(std::vector<Diagnostic> diagnostics)
    : std::runtime_error(format_all(diagnostics)), diagnostics_(std::move(diagnostics)) {}

const std::vector<Diagnostic>& ScenarioError::diagnostics() const { return diagnostics_; }

// ------------------------------------------------------------------ Range

Range Range::any() { return Range{}; }
Range Range::positive() { return above(0); }
Range Range::non_negative() { return at_least(0); }
Range Range::unit_interval() { return closed(0, 1); }
Range Range::closed(double lo, double hi) {
    Range r;
    r.min = lo;
    r.max = hi;
    return r;
}
Range Range::at_least(double lo) {
    Range r;
    r.min = lo;
    return r;
}
Range Range::above(double lo) {
    Range r;
    r.min = lo;
    r.min_inclusive = false;
    return r;
}
Range Range::at_most(double hi) {
    Range r;
    r.max = hi;
    return r;
}
Range Range::and_at_most(double hi) const {
    Range r = *this;
    r.max = hi;
    r.max_inclusive = true;
    return r;
}
Range Range::because(std::string why) const {
    Range r = *this;
    r.reason = std::move(why);
    return r;
}

bool Range::contains(double x) const {
    if (std::isnan(x)) return false;
    if (min && (min_inclusive ? x < *min : x <= *min)) return false;
    if (max && (max_inclusive ? x > *max : x >= *max)) return false;
    return true;
}

std::string Range::describe() const {
    using detail::format_double;
    if (min && max) {
        return std::string(min_inclusive ? "[" : "(") + format_double(*min) + ", " + format_double(*max) +
               (max_inclusive ? "]" : ")");
    }
    if (min) return std::string(min_inclusive ? ">= " : "> ") + format_double(*min);
    if (max) return std::string(max_inclusive ? "<= " : "< ") + format_double(*max);
    return "any";
}

namespace detail {

// ------------------------------------------------------------------ small text helpers

std::string format_double(double x) {
    std::array<char, 64> buf{};
    auto r = std::to_chars(buf.data(), buf.data() + buf.size(), x);
    return std::string(buf.data(), r.ptr);
}

std::string format_int(std::int64_t x) {
    std::array<char, 32> buf{};
    auto r = std::to_chars(buf.data(), buf.data() + buf.size(), x);
    return std::string(buf.data(), r.ptr);
}

std::string suggest(std::string_view key, const std::vector<std::string>& candidates) {
    return closest_match(key, candidates).value_or("");
}

std::string join_list(const std::vector<std::string>& items, std::string_view separator) {
    std::string out;
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out += separator;
        out += items[i];
    }
    return out;
}

namespace {
std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}
bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool is_yaml11_word(std::string_view s) {
    static const std::array<std::string_view, 11> words = {"y",  "yes", "n",    "no",   "true", "false",
                                                            "on", "off", "null", "~",    ""};
    const std::string l = lower(s);
    return std::find(words.begin(), words.end(), l) != words.end();
}
}  // namespace

bool needs_quotes(std::string_view s) {
    if (s.empty() || is_yaml11_word(s)) return true;
    const char first = s.front();
    if (!(std::isalpha(static_cast<unsigned char>(first)) || first == '_')) return true;
    if (s.back() == ' ') return true;
    for (char c : s) {
        const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' || c == '/' ||
                        c == ' ';
        if (!ok) return true;
    }
    return false;
}

namespace {
// Writes its text as it is, through Emitter::WriteIntegralType, which prepares the node as for any
// scalar (indentation, key or value, flow separators) and then writes what `stream << value`
// gives. Emitter::Write(std::string) would first run yaml-cpp's plain-scalar check, regular
// expressions tried at every character, which made writing a scenario cost more than parsing it
// (every run of a sweep writes its own). Only for text that check passes as plain.
struct PlainText {
    std::string_view text;
};
std::ostream& operator<<(std::ostream& stream, const PlainText& plain) { return stream << plain.text; }

// Text that yaml-cpp writes plain whatever its context (block or flow, key or value): what
// needs_quotes() lets through (a letter or '_' first, then letters, digits and "_-./ ", no space
// last, no YAML 1.1 word) holds none of the characters yaml-cpp's check looks for (": ", " #",
// flow indicators, tabs, breaks, non-printable or non-ASCII bytes) and is not a null, and at up to
// 1024 bytes it is never written as a long key.
bool plain_for_yaml_cpp(std::string_view s) { return s.size() <= 1024 && !needs_quotes(s); }
}  // namespace

void emit_plain(YAML::Emitter& out, std::string_view text) { out.WriteIntegralType(PlainText{text}); }

void emit_key(YAML::Emitter& out, const std::string& s) {
    if (plain_for_yaml_cpp(s)) emit_plain(out, s);
    else out << s;
}

void emit_string(YAML::Emitter& out, const std::string& s) {
    if (needs_quotes(s)) out << YAML::DoubleQuoted << s;
    else emit_key(out, s);  // what yaml-cpp would write, without its check where it cannot object
}

std::string yaml_scalar_text(const std::string& s) {
    if (!needs_quotes(s)) return s;
    YAML::Emitter out;
    out << YAML::DoubleQuoted << s;
    return out.c_str();
}

std::string mark_position(const Mark& m) {
    if (m.line <= 0) return "an unknown position";
    if (m.file == "--set") return "--set argument " + std::to_string(m.line);
    return "line " + std::to_string(m.line);
}

std::string check_entry_name(const std::string& name, const std::string& meaning) {
    if (name.empty()) return "a " + meaning + " name may not be empty";
    // Names become key paths, HDF5 labels and column headings.
    constexpr std::size_t max_name_length = 100;
    if (name.size() > max_name_length)
        return "the " + meaning + " name '" + name.substr(0, 40) + "...' is " + std::to_string(name.size()) +
               " bytes long; a name may have at most " + std::to_string(max_name_length);
    for (const char c : name)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            return "the " + meaning + " name '" + name + "' contains a control character; rename it";

    if (name.find('.') != std::string::npos)
        return "the " + meaning + " name '" + name +
               "' contains '.', which key paths use as a separator; rename it (for example with '_')";
    if (name.find('=') != std::string::npos)
        return "the " + meaning + " name '" + name + "' contains '=', which --set uses as a separator; rename it";
    return "";
}

// ------------------------------------------------------------------ strict numbers

namespace {

struct Lexed {
    bool negative = false;
    std::string_view int_digits, frac_digits, exp_text;
    bool has_dot = false, has_exp = false;
};

bool lex_number(std::string_view s, Lexed& out) {
    out = Lexed{};
    std::size_t i = 0;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
        out.negative = s[i] == '-';
        ++i;
    }
    std::size_t a = i;
    while (i < s.size() && is_digit(s[i])) ++i;
    out.int_digits = s.substr(a, i - a);
    if (i < s.size() && s[i] == '.') {
        out.has_dot = true;
        ++i;
        std::size_t b = i;
        while (i < s.size() && is_digit(s[i])) ++i;
        out.frac_digits = s.substr(b, i - b);
    }
    if (out.int_digits.empty() && out.frac_digits.empty()) return false;
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        out.has_exp = true;
        ++i;
        std::size_t c = i;
        if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
        std::size_t d = i;
        while (i < s.size() && is_digit(s[i])) ++i;
        if (i == d) return false;
        out.exp_text = s.substr(c, i - c);
    }
    return i == s.size();
}

// The exponent's value, clamped to +-1e9 (enough to decide overflow).
long long exponent_value(std::string_view exp_text) {
    if (exp_text.empty()) return 0;
    bool neg = exp_text.front() == '-';
    std::string_view digits = exp_text;
    if (digits.front() == '+' || digits.front() == '-') digits.remove_prefix(1);
    while (digits.size() > 1 && digits.front() == '0') digits.remove_prefix(1);
    if (digits.size() > 9) return neg ? -1000000000LL : 1000000000LL;
    long long v = 0;
    std::from_chars(digits.data(), digits.data() + digits.size(), v);
    return neg ? -v : v;
}

std::string shorten_tag(const std::string& tag) {
    const std::string prefix = "tag:yaml.org,2002:";
    if (tag.rfind(prefix, 0) == 0) return "!!" + tag.substr(prefix.size());
    return tag;
}

std::string radix_hint(std::string_view s, std::string_view body, int base, std::string_view name) {
    std::string digits(body.substr(2));
    std::string message = std::string(name) + " numbers are not allowed; write the decimal value";
    std::int64_t v = 0;
    auto r = std::from_chars(digits.data(), digits.data() + digits.size(), v, base);
    if (!digits.empty() && r.ec == std::errc{} && r.ptr == digits.data() + digits.size()) {
        message += " (" + std::string(s) + " is " + (s.front() == '-' ? "-" : "") + format_int(v) + ")";
    }
    return message;
}

// "" when s is a well-formed number; else why not. what: "a number" / "an integer".
std::string reject_reason(std::string_view s, std::string_view what) {
    std::string_view body = s;
    if (!body.empty() && (body.front() == '+' || body.front() == '-')) body.remove_prefix(1);
    const std::string lbody = lower(body);
    if (lbody == ".inf" || lbody == "inf" || lbody == "infinity" || lbody == ".nan" || lbody == "nan") {
        return "expected " + std::string(what) + ", got " + std::string(s) +
               "; infinity and NaN are not allowed: give a finite number";
    }
    if (lbody.size() > 2 && lbody[0] == '0') {
        if (lbody[1] == 'x') return radix_hint(s, body, 16, "hexadecimal");
        if (lbody[1] == 'o') return radix_hint(s, body, 8, "octal");
        if (lbody[1] == 'b') return radix_hint(s, body, 2, "binary");
    }
    Lexed lx;
    if (s.find('_') != std::string_view::npos) {
        std::string stripped(s);
        stripped.erase(std::remove(stripped.begin(), stripped.end(), '_'), stripped.end());
        if (lex_number(stripped, lx)) {
            return "digit separators ('_') are not allowed; write " + stripped;
        }
    }
    if (!lex_number(s, lx)) return "expected " + std::string(what) + ", got '" + std::string(s) + "'";
    if (lx.int_digits.size() > 1 && lx.int_digits.front() == '0') {
        std::string_view significant = lx.int_digits;
        while (significant.size() > 1 && significant.front() == '0') significant.remove_prefix(1);
        const std::size_t int_start = static_cast<std::size_t>(lx.int_digits.data() - s.data());
        std::string fixed = (lx.negative ? "-" : "") + std::string(significant) +
                            std::string(s.substr(int_start + lx.int_digits.size()));
        const bool octal_digits = std::all_of(lx.int_digits.begin(), lx.int_digits.end(),
                                              [](char c) { return c >= '0' && c <= '7'; });
        if (!lx.has_dot && !lx.has_exp && octal_digits) {
            std::int64_t v = 0;
            std::string digits(lx.int_digits);
            auto r = std::from_chars(digits.data(), digits.data() + digits.size(), v, 8);
            if (r.ec == std::errc{}) {
                return "leading zeros are not allowed; YAML 1.1 readers take " + std::string(s) + " as octal " +
                       (lx.negative ? "-" : "") + format_int(v) + "; write " + fixed;
            }
        }
        return "leading zeros are not allowed; write " + fixed;
    }
    return "";
}

// Messages common to reals and integers for scalars that are not plain.
std::string non_plain_reason(const DocNode& node, std::string_view what) {
    if (node.tag == "!") {
        Lexed lx;
        std::string message = "expected " + std::string(what) + ", got the string \"" + node.scalar + "\"";
        if (lex_number(node.scalar, lx)) message += "; remove the quotes";
        return message;
    }
    return "expected " + std::string(what) + ", got a value tagged " + shorten_tag(node.tag) +
           "; remove the tag and write a plain number";
}

}  // namespace

NumberResult parse_real(const DocNode& node) {
    NumberResult result;
    if (!node.plain()) {
        result.error = non_plain_reason(node, "a number");
        return result;
    }
    const std::string& s = node.scalar;
    result.error = reject_reason(s, "a number");
    if (!result.error.empty()) return result;
    std::string_view text = s;
    if (text.front() == '+') text.remove_prefix(1);
    double value = 0;
    auto r = std::from_chars(text.data(), text.data() + text.size(), value);
    if (r.ec == std::errc::result_out_of_range) {
        Lexed lx;
        lex_number(s, lx);
        std::string_view significant = lx.int_digits;
        while (!significant.empty() && significant.front() == '0') significant.remove_prefix(1);
        long long e10 = exponent_value(lx.exp_text) + static_cast<long long>(significant.size());
        if (significant.empty()) {
            std::string_view frac = lx.frac_digits;
            long long zeros = 0;
            while (!frac.empty() && frac.front() == '0') {
                frac.remove_prefix(1);
                ++zeros;
            }
            e10 = exponent_value(lx.exp_text) - zeros;
        }
        if (e10 > 0) {
            result.error = s + " is too large for a real number (the largest is about 1.8e308)";
        } else {
            result.error = s + " is too close to zero for a real number (the smallest magnitude is about 4.9e-324); "
                               "write 0 if you mean zero";
        }
        return result;
    }
    if (r.ec != std::errc{} || r.ptr != text.data() + text.size() || !std::isfinite(value)) {
        result.error = "expected a number, got '" + s + "'";
        return result;
    }
    result.ok = true;
    result.real = value;
    return result;
}

NumberResult parse_integer(const DocNode& node) {
    NumberResult result;
    if (!node.plain()) {
        result.error = non_plain_reason(node, "an integer");
        return result;
    }
    const std::string& s = node.scalar;
    result.error = reject_reason(s, "an integer");
    if (!result.error.empty()) return result;
    const std::string out_of_range =
        s + " is out of range for a 64-bit integer (at most 9223372036854775807 in magnitude)";
    Lexed lx;
    lex_number(s, lx);
    std::string digits;  // the decimal digits to convert, sign included
    if (!lx.has_dot && !lx.has_exp) {
        digits = (lx.negative ? "-" : "") + std::string(lx.int_digits);
    } else {
        // Exact: value = (int_digits frac_digits) * 10^(exp - len(frac)), integral iff the shifted
        // digits end in zeros. Never through a double.
        std::string mantissa = std::string(lx.int_digits) + std::string(lx.frac_digits);
        long long e = exponent_value(lx.exp_text) - static_cast<long long>(lx.frac_digits.size());
        std::size_t first = mantissa.find_first_not_of('0');
        if (first == std::string::npos) {
            mantissa = "0";
            e = 0;
        } else {
            mantissa.erase(0, first);
            while (mantissa.size() > 1 && mantissa.back() == '0') {
                mantissa.pop_back();
                ++e;
            }
        }
        if (e < 0) {
            result.error = "expected an integer, got " + s + "; an integer takes no fractional part";
            return result;
        }
        if (static_cast<long long>(mantissa.size()) + e > 19) {
            result.error = out_of_range;
            return result;
        }
        digits = (lx.negative ? "-" : "") + mantissa + std::string(static_cast<std::size_t>(e), '0');
    }
    std::int64_t value = 0;
    auto r = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (r.ec == std::errc::result_out_of_range) {
        result.error = out_of_range;
        return result;
    }
    if (r.ec != std::errc{} || r.ptr != digits.data() + digits.size()) {
        result.error = "expected an integer, got '" + s + "'";
        return result;
    }
    result.ok = true;
    result.integer = value;
    result.real = static_cast<double>(value);
    return result;
}

}  // namespace detail

// ------------------------------------------------------------------ renderers

std::string render_text(const std::vector<KeyRow>& rows) {
    const std::array<std::string, 6> header = {"KEY", "TYPE", "UNIT", "DEFAULT", "RANGE", "DESCRIPTION"};
    std::array<std::size_t, 5> width{};
    for (std::size_t c = 0; c < width.size(); ++c) width[c] = header[c].size();
    auto cells = [](const KeyRow& r) {
        return std::array<const std::string*, 6>{&r.path, &r.type, &r.unit, &r.default_text, &r.range,
                                                 &r.description};
    };
    for (const KeyRow& r : rows) {
        auto cs = cells(r);
        for (std::size_t c = 0; c < width.size(); ++c) width[c] = std::max(width[c], cs[c]->size());
    }
    std::string out;
    auto line = [&](const std::array<const std::string*, 6>& cs) {
        std::string l;
        for (std::size_t c = 0; c < width.size(); ++c) {
            l += *cs[c];
            l += std::string(width[c] - cs[c]->size() + 2, ' ');
        }
        l += *cs[5];
        while (!l.empty() && l.back() == ' ') l.pop_back();
        out += l + '\n';
    };
    line({&header[0], &header[1], &header[2], &header[3], &header[4], &header[5]});
    for (const KeyRow& r : rows) line(cells(r));
    return out;
}

namespace {
std::string md_escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '|': out += "\\|"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '\n': out += ' '; break;
            default: out += c;
        }
    }
    return out;
}
std::string md_code(const std::string& s) {
    if (s.empty()) return "";
    std::string out;
    for (char c : s) {
        if (c == '|') out += "\\|";
        else if (c == '\n') out += ' ';
        else out += c;
    }
    const std::string fence = s.find('`') != std::string::npos ? "`` " : "`";
    const std::string close = s.find('`') != std::string::npos ? " ``" : "`";
    return fence + out + close;
}
}  // namespace

std::string render_markdown(const std::vector<KeyRow>& rows, const std::string& title, const std::string& preamble) {
    std::string out = "# " + title + "\n\n";
    if (!preamble.empty()) {
        out += preamble;
        if (out.back() != '\n') out += '\n';
        out += '\n';
    }
    out += "| Key | Type | Unit | Default | Range | Description |\n";
    out += "|---|---|---|---|---|---|\n";
    for (const KeyRow& r : rows) {
        out += "| " + md_code(r.path) + " | " + md_code(r.type) + " | " + md_escape(r.unit) + " | " +
               md_code(r.default_text) + " | " + md_escape(r.range) + " | " + md_escape(r.description) + " |\n";
    }
    return out;
}

}  // namespace citysim::scenario
