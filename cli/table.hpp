// How the command line shows numbers and tables: one number format (libfmt), aligned tables that
// wrap to the terminal's width, and the same tables as CSV or JSON for programs.
//
// Every figure a command prints goes through format_number, and the Python report formats its own
// numbers by the same rule (analysis/numbers.py; tests/analysis/test_effects.py checks both agree):
//   - NaN or infinite: "n/a";
//   - |x| >= 999.5, or x a whole number: rounded to a whole number with thousands separators
//     ("17,796", "3,344,431,414", "12");
//   - otherwise three significant digits ("0.229", "12.3", "156"), in scientific notation only
//     below 0.001 ("1.2e-05").
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace citysim::cli {

std::string format_number(double value);
std::string format_signed(double value);  // with "+" before positive numbers (and zero)
// "+4.2%": a relative change (0.042) with one decimal; "n/a" when not finite.
std::string format_percent(double fraction);

// The output formats of compare, inspect and export.
enum class Format { table, csv, json };
std::optional<Format> parse_format(std::string_view name);
inline constexpr const char* format_names = "table, csv or json";

// A table of text cells. The first `label_columns` columns name the row and are repeated when the
// table is wrapped; the others hold numbers and are right-aligned.
struct TextTable {
    std::vector<std::string> header;
    std::vector<std::vector<std::string>> rows;  // a row may be shorter than the header (blank cells)
    std::size_t label_columns = 1;
    std::vector<std::size_t> rules_before;  // row indices above which a rule is drawn
};

// The width to fit: the terminal's when stdout is one, else $COLUMNS, else 100.
std::size_t output_width();

// Columns separated by two spaces, the header underlined; when wider than `width`, the value
// columns are split into blocks, each printed under the label columns.
std::string render(const TextTable& table, std::size_t width);

// TEXT broken into lines of at most `width` columns at spaces, every line after the first indented by
// `indent` spaces; a word longer than the width stays whole.
std::string wrap(std::string_view text, std::size_t width, std::size_t indent = 0);

// CSV (RFC 4180): a cell is quoted when it holds a comma, a quote or a line break.
std::string csv_cell(std::string_view text);
std::string csv_line(const std::vector<std::string>& cells);
// A number as CSV and JSON write it: the shortest text that reads back exactly; "" in CSV and null in
// JSON for NaN.
std::string exact_number(double value);

// A small JSON writer: values are built as text, objects keep the order keys are added in.
class Json {
public:
    static Json number(double value);  // null when not finite
    static Json integer(long long value);
    static Json string(std::string_view text);
    static Json boolean(bool value);
    static Json null();
    static Json array();
    static Json object();
    Json& add(Json value);                        // to an array
    Json& add(std::string_view key, Json value);  // to an object
    // Indented with two spaces; arrays of plain values on one line.
    std::string dump(int indent = 0) const;

private:
    enum class Kind { scalar, array, object } kind_ = Kind::scalar;
    std::string scalar_;
    std::vector<std::pair<std::string, Json>> members_;  // key is "" in arrays
};

}  // namespace citysim::cli
