#include "cli/commands.hpp"
#include "cli/table.hpp"

namespace citysim::cli {

std::string render_schema_text(const std::vector<scenario::KeyRow>& rows, std::size_t width) {
    std::string out = wrap("Every scenario key: its path, then type, unit, default and range, then what it means. `<city>` and "
                           "`<field>` stand for the names a scenario gives its cities and fields; a key without a "
                           "default is required. `citysim schema --format markdown` gives the same as a table.",
                           width) +
                      "\n";
    for (const auto& row : rows) {
        std::string facts = row.type;
        if (!row.unit.empty() && row.unit != "1") facts += "; unit " + row.unit;
        if (row.default_text == "(required)") facts += "; required";
        else if (!row.default_text.empty()) facts += "; default " + row.default_text;
        if (!row.range.empty() && row.range != "any") facts += "; " + row.range;
        out += "\n" + wrap(row.path + "  (" + facts + ")", width, 6) + "\n";
        if (!row.description.empty()) out += "    " + wrap(row.description, width - 4, 4) + "\n";
    }
    return out;
}

}  // namespace citysim::cli
