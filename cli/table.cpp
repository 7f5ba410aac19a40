#include "cli/table.hpp"

#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <locale>

namespace citysim::cli {

namespace {

// Thousands separated by commas whatever the user's locale, so that output reads the same everywhere.
struct CommaGrouping : std::numpunct<char> {
    char do_thousands_sep() const override { return ','; }
    std::string do_grouping() const override { return "\3"; }
};

const std::locale& grouping_locale() {
    static const std::locale locale(std::locale::classic(), new CommaGrouping);
    return locale;
}

std::string format_with_sign(double value, bool with_sign) {
    if (!std::isfinite(value)) return "n/a";
    if (value == 0.0) value = 0.0;  // no "-0"
    if (std::fabs(value) >= 999.5 || value == std::nearbyint(value)) {
        const double rounded = std::nearbyint(value);
        return with_sign ? fmt::format(grouping_locale(), "{:+.0Lf}", rounded == 0.0 ? 0.0 : rounded)
                         : fmt::format(grouping_locale(), "{:.0Lf}", rounded == 0.0 ? 0.0 : rounded);
    }
    return with_sign ? fmt::format("{:+.3g}", value) : fmt::format("{:.3g}", value);
}

// Display width of UTF-8 text: code points, which is what a terminal shows for the text here.
std::size_t display_width(std::string_view text) {
    return static_cast<std::size_t>(
        std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string pad_left(const std::string& text, std::size_t width) {
    const std::size_t shown = display_width(text);
    return shown >= width ? text : std::string(width - shown, ' ') + text;
}

std::string pad_right(const std::string& text, std::size_t width) {
    const std::size_t shown = display_width(text);
    return shown >= width ? text : text + std::string(width - shown, ' ');
}

std::string json_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 2);
    out += '"';
    for (const char c : text) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) out += fmt::format("\\u{:04x}", static_cast<int>(c));
                else out += c;
        }
    }
    out += '"';
    return out;
}

}  // namespace

std::string format_number(double value) { return format_with_sign(value, false); }

std::string format_signed(double value) { return format_with_sign(value, true); }

std::string format_percent(double fraction) {
    if (!std::isfinite(fraction)) return "n/a";
    const double percent = 100.0 * fraction;
    return fmt::format("{:+.1f}%", std::fabs(percent) < 0.05 ? 0.0 : percent);
}

std::optional<Format> parse_format(std::string_view name) {
    if (name == "table") return Format::table;
    if (name == "csv") return Format::csv;
    if (name == "json") return Format::json;
    return std::nullopt;
}

std::size_t output_width() {
    if (isatty(STDOUT_FILENO) == 1) {
        winsize size{};
        if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col >= 40) return size.ws_col;
    }
    if (const char* columns = std::getenv("COLUMNS")) {
        const long value = std::strtol(columns, nullptr, 10);
        if (value >= 40 && value <= 10000) return static_cast<std::size_t>(value);
    }
    return 100;
}

std::string render(const TextTable& table, std::size_t width) {
    const std::size_t columns = table.header.size();
    std::vector<std::size_t> widths(columns, 0);
    auto cell = [&](const std::vector<std::string>& row, std::size_t k) -> const std::string& {
        static const std::string blank;
        return k < row.size() ? row[k] : blank;
    };
    for (std::size_t k = 0; k < columns; ++k) {
        widths[k] = display_width(table.header[k]);
        for (const auto& row : table.rows) widths[k] = std::max(widths[k], display_width(cell(row, k)));
    }
    const std::size_t labels = std::min(table.label_columns, columns);
    std::size_t label_width = 0;
    for (std::size_t k = 0; k < labels; ++k) label_width += widths[k] + (k ? 2 : 0);

    // Value columns in blocks that fit the width (at least one column a block).
    std::vector<std::pair<std::size_t, std::size_t>> blocks;  // [first, last)
    for (std::size_t k = labels; k < columns;) {
        std::size_t used = label_width, end = k;
        while (end < columns && (end == k || used + 2 + widths[end] <= width)) used += 2 + widths[end++];
        blocks.emplace_back(k, end);
        k = end;
    }
    if (blocks.empty()) blocks.emplace_back(columns, columns);

    std::string out;
    for (std::size_t b = 0; b < blocks.size(); ++b) {
        if (b > 0) out += "\n";
        const auto [first, last] = blocks[b];
        auto line = [&](const std::vector<std::string>& row) {
            bool blank = true;  // a row with nothing in this block (an interval row of cells without one)
            for (std::size_t k = 0; k < labels; ++k) blank = blank && cell(row, k).empty();
            for (std::size_t k = first; k < last; ++k) blank = blank && cell(row, k).empty();
            if (blank && &row != &table.header) return;
            std::string text;
            for (std::size_t k = 0; k < labels; ++k) text += (k ? "  " : "") + pad_right(cell(row, k), widths[k]);
            for (std::size_t k = first; k < last; ++k) text += "  " + pad_left(cell(row, k), widths[k]);
            while (!text.empty() && text.back() == ' ') text.pop_back();
            out += text + "\n";
        };
        std::size_t total = label_width;
        for (std::size_t k = first; k < last; ++k) total += 2 + widths[k];
        line(table.header);
        out += std::string(total, '-') + "\n";
        for (std::size_t r = 0; r < table.rows.size(); ++r) {
            if (std::find(table.rules_before.begin(), table.rules_before.end(), r) != table.rules_before.end())
                out += std::string(total, '-') + "\n";
            line(table.rows[r]);
        }
    }
    return out;
}

std::string wrap(std::string_view text, std::size_t width, std::size_t indent) {
    // The words as split at single spaces (so that runs of spaces, as after "description:", stay).
    std::string out, line;
    bool first_word = true;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t space = std::min(text.find(' ', start), text.size());
        const std::string_view word = text.substr(start, space - start);
        start = space + 1;
        const bool has_content = line.find_first_not_of(' ') != std::string::npos;
        if (!first_word && has_content && !word.empty() && display_width(line) + 1 + display_width(word) > width) {
            out += line + "\n";
            line.assign(indent, ' ');
            line += word;
        } else {
            if (!first_word) line += ' ';
            line += word;
        }
        first_word = false;
    }
    return out + line;
}

std::string csv_cell(std::string_view text) {
    if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
    std::string out = "\"";
    for (const char c : text) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

std::string csv_line(const std::vector<std::string>& cells) {
    std::string out;
    for (std::size_t k = 0; k < cells.size(); ++k) {
        if (k) out += ',';
        out += csv_cell(cells[k]);
    }
    out += '\n';
    return out;
}

std::string exact_number(double value) {
    if (std::isnan(value)) return "";
    if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
    if (value == std::nearbyint(value) && std::fabs(value) < 9.0e15) return fmt::format("{:.0f}", value);
    return fmt::format("{}", value);
}

Json Json::number(double value) {
    if (!std::isfinite(value)) return null();
    Json json;
    json.scalar_ = exact_number(value);
    return json;
}

Json Json::integer(long long value) {
    Json json;
    json.scalar_ = std::to_string(value);
    return json;
}

Json Json::string(std::string_view text) {
    Json json;
    json.scalar_ = json_escape(text);
    return json;
}

Json Json::boolean(bool value) {
    Json json;
    json.scalar_ = value ? "true" : "false";
    return json;
}

Json Json::null() {
    Json json;
    json.scalar_ = "null";
    return json;
}

Json Json::array() {
    Json json;
    json.kind_ = Kind::array;
    return json;
}

Json Json::object() {
    Json json;
    json.kind_ = Kind::object;
    return json;
}

Json& Json::add(Json value) {
    members_.emplace_back("", std::move(value));
    return *this;
}

Json& Json::add(std::string_view key, Json value) {
    members_.emplace_back(std::string(key), std::move(value));
    return *this;
}

std::string Json::dump(int indent) const {
    if (kind_ == Kind::scalar) return scalar_;
    const bool is_array = kind_ == Kind::array;
    const char open = is_array ? '[' : '{', close = is_array ? ']' : '}';
    if (members_.empty()) return std::string{open, close};
    const bool flat = is_array && std::all_of(members_.begin(), members_.end(),
                                              [](const auto& member) { return member.second.kind_ == Kind::scalar; });
    std::string out(1, open);
    const std::string inner(static_cast<std::size_t>(indent + 2), ' ');
    for (std::size_t k = 0; k < members_.size(); ++k) {
        out += k ? "," : "";
        if (flat) {
            out += k ? " " : "";
        } else {
            out += "\n" + inner;
        }
        if (!is_array) out += json_escape(members_[k].first) + ": ";
        out += members_[k].second.dump(indent + 2);
    }
    if (!flat) out += "\n" + std::string(static_cast<std::size_t>(indent), ' ');
    return out + close;
}

}  // namespace citysim::cli
