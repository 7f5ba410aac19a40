#include "models/talent.hpp"

#include "engine/parallel.hpp"
#include "models/streams.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace citysim::models {

namespace sc = citysim::scenario;

const sc::Record<TalentParams>& talent_schema() {
    static const auto schema = [] {
        sc::Record<TalentParams> r("Skilled workers who choose among cities");
        r.real("persons", &TalentParams::persons, "persons",
               "skilled workers in all cities together at the start", std::nullopt,
               sc::Range::above(0).and_at_most(1e9));
        r.integer("agents", &TalentParams::agents, "agents",
                  "agents that represent them; each stands for persons/agents people", std::nullopt,
                  sc::Range::closed(1, 2.0e9));
        r.real("skill_dispersion", &TalentParams::skill_dispersion, "1",
               "standard deviation of log skill (skill is log-normal with mean 1)", 0.5, sc::Range::closed(0, 3));
        return r;
    }();
    return schema;
}

const sc::Record<TalentCityParams>& talent_city_schema() {
    static const auto schema = [] {
        sc::Record<TalentCityParams> r("The city's talent at the start");
        r.real("share", &TalentCityParams::share, "1", "share of all talent living here at the start; sums to 1 over cities (shares that do not are divided by their sum, with a note)",
               std::nullopt, sc::Range::unit_interval());
        r.named_reals("field_mix", &TalentCityParams::field_mix, "field", "1",
                      "share of the city's talent in each field; one entry per field, summing to 1 (else divided by their sum, with a note)",
                      sc::Range::unit_interval());
        return r;
    }();
    return schema;
}

TalentAgents::TalentAgents()
    : table("talent"),
      city(table.add_column<CityIndex>("city")),
      field(table.add_column<FieldIndex>("field")),
      skill(table.add_column<float>("skill", 1.0f)),
      savings(table.add_column<float>("savings")),
      arrival_step(table.add_column<std::uint32_t>("arrival_step")),
      next_reconsider_step(table.add_column<std::uint32_t>("next_reconsider_step", unscheduled)),
      exit_step(table.add_column<std::uint32_t>("exit_step", unscheduled)),
      next_founding_step(table.add_column<std::uint32_t>("next_founding_step", unscheduled)),
      employer_kind(table.add_column<std::uint8_t>("employer_kind", 0)),
      employer(table.add_column<std::uint32_t>("employer", std::numeric_limits<std::uint32_t>::max())),
      failures(table.add_column<std::uint8_t>("failures", 0)),
      pay(table.add_column<float>("pay", 1.0f)) {}

float draw_skill(const engine::StreamKey& key, engine::AgentId id, engine::Purpose purpose, double skill_dispersion) {
    const auto w = engine::random_words(key, id, purpose);
    const double z = engine::standard_normal(w[0], w[1]);
    return static_cast<float>(std::exp(skill_dispersion * z - 0.5 * skill_dispersion * skill_dispersion));
}

std::vector<std::int64_t> apportion(std::int64_t total, const std::vector<double>& weights) {
    std::vector<std::int64_t> parts(weights.size(), 0);
    const double sum = std::accumulate(weights.begin(), weights.end(), 0.0);
    if (weights.empty() || !(sum > 0.0) || total <= 0) return parts;
    std::vector<std::pair<double, std::size_t>> remainders;
    std::int64_t assigned = 0;
    for (std::size_t i = 0; i < weights.size(); ++i) {
        const double exact = static_cast<double>(total) * weights[i] / sum;
        parts[i] = static_cast<std::int64_t>(std::floor(exact));
        assigned += parts[i];
        remainders.emplace_back(exact - std::floor(exact), i);
    }
    std::stable_sort(remainders.begin(), remainders.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    for (std::size_t k = 0; assigned < total; ++k, ++assigned) ++parts[remainders[k % remainders.size()].second];
    return parts;
}

void populate(TalentAgents& agents, const std::vector<std::int64_t>& counts, std::size_t fields,
              const engine::StreamKey& key, double skill_dispersion) {
    const std::int64_t total = std::accumulate(counts.begin(), counts.end(), std::int64_t{0});
    auto& table = agents.table;
    // An eighth more than the starting population: a population that hovers near its starting size
    // (entrants and graduates replacing those who leave) would otherwise copy every column the
    // first time it passes it (at 1 M agents that copy, and the page faults of the new columns, took
    // 0.13 s of a 3.5 s run). Capacity costs address space, not memory, until it is used.
    table.reserve(static_cast<std::size_t>(total + total / 8));
    const std::size_t first = table.append(static_cast<std::size_t>(total));
    auto city = table.column(agents.city);
    auto field = table.column(agents.field);
    std::size_t row = first;
    for (std::size_t cf = 0; cf < counts.size(); ++cf)
        for (std::int64_t k = 0; k < counts[cf]; ++k, ++row) {
            city[row] = static_cast<CityIndex>(cf / fields);
            field[row] = static_cast<FieldIndex>(cf % fields);
        }
    auto skill = table.column(agents.skill);
    const auto ids = table.ids();
    engine::for_each_block(table.size(), [&](std::size_t begin, std::size_t end, std::size_t) {
        for (std::size_t i = begin; i < end; ++i)
            skill[i] = draw_skill(key, ids[i], streams::initial_skill, skill_dispersion);
    });
}

}  // namespace citysim::models
