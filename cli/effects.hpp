// The policy-minus-baseline table: the one place that computes what a policy changed.
//
// `citysim compare` prints it, `python3 -m analysis report --baseline` shows it (it runs
// `citysim compare --format json`), so the two never disagree. For every per-city time series of
// the files (read from their metadata, so variables a model adds appear by themselves):
//   - a flow (its long_name says "during the step": arrivals, births, breakthroughs, fiscal cost)
//     is summed over the window's steps (--from/--to; default: every step after the starting state);
//   - a stock (talent, start-ups, rent, ...) is taken at one step (--at; default the window's end);
//   - agents are counted in persons (x persons_per_agent), start-ups in firms, summed over fields
//     and any other axis (instruments, employers); other quantities (wages, rents) are averaged
//     over fields with talent weights.
// Per pair of runs (same seed and run number: common random numbers) the policy's value minus the
// baseline's, then over the pairs their mean and 90% interval (engine/sweep/statistics.hpp).
// With policies it adds the fiscal cost a year, the cost per extra talent and per extra founder
// (ratios of the means), the cost year by year, and where a budget cap bound.
#pragma once

#include "cli/runs.hpp"
#include "cli/table.hpp"
#include "engine/sweep/statistics.hpp"

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace citysim::cli {

// How one variable enters the table, from its metadata alone.
struct Quantity {
    enum class Kind { flow, stock, not_shown };
    Kind kind = Kind::not_shown;
    bool additive = false;  // counts and money: summed over fields, other axes and cities
    double scale = 1.0;     // persons_per_agent for agent counts, else 1
    std::string unit;       // shown: "persons", "firms", or the file's units
    std::string why_not;    // for not_shown
};
Quantity describe_quantity(const output::VariableSpec& spec, double persons_per_agent);

// One run's per-city values: a flow summed over records first..last (indices into times()), a stock
// at record `at`; one value per city, then all cities (NaN when the quantity does not add up).
class PerCityValues {
public:
    PerCityValues(const RunSet& set, const RunSet::Run& run, std::size_t first, std::size_t last, std::size_t at);
    std::vector<double> of(const std::string& variable, const Quantity& quantity);
    // A variable summed over its axes after the city, per record of the window: [record][city].
    std::vector<std::vector<double>> cost_per_record(const std::string& variable);

private:
    const std::vector<double>& talent();

    const RunSet& set_;
    const RunSet::Run& run_;
    std::size_t cities_, first_, last_, at_;
    std::vector<double> talent_;
};

// Runs that cannot be compared as asked (no pairs without --unpaired, other cities or steps, a window
// outside the runs): the message says why and what to do.
class CompareError : public std::runtime_error {
public:
    CompareError(const std::string& message, bool usage) : std::runtime_error(message), usage_(usage) {}
    bool usage() const { return usage_; }  // the command line can fix it (exit 2), not the files (exit 1)

private:
    bool usage_;
};

struct EffectOptions {
    std::optional<std::int64_t> from, to, at;  // time coordinates (steps)
    bool unpaired = false;
    std::vector<std::string> variables;  // only these (default: every per-city series)
};

struct EffectCell {
    double baseline = 0.0;  // mean over the runs used
    double policy = 0.0;
    sweep::MeanInterval difference;  // policy minus baseline, over the pairs
    double relative = 0.0;           // difference.mean / baseline
};

struct EffectRow {
    std::string key;          // a variable name, or fiscal_cost_per_year, cost_per_extra_talent, ...
    std::string long_name;
    std::string unit;         // of the numbers (CSV, JSON)
    std::string aggregation;  // "sum" (over the window), "at" (one step), "per year", "ratio of means"
    std::vector<EffectCell> cells;  // one per city, then "all cities" (NaN where it has no meaning)
    // How the table shows it: "talent (persons)", amounts of CNY in millions.
    std::string label;
    double display_scale = 1.0;
};

struct YearCost {
    std::int64_t year = 0;              // 1, 2, ... within the window
    std::int64_t first = 0, last = 0;   // its steps
    std::vector<sweep::MeanInterval> cost;  // per city: the policy's cost minus the baseline's
};

struct CapBinding {
    std::string city, instrument;
    std::size_t runs_bound = 0, runs = 0;
    double mean_steps = 0.0;  // steps with a payout share below 1, mean over the policy runs
    std::size_t steps = 0;    // steps in the window
    double lowest_share = 1.0;
};

struct EffectTable {
    std::string baseline, policy;  // descriptions of the two sources
    bool paired = true;
    std::size_t pairs = 0;
    std::vector<std::string> warnings;  // shown after the table (and on stderr by the CLI)
    std::string fork;                   // a policy run forked from a baseline's checkpoint: from which, "" if not
    std::vector<std::string> cities;    // the per-city columns; "all cities" follows them
    std::string step_unit;
    std::int64_t from = 0, to = 0, at = 0;
    double years = 0.0;                 // the window's length
    bool flows_summed = true;           // false when the files kept only some records
    std::vector<EffectRow> rows;        // per-city quantities, in file order
    std::vector<EffectRow> money;       // fiscal cost a year, cost per extra talent and founder
    std::vector<YearCost> cost_by_year;
    std::vector<std::string> paying_cities;
    std::vector<CapBinding> caps;
};

// Throws CompareError (and SourceError from opening the sources).
EffectTable compute_effects(const RunSet& baseline, const RunSet& policy, const EffectOptions& options);

// What a cell shows: the mean difference ("+17,796", in the row's display unit); its interval is
// shown as "±" its half width under it, and in the report as "+17,880 ±520".
std::string effect_text(const EffectRow& row, const EffectCell& cell);
std::string half_width_text(const EffectRow& row, const EffectCell& cell);

std::string render_effects(const EffectTable& table, std::size_t width, bool relative);
std::string effects_csv(const EffectTable& table);
Json effects_json(const EffectTable& table);

}  // namespace citysim::cli
