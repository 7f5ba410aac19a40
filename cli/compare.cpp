// `citysim compare BASE.h5 POLICY.h5`: what a policy changed, city by city, at the last step.
//
// Two runs of the same scenario family with the same seed and run number draw the same random
// numbers for the same agent, step and purpose (common random numbers), so their difference is
// the policy's effect rather than noise. Runs with different seeds can still be compared, but the
// table then says that the difference includes noise.
#include "cli/commands.hpp"
#include "engine/checkpoint/file.hpp"
#include "engine/output/recorder.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <set>

namespace citysim::cli {

namespace {

struct Quantity {
    const char* variable;
    const char* heading;
    const char* unit;
    bool count;    // summed over fields; agents are shown x persons_per_agent (persons); firms as they are
    bool percent;  // show the relative change too
    bool firms = false;  // counts firms already (start-ups), not agents
};

// The quantities a planner reads, in table order; absent ones are skipped, so variables that later
// models add (founders, start-ups, fiscal cost) appear when the files have them.
const Quantity quantities[] = {
    {"talent", "talent", "persons", true, true},
    {"founders", "founders", "persons", true, true},
    {"startups", "start-ups", "firms", true, true, true},
    {"breakthroughs", "breakthroughs", "firms", true, false, true},
    {"residents", "residents", "persons", false, true},
    {"mean_wage", "mean wage", "CNY/year", false, true},
    {"rent", "rent", "CNY/m2/month", false, true},
    {"home_price", "home price", "CNY/m2", false, true},
};

// What the policies cost each city over the whole run: fiscal_cost summed over steps and instruments.
std::vector<double> cumulative_fiscal_cost(const output::Reader& reader, std::size_t cities) {
    std::vector<double> total(cities, 0.0);
    for (std::size_t t = 0; t < reader.times().size(); ++t) {
        const auto values = reader.read_record("fiscal_cost", t);
        const std::size_t width = values.size() / cities;
        for (std::size_t c = 0; c < cities; ++c)
            for (std::size_t k = 0; k < width; ++k) total[c] += values[c * width + k];
    }
    return total;
}

// "12,345,678": costs are large numbers a planner reads at a glance.
std::string grouped(double value) {
    if (!std::isfinite(value)) return "-";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.0f", std::abs(value));
    std::string digits = buf, out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return (value < 0 ? "-" : "") + out;
}

std::string signed_number(double value, int decimals) {
    if (!std::isfinite(value)) return "-";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%+.*f", decimals, value);
    return buf;
}

std::string signed_percent(double before, double after) {
    if (!std::isfinite(before) || !std::isfinite(after) || before == 0.0) return "";
    char buf[32];
    std::snprintf(buf, sizeof buf, " (%+.2f%%)", 100.0 * (after / before - 1.0));
    return buf;
}

// A per-city value of a variable at the last record: counts summed over fields (in persons),
// other per-field values averaged with talent weights.
std::vector<double> per_city(const output::Reader& reader, const Quantity& q, std::size_t cities, double persons_per_agent) {
    const auto last = reader.times().size() - 1;
    const auto values = reader.read_record(q.variable, last);
    const std::size_t width = values.size() / cities;
    std::vector<double> result(cities, 0.0);
    if (width == 1) {
        for (std::size_t c = 0; c < cities; ++c) result[c] = values[c] * (q.count && !q.firms ? persons_per_agent : 1.0);
        return result;
    }
    const auto talent = reader.read_record("talent", last);
    for (std::size_t c = 0; c < cities; ++c) {
        double sum = 0.0, weight = 0.0;
        for (std::size_t f = 0; f < width; ++f) {
            const double v = values[c * width + f];
            if (q.count) {
                sum += v;
            } else if (std::isfinite(v) && talent[c * width + f] > 0) {
                sum += v * talent[c * width + f];
                weight += talent[c * width + f];
            }
        }
        result[c] = q.count ? sum * (q.firms ? 1.0 : persons_per_agent) : (weight > 0 ? sum / weight : std::nan(""));
    }
    return result;
}

// A policy run forked from a baseline's checkpoint (cli/checkpoints.hpp) names that baseline's
// scenario by its digest: the pair is exact when it is this baseline's.
std::string fork_note(const output::Reader& base, const output::Reader& policy, const std::string& step_unit) {
    const auto forked = policy.provenance_attributes();
    if (!forked.count("fork_step")) return "";
    const std::string step = forked.at("fork_step");
    const auto baseline = forked.count("baseline_scenario_digest") ? forked.at("baseline_scenario_digest") : "";
    if (checkpoint::digest(base.provenance_text("scenario_resolved")) == baseline)
        return "forked from this baseline's state after " + step_unit + " " + step + ": both share every step up to it\n";
    return "forked from another baseline's state after " + step_unit + " " + step +
           " (its scenario is not this baseline's): the differences include how the two baselines differ\n";
}

}  // namespace

int compare(const std::string& base_file, const std::string& policy_file) {
    for (const auto& file : {base_file, policy_file})
        if (!std::filesystem::exists(file)) {
            std::cerr << "citysim: no such file: " << file << "\n";
            return exit_codes::failure;
        }
    try {
        const output::Reader base(base_file), policy(policy_file);
        const auto base_attributes = base.global_attributes(), policy_attributes = policy.global_attributes();
        for (const auto& [file, attributes] : {std::pair{base_file, base_attributes}, std::pair{policy_file, policy_attributes}}) {
            const auto status = attributes.count("status") ? attributes.at("status") : "unknown";
            if (status != "complete") {
                std::cerr << "citysim: " << file << " is not a complete run (status: " << status
                          << "); compare needs two complete runs\n";
                return exit_codes::failure;
            }
        }
        const auto cities = base.labels("city");
        if (cities != policy.labels("city") || base.labels("field") != policy.labels("field")) {
            std::cerr << "citysim: the two runs have different cities or fields; compare needs runs of the same "
                         "scenario family\n";
            return exit_codes::failure;
        }
        if (base.times() != policy.times()) {
            std::cerr << "citysim: the two runs cover different steps (" << base.times().size() << " and "
                      << policy.times().size() << " records); run both for the same steps\n";
            return exit_codes::failure;
        }
        const auto base_numeric = base.global_numeric_attributes(), policy_numeric = policy.global_numeric_attributes();
        auto number = [](const std::map<std::string, double>& m, const char* key) {
            return m.count(key) ? m.at(key) : std::nan("");
        };
        const bool paired = number(base_numeric, "seed") == number(policy_numeric, "seed") &&
                            number(base_numeric, "run") == number(policy_numeric, "run");
        const double persons_per_agent = number(base_numeric, "persons_per_agent");
        if (number(policy_numeric, "persons_per_agent") != persons_per_agent) {
            std::cerr << "citysim: the runs use different agents per person; compare runs of equal size\n";
            return exit_codes::failure;
        }

        std::set<std::string> present;
        for (const auto& v : base.variables()) present.insert(v);
        std::set<std::string> in_policy;
        for (const auto& v : policy.variables()) in_policy.insert(v);

        std::cout << "policy:   " << policy_file << "\nbaseline: " << base_file << "\n"
                  << (paired ? "paired on common random numbers (same seed and run): the differences are the policy's effect\n"
                             : "NOT paired (seeds or run numbers differ): the differences include random noise\n")
                  << fork_note(base, policy, base_attributes.at("step_unit"))
                  << "change at " << base_attributes.at("step_unit") << " " << base.times().back()
                  << ", policy minus baseline\n\n";

        std::vector<std::vector<std::string>> rows;
        std::vector<std::string> header = {"city"};
        std::vector<std::vector<double>> before_columns, after_columns;
        std::vector<const Quantity*> shown;
        for (const auto& q : quantities) {
            if (!present.count(q.variable) || !in_policy.count(q.variable)) continue;
            shown.push_back(&q);
            header.push_back(std::string(q.heading) + " (" + q.unit + ")");
            before_columns.push_back(per_city(base, q, cities.size(), persons_per_agent));
            after_columns.push_back(per_city(policy, q, cities.size(), persons_per_agent));
        }
        rows.push_back(header);
        auto add_row = [&](const std::string& name, auto&& value_of) {
            std::vector<std::string> row = {name};
            for (std::size_t k = 0; k < shown.size(); ++k) {
                const auto [before, after] = value_of(k);
                const int decimals = std::string(shown[k]->unit).find("persons") != std::string::npos ||
                                             std::string(shown[k]->unit) == "firms" || std::string(shown[k]->unit) == "CNY"
                                         ? 0
                                         : 2;
                row.push_back(signed_number(after - before, decimals) +
                              (shown[k]->percent ? signed_percent(before, after) : ""));
            }
            rows.push_back(row);
        };
        for (std::size_t c = 0; c < cities.size(); ++c)
            add_row(cities[c], [&](std::size_t k) { return std::pair{before_columns[k][c], after_columns[k][c]}; });
        add_row("all cities", [&](std::size_t k) {
            double before = 0, after = 0;
            for (std::size_t c = 0; c < cities.size(); ++c) {
                before += before_columns[k][c];
                after += after_columns[k][c];
            }
            const bool additive = shown[k]->count || std::string(shown[k]->variable) == "residents" ||
                                  std::string(shown[k]->unit) == "firms" || std::string(shown[k]->unit) == "CNY";
            return additive ? std::pair{before, after} : std::pair{std::nan(""), std::nan("")};
        });

        // Fiscal cost over the whole run, and what it bought: cost per additional resident talent and
        // per additional founder at the end (a "-" where the policy added none).
        if (in_policy.count("fiscal_cost")) {
            const auto policy_cost = cumulative_fiscal_cost(policy, cities.size());
            const auto base_cost = present.count("fiscal_cost") ? cumulative_fiscal_cost(base, cities.size())
                                                                : std::vector<double>(cities.size(), 0.0);
            auto change_of = [&](const char* variable, std::size_t c) {
                for (std::size_t k = 0; k < shown.size(); ++k)
                    if (std::string(shown[k]->variable) == variable) {
                        if (c < cities.size()) return after_columns[k][c] - before_columns[k][c];
                        double sum = 0.0;
                        for (std::size_t d = 0; d < cities.size(); ++d) sum += after_columns[k][d] - before_columns[k][d];
                        return sum;
                    }
                return std::nan("");
            };
            rows[0].insert(rows[0].end(), {"fiscal cost, whole run (CNY)", "per extra talent (CNY)", "per extra founder (CNY)"});
            double total_cost = 0.0;
            for (std::size_t c = 0; c <= cities.size(); ++c) {
                const double cost = c < cities.size() ? policy_cost[c] - base_cost[c] : total_cost;
                if (c < cities.size()) total_cost += cost;
                auto per = [&](const char* variable) {
                    const double gained = change_of(variable, c);
                    return cost > 0 && gained > 0 ? grouped(cost / gained) : std::string("-");
                };
                rows[c + 1].insert(rows[c + 1].end(), {grouped(cost), per("talent"), per("founders")});
            }
            header = rows[0];
        }

        std::vector<std::size_t> width(header.size(), 0);
        for (const auto& row : rows)
            for (std::size_t k = 0; k < row.size(); ++k) width[k] = std::max(width[k], row[k].size());
        for (const auto& row : rows) {
            for (std::size_t k = 0; k < row.size(); ++k)
                std::cout << (k == 0 ? row[k] + std::string(width[k] - row[k].size(), ' ')
                                     : "  " + std::string(width[k] - row[k].size(), ' ') + row[k]);
            std::cout << "\n";
        }
        // A budget cap that binds is part of the answer: the policy paid less than it promised.
        if (in_policy.count("policy_payout_share")) {
            const auto instruments = policy.labels("instrument");
            const std::size_t instrument_count = instruments.size();
            std::vector<std::size_t> binding(cities.size() * instrument_count, 0);
            std::vector<double> lowest(cities.size() * instrument_count, 1.0);
            for (std::size_t t = 0; t < policy.times().size(); ++t) {
                const auto share = policy.read_record("policy_payout_share", t);
                for (std::size_t k = 0; k < share.size() && k < binding.size(); ++k)
                    if (share[k] < 1.0) ++binding[k], lowest[k] = std::min(lowest[k], share[k]);
            }
            for (std::size_t k = 0; k < binding.size(); ++k)
                if (binding[k] > 0)
                    std::cout << "budget cap bound: " << cities[k / instrument_count] << " " << instruments[k % instrument_count] << " in "
                              << binding[k] << " of " << policy.times().size() - 1 << " steps (lowest payout share "
                              << signed_number(lowest[k], 2).substr(1) << ")\n";
        }
        return exit_codes::ok;
    } catch (const std::exception& e) {
        std::cerr << "citysim: cannot compare: " << e.what() << "\n";
        return exit_codes::failure;
    }
}

}  // namespace citysim::cli
