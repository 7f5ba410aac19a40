#include "cli/table.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <sstream>

using namespace citysim::cli;

TEST_CASE("table: one number format", "[cli][table]") {
    CHECK(format_number(17796) == "17,796");
    CHECK(format_signed(17796) == "+17,796");
    CHECK(format_signed(-3936) == "-3,936");
    CHECK(format_number(3344431414.4) == "3,344,431,414");
    CHECK(format_signed(0.0) == "+0");
    CHECK(format_signed(-0.0) == "+0");
    CHECK(format_number(12) == "12");
    CHECK(format_number(156.1) == "156");
    CHECK(format_number(0.2292) == "0.229");
    CHECK(format_signed(-0.0656) == "-0.0656");
    CHECK(format_number(999.4) == "999");
    CHECK(format_number(999.6) == "1,000");  // not "1e+03"
    CHECK(format_number(1.2e-5) == "1.2e-05");
    CHECK(format_number(std::numeric_limits<double>::quiet_NaN()) == "n/a");
    CHECK(format_percent(0.04149) == "+4.1%");
    CHECK(format_percent(-0.0004) == "+0.0%");
    CHECK(format_percent(std::numeric_limits<double>::infinity()) == "n/a");
    // Whatever the user's locale: the separator is a comma.
    std::locale::global(std::locale::classic());
    CHECK(format_number(1234567) == "1,234,567");
}

TEST_CASE("table: columns wrap into blocks that fit the width", "[cli][table]") {
    TextTable table;
    table.header = {"quantity", "alpha", "beta", "gamma"};
    table.rows = {{"talent", "+1", "+22", "+333"}, {"", "±1", "", ""}, {"rent", "-0.5", "n/a", "+1,000"}};
    const std::string wide = render(table, 200);
    CHECK(wide.find("quantity  alpha  beta   gamma") == 0);
    CHECK(wide.find("talent       +1   +22    +333") != std::string::npos);
    const std::string narrow = render(table, 22);
    std::istringstream lines(narrow);
    std::size_t widest = 0, headers = 0;
    for (std::string line; std::getline(lines, line);) {
        widest = std::max(widest, line.size());
        headers += line.rfind("quantity", 0) == 0 ? 1 : 0;
    }
    CHECK(widest <= 22);
    CHECK(headers >= 2);  // the label column repeated over each block
    // A row that is blank in a block (an interval row without intervals there) is left out of it.
    CHECK(narrow.find("\n\n\n") == std::string::npos);
}

TEST_CASE("table: wrap, CSV and JSON", "[cli][table]") {
    CHECK(wrap("a bb ccc dddd", 6) == "a bb\nccc\ndddd");
    CHECK(wrap("key:   value and more", 12, 7) == "key:   value\n       and\n       more");
    CHECK(csv_line({"a", "b,c", "say \"hi\""}) == "a,\"b,c\",\"say \"\"hi\"\"\"\n");
    CHECK(exact_number(0.1 + 0.2) == "0.30000000000000004");
    CHECK(exact_number(17796) == "17796");
    CHECK(exact_number(std::numeric_limits<double>::quiet_NaN()).empty());
    Json json = Json::object();
    json.add("name", Json::string("a \"quoted\"\nline"))
        .add("values", Json::array().add(Json::number(1.5)).add(Json::number(std::nan(""))))
        .add("ok", Json::boolean(true));
    CHECK(json.dump() == "{\n  \"name\": \"a \\\"quoted\\\"\\nline\",\n  \"values\": [1.5, null],\n  \"ok\": true\n}");
    CHECK(parse_format("csv") == Format::csv);
    CHECK(!parse_format("xml"));
}
