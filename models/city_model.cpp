#include "models/city_model.hpp"

#include "engine/parallel.hpp"

#include <algorithm>

namespace citysim::models {

namespace {

engine::CityNetwork build_network(const Scenario& scenario) {
    const auto names = city_names(scenario);
    std::vector<engine::TravelLink> links;
    for (const auto& link : scenario.network.links) {
        const auto from = std::find(names.begin(), names.end(), link.from) - names.begin();
        const auto to = std::find(names.begin(), names.end(), link.to) - names.begin();
        links.push_back({static_cast<std::size_t>(from), static_cast<std::size_t>(to), link.hours});
    }
    return engine::CityNetwork(names, links);
}

template <class T, class Get>
std::vector<T> per_city(const Scenario& scenario, Get get) {
    std::vector<T> values;
    for (const auto& c : scenario.cities) values.push_back(get(c.value));
    return values;
}

}  // namespace

std::vector<std::int64_t> starting_talent_counts(const Scenario& scenario) {
    const auto fields = field_names(scenario);
    std::vector<double> shares;
    for (const auto& c : scenario.cities) shares.push_back(c.value.talent.share);
    const auto per_city_counts = apportion(scenario.talent.agents, shares);
    std::vector<std::int64_t> counts;
    for (std::size_t c = 0; c < scenario.cities.size(); ++c) {
        std::vector<double> mix(fields.size(), 0.0);
        for (const auto& entry : scenario.cities[c].value.talent.field_mix) {
            const auto f = std::find(fields.begin(), fields.end(), entry.name) - fields.begin();
            mix[static_cast<std::size_t>(f)] = entry.value;
        }
        const auto by_field = apportion(per_city_counts[c], mix);
        counts.insert(counts.end(), by_field.begin(), by_field.end());
    }
    return counts;
}

CityModel::CityModel(const Scenario& scenario)
    : network_(build_network(scenario)),
      years_per_step_(engine::years_per_step(scenario.simulation.step_unit)),
      streams_{static_cast<std::uint64_t>(scenario.simulation.seed), static_cast<std::uint32_t>(scenario.simulation.run), 0},
      labour_market_(scenario.mechanisms.labour_market,
                     per_city<LabourCityParams>(scenario, [](const CityParams& c) { return c.labour; }),
                     [&] {
                         std::vector<double> premium;
                         for (const auto& f : scenario.fields) premium.push_back(f.value.wage_premium);
                         return premium;
                     }()),
      migration_(scenario.mechanisms.migration, per_city<double>(scenario, [](const CityParams& c) { return c.amenity; }),
                 scenario.cities.size(), scenario.fields.size()),
      savings_(scenario.mechanisms.savings,
               per_city<double>(scenario, [](const CityParams& c) { return c.housing.floor_space_per_person; })),
      demography_(scenario.mechanisms.demography, scenario.talent.skill_dispersion) {
    state_.city_names = city_names(scenario);
    state_.field_names = field_names(scenario);
    state_.travel_hours = network_.hours_matrix();
    state_.persons_per_agent = scenario.talent.persons / static_cast<double>(scenario.talent.agents);
    state_.residents_per_talent = scenario.talent.residents_per_talent;
    state_.talent_count = starting_talent_counts(scenario);
    state_.initial_talent_count = state_.talent_count;
    state_.other_residents.resize(state_.cities());
    for (std::size_t c = 0; c < state_.cities(); ++c)
        state_.other_residents[c] = std::max(
            0.0, scenario.cities[c].value.residents - state_.talent_persons_in(c) * state_.residents_per_talent);
    state_.reset_flows();

    populate(state_.talent, state_.talent_count, state_.fields(), streams_, scenario.talent.skill_dispersion);
    state_.wage.resize(state_.cities() * state_.fields());
    labour_market_.update(state_);
    housing_ = std::make_unique<HousingMarket>(
        scenario.mechanisms.housing, per_city<HousingCityParams>(scenario, [](const CityParams& c) { return c.housing; }),
        state_);
    if (scenario.mechanisms.migration.calibrate_amenities) migration_.calibrate_amenities(state_);
    state_.amenity = migration_.choice().amenity();
    savings_.endow(state_, 0, state_.talent.table.size());
    sum_skills(state_);

    scheduler_.add_phase("labour_market", [this](const engine::StepContext&) { labour_market_.update(state_); });
    scheduler_.add_phase("housing", [this](const engine::StepContext& ctx) { housing_->update(state_, ctx.years_per_step); });
    scheduler_.add_phase("migration", [this](const engine::StepContext& ctx) {
        const auto result = migration_.step(state_, ctx.streams, ctx.years_per_step);
        counters_.migration_decisions += result.decisions;
        counters_.moves += result.moves;
    });
    scheduler_.add_phase("savings", [this](const engine::StepContext& ctx) { savings_.step(state_, ctx.years_per_step); });
    scheduler_.add_phase("demography", [this](const engine::StepContext& ctx) {
        demography_.step(state_, ctx.streams, ctx.years_per_step, savings_);
    });
}

void CityModel::step() {
    state_.reset_flows();
    counters_.agent_steps += static_cast<std::int64_t>(state_.talent.table.size());
    ++steps_done_;
    engine::StepContext context;
    context.step = steps_done_;
    context.years_per_step = years_per_step_;
    context.streams = streams_;
    context.streams.step = static_cast<std::uint32_t>(steps_done_);
    scheduler_.run_step(context);
}

}  // namespace citysim::models
