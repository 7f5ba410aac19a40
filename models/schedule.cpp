#include "models/schedule.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

namespace citysim::models {

namespace sc = citysim::scenario;

const sc::Record<ScheduledChange>& scheduled_change_schema() {
    static const auto schema = [] {
        sc::Record<ScheduledChange> r("A change of one number of the scenario from start_step to end_step");
        r.text("key", &ScheduledChange::key, "key path of the number, as in --set (cities.shenzhen.housing.demand_shifter)",
               std::nullopt);
        r.integer("start_step", &ScheduledChange::start_step, "steps", "first step with the changed value", std::nullopt,
                  sc::Range::closed(1, 100000));
        r.integer("end_step", &ScheduledChange::end_step, "steps",
                  "first step with the scenario's value again (0 = to the end of the run)", 0,
                  sc::Range::closed(0, 100000));
        r.real("value", &ScheduledChange::value, "(the key's)", "the value in force (give value or multiply)", 0.0);
        r.real("multiply", &ScheduledChange::multiply, "1",
               "factor on the scenario's value (give value or multiply; 0 = not given, value applies)", 0.0,
               sc::Range::closed(0, 1e6));
        return r;
    }();
    return schema;
}

namespace {

std::vector<std::string> split(const std::string& path) {
    std::vector<std::string> parts;
    std::size_t begin = 0;
    while (true) {
        const auto dot = path.find('.', begin);
        parts.push_back(path.substr(begin, dot - begin));
        if (dot == std::string::npos) return parts;
        begin = dot + 1;
    }
}

bool matches(const std::vector<std::string>& pattern, const std::vector<std::string>& key) {
    if (pattern.size() != key.size()) return false;
    for (std::size_t i = 0; i < key.size(); ++i)
        if (!(pattern[i].size() > 2 && pattern[i].front() == '<' && pattern[i].back() == '>') && pattern[i] != key[i])
            return false;
    return true;
}

}  // namespace

const sc::KeyRow* key_row(const std::string& key, const std::vector<sc::KeyRow>& rows) {
    const auto parts = split(key);
    const sc::KeyRow* row = nullptr;
    for (const auto& r : rows)
        if (matches(split(r.path), parts)) row = &r;
    return row;
}

std::string why_not_schedulable(const std::string& key, const std::vector<sc::KeyRow>& rows) {
    const sc::KeyRow* row = key_row(key, rows);
    if (!row) return "no such key in a scenario (`citysim schema` lists them)";
    if (row->type != "real" && row->type != "integer") return "a schedule changes numbers; this key is a " + row->type;
    const std::string pattern = row->path;
    static const std::vector<std::pair<std::string, std::string>> fixed = {
        {"simulation.", "it sets how the run is laid out"},
        {"talent.", "it sets the starting population"},
        {"output.", "it sets what is written"},
        {"network.", "travel times are fixed for the run"},
        {"policies.<policy>.start_step", "a policy has its own start_step and end_step"},
        {"policies.<policy>.end_step", "a policy has its own start_step and end_step"},
        {"policies.<policy>.eligibility.", "who qualifies is fixed for the run"},
        {"cities.<city>.residents", "it sets the starting population"},
        {"cities.<city>.talent.", "it sets the starting population"},
        {"cities.<city>.housing.floor_space_per_person", "it sets the starting housing stock"},
        {"cities.<city>.housing.rent",
         "it is the market's starting rent; a boom is a demand shock: schedule cities.<city>.housing.demand_shifter "
         "(or mechanisms.housing.credit_conditions)"},
        {"cities.<city>.housing.home_price",
         "it is the market's starting price; prices follow rents and credit: schedule "
         "cities.<city>.housing.demand_shifter or mechanisms.housing.credit_conditions"},
        {"mechanisms.households.residents_per_worker", "it sets the starting population"},
        {"cities.<city>.incumbents.<incumbent>.employees", "it sets the incumbents' starting staff"},
        {"cities.<city>.venture_capital.funds", "funds are created at the start"},
        {"cities.<city>.venture_capital.capital", "it is the funds' starting capital (change raised_per_year)"},
        {"cities.<city>.incumbents.<incumbent>.wage_premium", "it is set when an establishment opens"},
        {"mechanisms.demography.exit_rate", "exits are drawn once, as waiting times, when an agent enters"},
        {"mechanisms.founding.max_rate", "candidate events are drawn as waiting times at this rate (change base_rate)"},
    };
    for (const auto& [prefix, why] : fixed)
        if (pattern.compare(0, prefix.size(), prefix) == 0) return "it cannot change during a run: " + why;
    if (pattern.rfind("fields.", 0) == 0 && pattern.find("wage_premium") == std::string::npos &&
        pattern.find("research_relatedness") == std::string::npos && pattern.find("founding_propensity") == std::string::npos)
        return "it cannot change during a run";
    return "";
}

namespace {

// (Node::reset rebinds; assigning a Node would overwrite the node it refers to, in the shared tree.
// Children are looked up through a const Node: a non-const lookup of a missing key adds an empty
// entry to the tree, which the caller may go on to edit and emit.)
double number_in(const YAML::Node& root, const std::string& key) {
    try {
        YAML::Node node;
        node.reset(root);
        for (const auto& part : split(key)) {
            const YAML::Node& current = node;
            if (current.IsSequence()) {
                const std::size_t i = std::stoul(part);
                if (i >= current.size()) return std::nan("");
                node.reset(current[i]);
            } else if (current.IsMap() && current[part]) {
                node.reset(current[part]);
            } else {
                return std::nan("");
            }
        }
        return node.as<double>();
    } catch (const std::exception&) {
        return std::nan("");
    }
}

}  // namespace

double number_at(const std::string& yaml, const std::string& key) {
    try {
        return number_in(YAML::Load(yaml), key);
    } catch (const std::exception&) {
        return std::nan("");
    }
}

std::vector<double> scenario_values(const std::vector<ScheduledChange>& changes, const std::string& yaml) {
    if (changes.empty()) return {};
    const YAML::Node root = YAML::Load(yaml);
    std::vector<double> values;
    for (const auto& c : changes) values.push_back(number_in(root, c.key));
    return values;
}

bool schedule_changes_at(const std::vector<ScheduledChange>& changes, std::int64_t step) {
    return std::any_of(changes.begin(), changes.end(),
                       [&](const ScheduledChange& c) { return c.start_step == step || c.end_step == step; });
}

std::vector<std::string> overrides_at(const std::vector<ScheduledChange>& changes,
                                      const std::vector<double>& scenario_value, std::int64_t step) {
    // One override per key, with the value after all its changes in force (in the order written),
    // so that a reload costs the number of keys changed, not the number of changes.
    std::map<std::string, std::size_t> slot;  // key -> index into keys/values
    std::vector<std::string> keys;
    std::vector<double> values;
    for (std::size_t k = 0; k < changes.size(); ++k) {
        const auto& c = changes[k];
        if (step < c.start_step || (c.end_step != 0 && step >= c.end_step)) continue;
        const auto [it, inserted] = slot.emplace(c.key, keys.size());
        if (inserted) {
            keys.push_back(c.key);
            values.push_back(scenario_value[k]);
        }
        double& current = values[it->second];
        current = c.multiply > 0 ? current * c.multiply : c.value;
    }
    std::vector<std::string> overrides;
    for (std::size_t i = 0; i < keys.size(); ++i) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.17g", values[i]);
        overrides.push_back(keys[i] + "=" + buf);
    }
    return overrides;
}

std::vector<ComposedProblem> composed_problems(const std::vector<ScheduledChange>& changes,
                                               const std::vector<double>& scenario_value,
                                               const std::function<std::string(const std::string& key, double value)>& invalid) {
    std::map<std::string, std::vector<std::size_t>> by_key;  // key -> its changes, in the order written
    for (std::size_t k = 0; k < changes.size(); ++k) by_key[changes[k].key].push_back(k);
    std::vector<ComposedProblem> problems;
    for (const auto& [key, mine] : by_key) {
        if (mine.size() < 2) continue;
        std::vector<std::int64_t> steps;
        for (const auto k : mine) {
            steps.push_back(changes[k].start_step);
            if (changes[k].end_step != 0) steps.push_back(changes[k].end_step);
        }
        std::sort(steps.begin(), steps.end());
        steps.erase(std::unique(steps.begin(), steps.end()), steps.end());
        for (const auto step : steps) {
            double value = scenario_value[mine.front()];
            std::size_t in_force = 0, last = 0;
            for (const auto k : mine) {
                const auto& c = changes[k];
                if (step < c.start_step || (c.end_step != 0 && step >= c.end_step)) continue;
                value = c.multiply > 0 ? value * c.multiply : c.value;
                ++in_force;
                last = k;
            }
            if (in_force < 2) continue;
            auto message = invalid(key, value);
            if (!message.empty()) {
                problems.push_back({last, step, value, std::move(message)});
                break;
            }
        }
    }
    std::sort(problems.begin(), problems.end(), [](const auto& a, const auto& b) { return a.change < b.change; });
    return problems;
}

}  // namespace citysim::models
