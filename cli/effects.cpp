#include "cli/effects.hpp"

#include "engine/checkpoint/file.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

namespace citysim::cli {

namespace {

constexpr double not_a_number = std::numeric_limits<double>::quiet_NaN();

// The variables the money rows are made of (absent ones leave their rows out).
constexpr const char* cost_variable = "fiscal_cost";
constexpr const char* payout_share_variable = "policy_payout_share";
const std::pair<const char*, const char*> per_extra[] = {{"talent", "cost_per_extra_talent"},
                                                         {"founders", "cost_per_extra_founder"}};

bool starts_with(const std::string& text, const char* prefix) { return text.rfind(prefix, 0) == 0; }

std::string join_keys(const std::vector<std::pair<std::int64_t, std::int64_t>>& keys) {
    std::string out;
    for (std::size_t k = 0; k < keys.size() && k < 4; ++k)
        out += fmt::format("{}({}, {})", k ? ", " : "", keys[k].first, keys[k].second);
    if (keys.size() > 4) out += fmt::format(", ... ({} runs)", keys.size());
    return out;
}

std::size_t index_of_time(const std::vector<std::int64_t>& times, std::int64_t t, const char* option) {
    const auto found = std::find(times.begin(), times.end(), t);
    if (found == times.end())
        throw CompareError(fmt::format("{} {} is not a step of the runs: they have records at steps {} to {}{}", option,
                                       t, times.front(), times.back(),
                                       times.size() > 1 && times[1] - times[0] != 1 ? " (only some of them)" : ""),
                           true);
    return static_cast<std::size_t>(found - times.begin());
}

struct Accumulator {
    std::vector<std::vector<double>> differences, baselines, policies;  // [cell][pair]
    explicit Accumulator(std::size_t cells) : differences(cells), baselines(cells), policies(cells) {}
    void add(const std::vector<double>& base, const std::vector<double>& policy) {
        for (std::size_t c = 0; c < base.size(); ++c) {
            // A difference below the rounding error of sums this large is no difference (the sum over
            // cities of amounts that only moved between them).
            double difference = policy[c] - base[c];
            if (std::fabs(difference) <= 1e-12 * std::max(std::fabs(policy[c]), std::fabs(base[c]))) difference = 0.0;
            differences[c].push_back(difference);
            baselines[c].push_back(base[c]);
            policies[c].push_back(policy[c]);
        }
    }
    std::vector<EffectCell> cells() const {
        std::vector<EffectCell> out(differences.size());
        for (std::size_t c = 0; c < out.size(); ++c) {
            out[c].difference = sweep::mean_interval(differences[c]);
            out[c].baseline = sweep::mean_interval(baselines[c]).mean;
            out[c].policy = sweep::mean_interval(policies[c]).mean;
            out[c].relative = out[c].baseline != 0.0 ? out[c].difference.mean / std::fabs(out[c].baseline) : not_a_number;
        }
        return out;
    }
};

EffectCell scaled(const EffectCell& cell, double factor) {
    EffectCell out = cell;
    out.baseline *= factor;
    out.policy *= factor;
    out.difference.mean *= factor;
    out.difference.sd *= factor;
    out.difference.low90 *= factor;
    out.difference.high90 *= factor;
    return out;
}

EffectCell ratio_of_means(const EffectCell& cost, const EffectCell& gain) {
    EffectCell out;
    out.baseline = out.policy = out.relative = not_a_number;
    out.difference.count = cost.difference.count;
    out.difference.sd = out.difference.low90 = out.difference.high90 = not_a_number;
    const bool meaningful = cost.difference.mean > 0 && gain.difference.mean > 0;
    out.difference.mean = meaningful ? cost.difference.mean / gain.difference.mean : not_a_number;
    return out;
}

// The row's label and display scale: amounts of CNY in millions, so that columns stay narrow.
void set_display(EffectRow& row, const std::string& name) {
    std::string unit = row.unit;
    if (unit == "CNY") {
        row.display_scale = 1e-6;
        unit = "million CNY";
    }
    row.label = name + (unit.empty() || unit == "1" ? "" : " (" + unit + ")");
}

std::string plural(const std::string& unit) {
    if (unit.empty() || unit == "step") return "steps";
    return unit.back() == 's' ? unit : unit + "s";
}

std::string window_text(const EffectTable& t) {
    return fmt::format("{} {}-{}", plural(t.step_unit), t.from, t.to);
}

// A policy run forked from a baseline's checkpoint (docs/checkpoints.md) names that baseline's scenario
// by its digest: the pair is exact when it is this baseline's.
std::string fork_note(const output::Reader& base, const output::Reader& policy, const std::string& step_unit) {
    const auto forked = policy.provenance_attributes();
    if (!forked.count("fork_step")) return "";
    const std::string step = forked.at("fork_step");
    const auto baseline = forked.count("baseline_scenario_digest") ? forked.at("baseline_scenario_digest") : "";
    if (checkpoint::digest(base.provenance_text("scenario_resolved")) == baseline)
        return "forked from this baseline's state after " + step_unit + " " + step + ": both share every step up to it";
    return "forked from another baseline's state after " + step_unit + " " + step +
           " (its scenario is not this baseline's): the differences include how the two baselines differ";
}

}  // namespace

Quantity describe_quantity(const output::VariableSpec& spec, double persons_per_agent) {
    Quantity q;
    if (spec.dims.size() < 2 || spec.dims[0] != "time" || spec.dims[1] != "city") {
        q.why_not = "not a per-city time series";
        return q;
    }
    // What a count counts, from its description: agents (persons = value x persons_per_agent), firms,
    // or firm agents (citysim 0.1's files: firms = value x persons_per_agent).
    const bool agents = starts_with(spec.description, "agents");
    const bool firm_agents = starts_with(spec.description, "firm agents");
    const bool firms = starts_with(spec.description, "firms");
    static const std::set<std::string> extensive_units = {"CNY", "persons", "firms", "m2"};
    q.additive = agents || firm_agents || firms || extensive_units.count(spec.units) > 0;
    q.scale = agents || firm_agents ? persons_per_agent : 1.0;
    q.unit = agents ? "persons" : firm_agents || firms ? "firms" : spec.units;
    const bool flow = spec.long_name.find("during the step") != std::string::npos;
    if (flow && !q.additive) {
        q.why_not = "a rate during each step, which neither adds up over steps nor is a state at one step";
        return q;
    }
    if (!q.additive && !(spec.dims.size() == 2 || (spec.dims.size() == 3 && spec.dims[2] == "field"))) {
        q.why_not = "an average over axes other than fields, which has no per-city value";
        return q;
    }
    q.kind = flow ? Quantity::Kind::flow : Quantity::Kind::stock;
    return q;
}

PerCityValues::PerCityValues(const RunSet& set, const RunSet::Run& run, std::size_t first, std::size_t last,
                             std::size_t at)
    : set_(set), run_(run), cities_(set.labels("city").size()), first_(first), last_(last), at_(at) {}

std::vector<double> PerCityValues::of(const std::string& variable, const Quantity& quantity) {
    std::vector<double> result(cities_ + 1, 0.0);
    if (!set_.has(variable)) return result;  // a baseline without fiscal_cost paid nothing
    const auto values = set_.series(run_, variable);
    const std::size_t records = set_.times().size();
    const std::size_t rest = values.size() / (records * cities_);
    const bool weighted = !quantity.additive && rest > 1 && set_.has("talent") &&
                          set_.variable("talent").dims == set_.variable(variable).dims;
    const std::vector<double>* weights = weighted ? &talent() : nullptr;
    auto value = [&](std::size_t t, std::size_t c) {
        const std::size_t base = (t * cities_ + c) * rest;
        if (quantity.additive) {
            double sum = 0.0;
            for (std::size_t k = 0; k < rest; ++k) sum += values[base + k];
            return sum * quantity.scale;
        }
        if (rest == 1) return values[base];
        double sum = 0.0, weight = 0.0, plain = 0.0;
        std::size_t finite = 0;
        for (std::size_t k = 0; k < rest; ++k) {
            const double v = values[base + k];
            if (!std::isfinite(v)) continue;
            plain += v;
            ++finite;
            const double w = weights ? (*weights)[base + k] : 0.0;
            if (w > 0) sum += v * w, weight += w;
        }
        if (weight > 0) return sum / weight;
        return finite ? plain / static_cast<double>(finite) : not_a_number;
    };
    for (std::size_t c = 0; c < cities_; ++c) {
        if (quantity.kind == Quantity::Kind::flow) {
            double sum = 0.0;
            for (std::size_t t = first_; t <= last_; ++t) sum += value(t, c);
            result[c] = sum;
        } else {
            result[c] = value(at_, c);
        }
    }
    double total = 0.0;
    for (std::size_t c = 0; c < cities_; ++c) total += result[c];
    result[cities_] = quantity.additive ? total : not_a_number;
    return result;
}

std::vector<std::vector<double>> PerCityValues::cost_per_record(const std::string& variable) {
    std::vector<std::vector<double>> out(last_ - first_ + 1, std::vector<double>(cities_, 0.0));
    if (!set_.has(variable)) return out;
    const auto values = set_.series(run_, variable);
    const std::size_t rest = values.size() / (set_.times().size() * cities_);
    for (std::size_t t = first_; t <= last_; ++t)
        for (std::size_t c = 0; c < cities_; ++c)
            for (std::size_t k = 0; k < rest; ++k) out[t - first_][c] += values[(t * cities_ + c) * rest + k];
    return out;
}

const std::vector<double>& PerCityValues::talent() {
    if (talent_.empty()) talent_ = set_.series(run_, "talent");
    return talent_;
}

EffectTable compute_effects(const RunSet& baseline, const RunSet& policy, const EffectOptions& options) {
    EffectTable table;
    table.baseline = baseline.description();
    table.policy = policy.description();
    table.cities = policy.labels("city");
    if (table.cities != baseline.labels("city") || policy.labels("field") != baseline.labels("field"))
        throw CompareError("the baseline and the policy have different cities or fields: compare runs of the same "
                           "scenario family (a policy scenario that `extends` its baseline)",
                           false);
    const auto& times = policy.times();
    if (times != baseline.times())
        throw CompareError(fmt::format("the baseline and the policy cover different steps ({} and {} records): run "
                                       "both for the same steps",
                                       baseline.times().size(), times.size()),
                           false);
    if (times.empty()) throw CompareError("the runs hold no records", false);
    const double persons_per_agent = policy.persons_per_agent();
    if (baseline.persons_per_agent() != persons_per_agent)
        throw CompareError("the runs stand for different persons per agent: compare runs of equal size", false);
    const auto attributes = policy.attributes();
    table.step_unit = attributes.count("step_unit") ? attributes.at("step_unit") : "step";
    table.fork = fork_note(baseline.first(), policy.first(), table.step_unit);

    // Pairs: runs with the same (seed, run) drew the same random numbers.
    using Key = std::pair<std::int64_t, std::int64_t>;
    std::map<Key, std::size_t> base_by_key, policy_by_key;
    std::vector<Key> base_keys, policy_keys;
    for (std::size_t k = 0; k < baseline.runs().size(); ++k) {
        const Key key{baseline.runs()[k].seed, baseline.runs()[k].stream_run};
        if (!base_by_key.emplace(key, k).second)
            throw CompareError(table.baseline + ": several runs share the stream (seed " + std::to_string(key.first) +
                                   ", run " + std::to_string(key.second) +
                                   "): pick one arm of a sweep (--arm), or give one design point's runs",
                               true);
        base_keys.push_back(key);
    }
    for (std::size_t k = 0; k < policy.runs().size(); ++k) {
        const Key key{policy.runs()[k].seed, policy.runs()[k].stream_run};
        if (!policy_by_key.emplace(key, k).second)
            throw CompareError(table.policy + ": several runs share the stream (seed " + std::to_string(key.first) +
                                   ", run " + std::to_string(key.second) +
                                   "): pick one arm of a sweep (--arm), or give one design point's runs",
                               true);
        policy_keys.push_back(key);
    }
    std::vector<std::pair<std::size_t, std::size_t>> pairs;  // (baseline run, policy run)
    for (const auto& [key, b] : base_by_key)
        if (const auto found = policy_by_key.find(key); found != policy_by_key.end()) pairs.emplace_back(b, found->second);
    if (pairs.empty()) {
        if (!options.unpaired)
            throw CompareError("no run of the policy has the seed and run number of a run of the baseline, so no two "
                               "runs share their random numbers: (seed, run) of the baseline " + join_keys(base_keys) +
                                   ", of the policy " +
                                   join_keys(policy_keys) +
                                   ". Run both with the same seed (a policy scenario that `extends` the baseline "
                                   "keeps its seed), or pass --unpaired to compare them anyway (the differences "
                                   "then include random noise)",
                               true);
        table.paired = false;
        const std::size_t n = std::min(baseline.runs().size(), policy.runs().size());
        std::vector<std::size_t> b_order, p_order;
        for (const auto& entry : base_by_key) b_order.push_back(entry.second);
        for (const auto& entry : policy_by_key) p_order.push_back(entry.second);
        for (std::size_t k = 0; k < n; ++k) pairs.emplace_back(b_order[k], p_order[k]);
        table.warnings.push_back("NOT paired: the runs have different seeds or run numbers, so the differences include "
                                 "random noise (runs matched in order of seed and run number)");
        if (baseline.runs().size() != policy.runs().size())
            table.warnings.push_back(fmt::format("{} baseline and {} policy runs: {} matched, the rest left out",
                                                 baseline.runs().size(), policy.runs().size(), n));
    } else {
        const std::size_t left_base = baseline.runs().size() - pairs.size();
        const std::size_t left_policy = policy.runs().size() - pairs.size();
        if (left_base || left_policy)
            table.warnings.push_back(fmt::format(
                "{} baseline run(s) and {} policy run(s) have no partner with the same (seed, run) and are left out",
                left_base, left_policy));
    }
    table.pairs = pairs.size();
    if (const auto warning = sweep::interval_warning(table.pairs); !warning.empty() && table.pairs > 1)
        table.warnings.push_back(warning);

    // The window.
    const bool every_step = std::adjacent_find(times.begin(), times.end(), [](std::int64_t a, std::int64_t b) {
                                return b - a != 1;
                            }) == times.end();
    const std::size_t last = options.to ? index_of_time(times, *options.to, "--to") : times.size() - 1;
    std::size_t first = options.from ? index_of_time(times, *options.from, "--from") : (times.size() > 1 ? 1 : 0);
    if (!options.from && times.size() > 1 && last == 0) first = 0;
    if (first > last)
        throw CompareError(fmt::format("--from {} is after --to {}", times[first], times[last]), true);
    const std::size_t at = options.at ? index_of_time(times, *options.at, "--at") : last;
    table.from = times[first];
    table.to = times[last];
    table.at = times[at];
    table.flows_summed = every_step;
    const auto numeric = policy.numeric_attributes();
    const double years_per_step = numeric.count("years_per_step") ? numeric.at("years_per_step") : not_a_number;
    table.years = static_cast<double>(last - first + 1) * years_per_step;
    if (!every_step)
        table.warnings.push_back(fmt::format(
            "the runs kept only some records ({} {}; a sweep with keep: final keeps the first and the last): flows "
            "cannot be summed, so only stocks are shown",
            plural(table.step_unit), [&] {
                std::string list;
                for (std::size_t k = 0; k < times.size() && k < 6; ++k) list += (k ? ", " : "") + std::to_string(times[k]);
                return list + (times.size() > 6 ? ", ..." : "");
            }()));

    // The rows: every per-city series both sides have (a baseline may lack fiscal_cost: it paid nothing).
    struct Chosen {
        std::string name;
        Quantity quantity;
    };
    std::vector<Chosen> chosen;
    for (const auto& name : policy.variables()) {
        if (!baseline.has(name) && name != cost_variable) continue;
        const bool asked = std::find(options.variables.begin(), options.variables.end(), name) != options.variables.end();
        if (!options.variables.empty() && !asked) continue;
        const Quantity q = describe_quantity(policy.variable(name), persons_per_agent);
        if (q.kind == Quantity::Kind::not_shown || (q.kind == Quantity::Kind::flow && !every_step)) {
            if (asked)
                throw CompareError(name + " cannot be compared per city: " +
                                       (q.why_not.empty() ? "it is a flow and the runs kept only some records" : q.why_not),
                                   true);
            continue;
        }
        chosen.push_back({name, q});
    }
    for (const auto& name : options.variables)
        if (!policy.has(name) || (!baseline.has(name) && name != cost_variable)) {
            std::string names;
            for (const auto& v : policy.variables())
                if (describe_quantity(policy.variable(v), 1.0).kind != Quantity::Kind::not_shown)
                    names += (names.empty() ? "" : ", ") + v;
            throw CompareError("no variable '" + name + "' in both runs; they have: " + names, true);
        }
    const bool has_cost = policy.has(cost_variable) && every_step;

    const std::size_t cities = table.cities.size();
    std::vector<Accumulator> accumulators(chosen.size(), Accumulator(cities + 1));
    std::vector<std::vector<std::vector<double>>> cost_by_record;  // [pair][record][city]
    for (const auto& [b, p] : pairs) {
        PerCityValues base_values(baseline, baseline.runs()[b], first, last, at);
        PerCityValues policy_values(policy, policy.runs()[p], first, last, at);
        for (std::size_t r = 0; r < chosen.size(); ++r)
            accumulators[r].add(base_values.of(chosen[r].name, chosen[r].quantity),
                                policy_values.of(chosen[r].name, chosen[r].quantity));
        if (has_cost) {
            auto paid = policy_values.cost_per_record(cost_variable);
            const auto base_paid = base_values.cost_per_record(cost_variable);
            for (std::size_t t = 0; t < paid.size(); ++t)
                for (std::size_t c = 0; c < cities; ++c) paid[t][c] -= base_paid[t][c];
            cost_by_record.push_back(std::move(paid));
        }
    }
    for (std::size_t r = 0; r < chosen.size(); ++r) {
        const auto spec = policy.variable(chosen[r].name);
        EffectRow row;
        row.key = chosen[r].name;
        row.long_name = spec.long_name;
        row.unit = chosen[r].quantity.unit;
        row.aggregation = chosen[r].quantity.kind == Quantity::Kind::flow ? "sum" : "at";
        row.cells = accumulators[r].cells();
        set_display(row, row.key);
        table.rows.push_back(std::move(row));
    }

    // Money: what the policies cost a year, and per extra talent and founder.
    const auto row_of = [&](const std::string& key) -> const EffectRow* {
        for (const auto& row : table.rows)
            if (row.key == key) return &row;
        return nullptr;
    };
    if (const EffectRow* cost = has_cost ? row_of(cost_variable) : nullptr) {
        if (std::isfinite(table.years) && table.years > 0) {
            EffectRow per_year;
            per_year.key = "fiscal_cost_per_year";
            per_year.long_name = "what the city's policies paid, a year on average over the window";
            per_year.unit = "CNY/year";
            per_year.aggregation = "per year";
            for (const auto& cell : cost->cells) per_year.cells.push_back(scaled(cell, 1.0 / table.years));
            per_year.label = "cost a year (million CNY)";
            per_year.display_scale = 1e-6;
            table.money.push_back(std::move(per_year));
        }
        for (const auto& [variable, key] : per_extra) {
            const EffectRow* gain = row_of(variable);
            if (!gain) continue;
            EffectRow ratio;
            ratio.key = key;
            ratio.long_name = std::string("fiscal cost over the window per additional ") + variable +
                              " at the end (ratio of the means; only where both are positive)";
            ratio.unit = "CNY/" + (gain->unit.empty() ? std::string("unit") : gain->unit.substr(0, gain->unit.size() - 1));
            ratio.aggregation = "ratio of means";
            for (std::size_t c = 0; c <= cities; ++c) ratio.cells.push_back(ratio_of_means(cost->cells[c], gain->cells[c]));
            ratio.label = std::string("cost per extra ") + (std::string(variable) == "founders" ? "founder" : variable) + " (CNY)";
            table.money.push_back(std::move(ratio));
        }
        // Year by year, for the cities that paid anything.
        for (std::size_t c = 0; c < cities; ++c)
            if (cost->cells[c].difference.mean != 0.0 || cost->cells[c].policy != 0.0)
                table.paying_cities.push_back(table.cities[c]);
        if (std::isfinite(years_per_step) && years_per_step > 0 && !table.paying_cities.empty()) {
            const auto steps_a_year = static_cast<std::size_t>(std::max(1.0, std::round(1.0 / years_per_step)));
            for (std::size_t start = 0; start <= last - first; start += steps_a_year) {
                const std::size_t end = std::min(last - first, start + steps_a_year - 1);
                YearCost year;
                year.year = static_cast<std::int64_t>(start / steps_a_year) + 1;
                year.first = times[first + start];
                year.last = times[first + end];
                for (std::size_t c = 0; c < cities; ++c) {
                    std::vector<double> per_pair;
                    for (const auto& pair_costs : cost_by_record) {
                        double sum = 0.0;
                        for (std::size_t t = start; t <= end; ++t) sum += pair_costs[t][c];
                        per_pair.push_back(sum);
                    }
                    year.cost.push_back(sweep::mean_interval(per_pair));
                }
                table.cost_by_year.push_back(std::move(year));
            }
        }
    }

    // Where a budget cap bound: the policy paid less than it promised.
    if (policy.has(payout_share_variable) && every_step) {
        const auto instruments = policy.labels("instrument");
        const std::size_t count = cities * instruments.size();
        std::vector<std::size_t> runs_bound(count, 0), steps_bound(count, 0);
        std::vector<double> lowest(count, 1.0);
        for (const auto& [b, p] : pairs) {
            static_cast<void>(b);
            const auto share = policy.series(policy.runs()[p], payout_share_variable);
            for (std::size_t k = 0; k < count; ++k) {
                std::size_t steps = 0;
                for (std::size_t t = std::max<std::size_t>(first, 1); t <= last; ++t)
                    if (share[t * count + k] < 1.0) {
                        ++steps;
                        lowest[k] = std::min(lowest[k], share[t * count + k]);
                    }
                steps_bound[k] += steps;
                runs_bound[k] += steps > 0 ? 1 : 0;
            }
        }
        for (std::size_t k = 0; k < count; ++k)
            if (runs_bound[k] > 0) {
                CapBinding cap;
                cap.city = table.cities[k / instruments.size()];
                cap.instrument = instruments[k % instruments.size()];
                cap.runs_bound = runs_bound[k];
                cap.runs = pairs.size();
                cap.mean_steps = static_cast<double>(steps_bound[k]) / static_cast<double>(pairs.size());
                cap.steps = last - std::max<std::size_t>(first, 1) + 1;
                cap.lowest_share = lowest[k];
                table.caps.push_back(cap);
            }
    }
    return table;
}

std::string effect_text(const EffectRow& row, const EffectCell& cell) {
    const double value = cell.difference.mean * row.display_scale;
    return row.aggregation == "ratio of means" ? format_number(value) : format_signed(value);
}

std::string half_width_text(const EffectRow& row, const EffectCell& cell) {
    const double half = 0.5 * (cell.difference.high90 - cell.difference.low90) * row.display_scale;
    return std::isfinite(half) && half != 0.0 ? "±" + format_number(half) : "";
}

std::string render_effects(const EffectTable& t, std::size_t width, bool relative) {
    std::string out = wrap(fmt::format("policy:   {}", t.policy), width, 10) + "\n" +
                      wrap(fmt::format("baseline: {}", t.baseline), width, 10) + "\n";
    if (t.paired)
        out += wrap(fmt::format("{} pair{} of runs on common random numbers (same seed and run): differences are the "
                                "policy's effect",
                                t.pairs, t.pairs == 1 ? "" : "s"),
                    width) +
               "\n";
    if (!t.fork.empty()) out += wrap(t.fork, width) + "\n";
    out += wrap(fmt::format("Policy minus baseline{}{}", relative ? ", relative to the baseline" : "",
                            t.pairs > 1 ? fmt::format(": mean over {} pairs, ± half its 90% interval below it", t.pairs)
                                        : ""),
                width) +
           "\n\n";
    TextTable table;
    table.header = {"quantity (unit)"};
    for (const auto& city : t.cities) table.header.push_back(city);
    table.header.push_back("all cities");
    const bool show_interval = t.pairs > 1 && !relative;
    auto add = [&](const EffectRow& row) {
        std::vector<std::string> line = {"  " + row.label};
        std::vector<std::string> interval = {""};
        bool any_interval = false;
        for (const auto& cell : row.cells) {
            line.push_back(relative ? format_percent(cell.relative) : effect_text(row, cell));
            interval.push_back(show_interval ? half_width_text(row, cell) : "");
            any_interval = any_interval || !interval.back().empty();
        }
        table.rows.push_back(std::move(line));
        if (any_interval) table.rows.push_back(std::move(interval));
    };
    auto section = [&](const std::string& title, auto&& rows, auto&& keep) {
        bool first = true;
        for (const auto& row : rows) {
            if (!keep(row)) continue;
            if (first) table.rows.push_back({title});
            first = false;
            add(row);
        }
    };
    section(fmt::format("at {} {}:", t.step_unit, t.at), t.rows, [](const EffectRow& row) { return row.aggregation == "at"; });
    section(fmt::format("summed over {}:", window_text(t)), t.rows,
            [](const EffectRow& row) { return row.aggregation == "sum"; });
    if (!relative)
        section(fmt::format("fiscal cost over {}:", window_text(t)), t.money, [](const EffectRow&) { return true; });
    out += render(table, width);

    if (!t.cost_by_year.empty() && !relative) {
        TextTable years;
        years.label_columns = 2;
        years.header = {"year", plural(t.step_unit)};
        std::vector<std::size_t> paying;
        for (std::size_t c = 0; c < t.cities.size(); ++c)
            if (std::find(t.paying_cities.begin(), t.paying_cities.end(), t.cities[c]) != t.paying_cities.end()) {
                paying.push_back(c);
                years.header.push_back(t.cities[c]);
            }
        for (const auto& year : t.cost_by_year) {
            std::vector<std::string> line = {std::to_string(year.year), fmt::format("{}-{}", year.first, year.last)};
            for (const std::size_t c : paying) line.push_back(format_signed(year.cost[c].mean * 1e-6));
            years.rows.push_back(std::move(line));
        }
        out += "\nFiscal cost year by year (million CNY), policy minus baseline" +
               std::string(t.pairs > 1 ? ", mean over the pairs" : "") + ":\n" + render(years, width);
    }
    if (!t.caps.empty()) out += "\n";
    for (const auto& cap : t.caps) {
        if (t.pairs == 1)
            out += fmt::format("budget cap bound: {} {} in {} of {} steps (lowest payout share {:.2f})\n", cap.city,
                               cap.instrument, static_cast<std::size_t>(cap.mean_steps), cap.steps, cap.lowest_share);
        else
            out += fmt::format("budget cap bound: {} {} in {} of {} runs, {:.1f} of {} steps on average (lowest payout "
                               "share {:.2f})\n",
                               cap.city, cap.instrument, cap.runs_bound, cap.runs, cap.mean_steps, cap.steps,
                               cap.lowest_share);
    }
    if (!t.money.empty() && t.caps.empty()) out += "\nNo budget cap bound.\n";
    if (t.pairs > 1) out += "\n" + wrap(sweep::interval_definition() + ".", width) + "\n";
    for (const auto& warning : t.warnings) out += wrap("warning: " + warning, width, 2) + "\n";
    return out;
}

std::string effects_csv(const EffectTable& t) {
    std::string out = csv_line({"quantity", "unit", "aggregation", "from", "to", "city", "year", "baseline", "policy",
                                "difference", "low90", "high90", "pairs", "relative_change"});
    auto emit = [&](const EffectRow& row) {
        const bool over_window = row.aggregation == "sum" || row.aggregation == "per year";
        for (std::size_t c = 0; c < row.cells.size(); ++c) {
            const auto& cell = row.cells[c];
            out += csv_line({row.key, row.unit, row.aggregation, std::to_string(over_window ? t.from : t.at),
                             std::to_string(over_window ? t.to : t.at), c < t.cities.size() ? t.cities[c] : "all cities",
                             "", exact_number(cell.baseline), exact_number(cell.policy),
                             exact_number(cell.difference.mean), exact_number(cell.difference.low90),
                             exact_number(cell.difference.high90), std::to_string(cell.difference.count),
                             exact_number(cell.relative)});
        }
    };
    for (const auto& row : t.rows) emit(row);
    for (const auto& row : t.money) emit(row);
    for (const auto& year : t.cost_by_year)
        for (std::size_t c = 0; c < t.cities.size(); ++c)
            out += csv_line({"fiscal_cost_by_year", "CNY", "sum", std::to_string(year.first), std::to_string(year.last),
                             t.cities[c], std::to_string(year.year), "", "", exact_number(year.cost[c].mean),
                             exact_number(year.cost[c].low90), exact_number(year.cost[c].high90),
                             std::to_string(year.cost[c].count), ""});
    return out;
}

Json effects_json(const EffectTable& t) {
    auto interval = [](const sweep::MeanInterval& m) {
        return Json::object()
            .add("mean", Json::number(m.mean))
            .add("low90", Json::number(m.low90))
            .add("high90", Json::number(m.high90))
            .add("sd", Json::number(m.sd))
            .add("pairs", Json::integer(static_cast<long long>(m.count)));
    };
    auto rows = [&](const std::vector<EffectRow>& list) {
        Json out = Json::array();
        for (const auto& row : list) {
            Json cells = Json::array();
            for (std::size_t c = 0; c < row.cells.size(); ++c) {
                const auto& cell = row.cells[c];
                cells.add(Json::object()
                              .add("city", Json::string(c < t.cities.size() ? t.cities[c] : "all cities"))
                              .add("baseline", Json::number(cell.baseline))
                              .add("policy", Json::number(cell.policy))
                              .add("difference", interval(cell.difference))
                              .add("relative_change", Json::number(cell.relative))
                              .add("text", Json::string(effect_text(row, cell)))
                              .add("interval_text", Json::string(t.pairs > 1 ? half_width_text(row, cell) : "")));
            }
            out.add(Json::object()
                        .add("quantity", Json::string(row.key))
                        .add("long_name", Json::string(row.long_name))
                        .add("unit", Json::string(row.unit))
                        .add("aggregation", Json::string(row.aggregation))
                        .add("label", Json::string(row.label))
                        .add("display_scale", Json::number(row.display_scale))
                        .add("cells", std::move(cells)));
        }
        return out;
    };
    Json cities = Json::array();
    for (const auto& city : t.cities) cities.add(Json::string(city));
    Json years = Json::array();
    for (const auto& year : t.cost_by_year) {
        Json per_city = Json::array();
        for (std::size_t c = 0; c < t.cities.size(); ++c)
            per_city.add(interval(year.cost[c]).add("city", Json::string(t.cities[c])).add(
                "text", Json::string(format_signed(year.cost[c].mean * 1e-6))));
        years.add(Json::object()
                      .add("year", Json::integer(year.year))
                      .add("first", Json::integer(year.first))
                      .add("last", Json::integer(year.last))
                      .add("cities", std::move(per_city)));
    }
    Json caps = Json::array();
    for (const auto& cap : t.caps)
        caps.add(Json::object()
                     .add("city", Json::string(cap.city))
                     .add("instrument", Json::string(cap.instrument))
                     .add("runs_bound", Json::integer(static_cast<long long>(cap.runs_bound)))
                     .add("runs", Json::integer(static_cast<long long>(cap.runs)))
                     .add("mean_steps", Json::number(cap.mean_steps))
                     .add("steps", Json::integer(static_cast<long long>(cap.steps)))
                     .add("lowest_payout_share", Json::number(cap.lowest_share)));
    Json warnings = Json::array();
    for (const auto& warning : t.warnings) warnings.add(Json::string(warning));
    Json paying = Json::array();
    for (const auto& city : t.paying_cities) paying.add(Json::string(city));
    return Json::object()
        .add("baseline", Json::string(t.baseline))
        .add("policy", Json::string(t.policy))
        .add("paired", Json::boolean(t.paired))
        .add("fork", Json::string(t.fork))
        .add("pairs", Json::integer(static_cast<long long>(t.pairs)))
        .add("interval", Json::object()
                             .add("name", Json::string(sweep::interval_name))
                             .add("level", Json::number(sweep::interval_level))
                             .add("minimum_pairs", Json::integer(static_cast<long long>(sweep::interval_minimum_count)))
                             .add("definition", Json::string(sweep::interval_definition())))
        .add("step_unit", Json::string(t.step_unit))
        .add("from", Json::integer(t.from))
        .add("to", Json::integer(t.to))
        .add("at", Json::integer(t.at))
        .add("years", Json::number(t.years))
        .add("flows_summed", Json::boolean(t.flows_summed))
        .add("cities", std::move(cities))
        .add("rows", rows(t.rows))
        .add("money", rows(t.money))
        .add("paying_cities", std::move(paying))
        .add("cost_by_year", std::move(years))
        .add("budget_caps", std::move(caps))
        .add("warnings", std::move(warnings));
}

}  // namespace citysim::cli
