#include "cli/commands.hpp"
#include "engine/output/recorder.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>
#include <set>

namespace citysim::cli {

namespace {

std::string format_number(double value, int decimals = 0) {
    if (!std::isfinite(value)) return "-";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
    // Thousands separators make populations readable at a glance.
    const std::string digits(buf);
    const std::size_t sign = digits[0] == '-' ? 1 : 0;
    const std::size_t dot = std::min(digits.find('.'), digits.size());
    std::string out = digits.substr(0, sign);
    for (std::size_t i = sign; i < dot; ++i) {
        if (i > sign && (dot - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out + digits.substr(dot);
}

std::string format_change(double before, double after) {
    if (!std::isfinite(before) || !std::isfinite(after) || before == 0.0) return "-";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%+.1f%%", 100.0 * (after / before - 1.0));
    return buf;
}

// Reads a whole variable or nothing, so the table works on files that recorded only some variables.
class Table {
public:
    explicit Table(const output::Reader& reader) : reader_(reader) {
        const auto names = reader.variables();
        present_.insert(names.begin(), names.end());
    }
    bool has(const std::string& name) const { return present_.count(name) > 0; }
    std::optional<std::vector<double>> record(const std::string& name, std::size_t time) const {
        if (!has(name)) return std::nullopt;
        return reader_.read_record(name, time);
    }

private:
    const output::Reader& reader_;
    std::set<std::string> present_;
};

}  // namespace

// Aligned columns: the first row is the header, the second its units, then a rule.
std::string render_rows(const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> width(rows[0].size(), 0);
    for (const auto& row : rows)
        for (std::size_t k = 0; k < row.size(); ++k) width[k] = std::max(width[k], row[k].size());
    std::string out;
    for (std::size_t r = 0; r < rows.size(); ++r) {
        for (std::size_t k = 0; k < rows[r].size(); ++k) {
            const std::string& cell = rows[r][k];
            const std::string pad(width[k] - cell.size(), ' ');
            out += k == 0 ? cell + pad : "  " + pad + cell;
        }
        out += "\n";
        if (r == 1) {
            std::size_t total = 0;
            for (std::size_t k = 0; k < width.size(); ++k) total += width[k] + (k ? 2 : 0);
            out += std::string(total, '-') + "\n";
        }
    }
    return out;
}

std::string summary_table(const std::string& file) {
    output::Reader reader(file);
    const auto cities = reader.labels("city");
    const auto fields = reader.labels("field");
    const auto times = reader.times();
    if (times.empty()) return "no records in " + file + "\n";
    const auto numeric = reader.global_numeric_attributes();
    const double persons_per_agent = numeric.count("persons_per_agent") ? numeric.at("persons_per_agent") : 1.0;
    const std::size_t first = 0, last = times.size() - 1;
    const std::size_t nc = cities.size(), nf = fields.size();
    Table table(reader);

    auto per_city_persons = [&](const std::optional<std::vector<double>>& by_city_field, std::size_t c) {
        if (!by_city_field) return std::nan("");
        double sum = 0.0;
        for (std::size_t f = 0; f < nf; ++f) sum += (*by_city_field)[c * nf + f];
        return sum * persons_per_agent;
    };
    // Start-up counts are firms already (each start-up agent counts the firms it stands for).
    auto per_city_firms = [&](const std::optional<std::vector<double>>& by_city_field, std::size_t c) {
        return per_city_persons(by_city_field, c) / persons_per_agent;
    };
    auto total_over_time = [&](const std::string& name) -> std::optional<std::vector<double>> {
        if (!table.has(name)) return std::nullopt;
        std::vector<double> total(nc * nf, 0.0);
        for (std::size_t t = 0; t < times.size(); ++t) {
            const auto values = reader.read_record(name, t);
            for (std::size_t k = 0; k < total.size(); ++k) total[k] += values[k];
        }
        return total;
    };

    const auto talent_start = table.record("talent", first), talent_end = table.record("talent", last);
    const auto arrivals = total_over_time("arrivals"), departures = total_over_time("departures");
    const auto mean_wage_end = table.record("mean_wage", last);
    const auto rent_start = table.record("rent", first), rent_end = table.record("rent", last);
    const auto price_start = table.record("home_price", first), price_end = table.record("home_price", last);

    std::vector<std::vector<std::string>> rows;
    rows.push_back({"city", "talent start", "talent end", "change", "arrived", "left", "mean wage",
                    "rent", "rent chg", "home price", "price chg"});
    rows.push_back({"", "persons", "persons", "", "persons", "persons", "CNY/year", "CNY/m2/mo", "", "CNY/m2", ""});
    for (std::size_t c = 0; c < nc; ++c) {
        const double start = per_city_persons(talent_start, c), end = per_city_persons(talent_end, c);
        double wage = std::nan("");
        if (mean_wage_end && talent_end) {
            double weighted = 0.0, weight = 0.0;
            for (std::size_t f = 0; f < nf; ++f) {
                const double n = (*talent_end)[c * nf + f], w = (*mean_wage_end)[c * nf + f];
                if (n > 0 && std::isfinite(w)) {
                    weighted += n * w;
                    weight += n;
                }
            }
            if (weight > 0) wage = weighted / weight;
        }
        auto at = [&](const std::optional<std::vector<double>>& v) { return v ? (*v)[c] : std::nan(""); };
        rows.push_back({cities[c], format_number(start), format_number(end), format_change(start, end),
                        format_number(per_city_persons(arrivals, c)), format_number(per_city_persons(departures, c)),
                        format_number(wage), format_number(at(rent_end), 1), format_change(at(rent_start), at(rent_end)),
                        format_number(at(price_end)), format_change(at(price_start), at(price_end))});
    }

    const auto attributes = reader.global_attributes();
    const std::string unit = attributes.count("step_unit") ? attributes.at("step_unit") : "step";
    std::string out = "Per-city summary, " + unit + " " + std::to_string(times[first]) + " to " +
                      std::to_string(times[last]) + " (flows summed over the run):\n" + render_rows(rows);

    // The innovation ecosystem, when the run has it.
    if (table.has("births") && table.has("startups")) {
        const auto births = total_over_time("births"), failures = total_over_time("failures");
        const auto acquisitions = total_over_time("acquisitions"), listings = total_over_time("listings");
        const auto breakthroughs = total_over_time("breakthroughs");
        const auto startups_end = table.record("startups", last), founders_end = table.record("founders", last);
        const auto invested = total_over_time("vc_invested");
        std::vector<std::vector<std::string>> eco;
        eco.push_back({"city", "founded", "failed", "exited", "breakthroughs", "start-ups end", "founders end",
                       "VC invested"});
        eco.push_back({"", "firms", "firms", "firms", "firms", "firms", "persons", "CNY bn"});
        for (std::size_t c = 0; c < nc; ++c) {
            const double exited = per_city_firms(acquisitions, c) + per_city_firms(listings, c);
            eco.push_back({cities[c], format_number(per_city_firms(births, c)),
                           format_number(per_city_firms(failures, c)), format_number(exited),
                           format_number(per_city_firms(breakthroughs, c)), format_number(per_city_firms(startups_end, c)),
                           format_number(per_city_persons(founders_end, c)),
                           format_number(per_city_persons(invested, c) / persons_per_agent / 1e9, 1)});
        }
        out += "\nStart-ups (firms; a breakthrough is one firm), " + unit + " " +
               std::to_string(times[first]) + " to " + std::to_string(times[last]) + ":\n" + render_rows(eco);
    }
    return out;
}

int inspect(const std::string& file) {
    if (!std::filesystem::exists(file)) {
        const bool left_incomplete = std::filesystem::exists(file + ".incomplete");
        std::cerr << "citysim: no such file: " << file
                  << (left_incomplete ? " (an unfinished run left " + file + ".incomplete)" : "") << "\n";
        return exit_codes::failure;
    }
    try {
        output::Reader reader(file);
        const auto attributes = reader.global_attributes();
        const auto numeric = reader.global_numeric_attributes();
        const auto provenance = reader.provenance_attributes();
        auto attr = [&](const std::string& key) { return attributes.count(key) ? attributes.at(key) : "-"; };
        auto prov = [&](const std::string& key) { return provenance.count(key) ? provenance.at(key) : "-"; };
        const auto times = reader.times();
        std::cout << "file:          " << file << "\n"
                  << "status:        " << attr("status") << "\n"
                  << "citysim:       " << attr("citysim_version") << " (commit " << attr("git_commit") << ")\n"
                  << "scenario:      " << prov("scenario_file") << "\n";
        if (attr("description") != "-" && !attr("description").empty())
            std::cout << "description:   " << attr("description").substr(0, attr("description").find('\n')) << "\n";
        auto number = [&](const std::string& key) {
            return numeric.count(key) ? format_number(numeric.at(key), numeric.at(key) == std::floor(numeric.at(key)) ? 0 : 4)
                                      : std::string("-");
        };
        // Identifiers, not quantities: no thousands separators.
        auto identifier = [&](const std::string& key) {
            return numeric.count(key) ? std::to_string(static_cast<long long>(numeric.at(key))) : std::string("-");
        };
        std::cout << "seed, run:     " << identifier("seed") << ", " << identifier("run") << "\n"
                  << "records:       " << times.size() << " (" << attr("step_unit") << " "
                  << (times.empty() ? 0 : times.front()) << " to " << (times.empty() ? 0 : times.back()) << ")\n"
                  << "cities:        " << reader.labels("city").size() << ", fields: " << reader.labels("field").size()
                  << ", persons per agent: " << number("persons_per_agent") << "\n"
                  << "command line:  " << prov("command_line") << "\n"
                  << "threads:       " << prov("threads") << ", started " << prov("started") << ", finished "
                  << prov("finished") << "\n\n";
        std::cout << summary_table(file);
        if (attr("status") != "complete")
            std::cerr << "citysim: warning: " << file << " is not a complete run (status: " << attr("status") << ")\n";
        return exit_codes::ok;
    } catch (const std::exception& e) {
        std::cerr << "citysim: cannot inspect " << file << ": " << e.what() << "\n";
        return exit_codes::failure;
    }
}

}  // namespace citysim::cli
