#include "models/city_model.hpp"

#include "engine/checkpoint/archive.hpp"
#include "engine/parallel.hpp"
#include "models/census.hpp"
#include "models/geography.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <stdexcept>

namespace citysim::models {

namespace {

// The steps where a scheduled change starts or ends, sorted: apply_schedule reloads only there.
std::vector<std::int64_t> boundaries_of(const std::vector<ScheduledChange>& schedule) {
    std::vector<std::int64_t> steps;
    for (const auto& change : schedule) {
        steps.push_back(change.start_step);
        if (change.end_step != 0) steps.push_back(change.end_step);
    }
    std::sort(steps.begin(), steps.end());
    return steps;
}

engine::CityNetwork build_network(const Scenario& scenario) {
    const auto names = city_names(scenario);
    std::vector<engine::TravelLink> links;
    for (const auto& link : network_links(scenario)) {
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

std::vector<double> per_field(const Scenario& scenario, double FieldParams::*member) {
    std::vector<double> values;
    for (const auto& f : scenario.fields) values.push_back(f.value.*member);
    return values;
}

std::vector<std::vector<scenario::Named<IncumbentParams>>> incumbents_by_city(const Scenario& scenario) {
    return per_city<std::vector<scenario::Named<IncumbentParams>>>(scenario, [](const CityParams& c) { return c.incumbents; });
}

PolicyRates policy_rates(const Scenario& scenario) {
    const auto& m = scenario.mechanisms;
    return {m.savings.saving_rate, m.startups.office_rent_ratio, m.startups.office_m2_per_person,
            m.migration.income_weight, m.migration.housing_cost_share};
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
                     per_field(scenario, &FieldParams::wage_premium)),
      migration_(scenario.mechanisms.migration, per_city<double>(scenario, [](const CityParams& c) { return c.amenity; }),
                 per_field(scenario, &FieldParams::cluster_preference), scenario.cities.size(), scenario.fields.size()),
      savings_(scenario.mechanisms.savings),
      demography_(scenario.mechanisms.demography, scenario.talent.skill_dispersion) {
    state_.city_names = city_names(scenario);
    state_.field_names = field_names(scenario);
    state_.travel_hours = network_.hours_matrix();
    state_.floor_space_per_person = per_city<double>(scenario, [](const CityParams& c) { return c.housing.floor_space_per_person; });
    state_.persons_per_agent = scenario.talent.persons / static_cast<double>(scenario.talent.agents);
    state_.talent_count = starting_talent_counts(scenario);
    state_.initial_talent_count = state_.talent_count;
    state_.reset_flows();
    households_ = std::make_unique<Households>(
        scenario.mechanisms.households, per_city<double>(scenario, [](const CityParams& c) { return c.residents; }),
        per_city<double>(scenario, [](const CityParams& c) { return c.housing.rent; }), state_);

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

    setup_ecosystem(scenario);
    policies_ = std::make_unique<Policies>(scenario.policies, policy_rates(scenario), state_);
    const bool with_policies = !policies_->empty();

    migration_params_ = scenario.mechanisms.migration;
    // The schedule phase is there even when the scenario schedules nothing, so that changes added
    // while the model runs (reschedule: the live page's controls) act exactly as the same changes
    // written in the scenario.
    schedule_ = scenario.schedule;
    // Without the schedule: each reload at a boundary then costs the same however long it is.
    unscheduled_ = scenario;
    unscheduled_->schedule.clear();
    if (!schedule_.empty()) scheduled_keys_values_ = scenario_values(schedule_, scenario_yaml());
    schedule_boundaries_ = boundaries_of(schedule_);
    given_amenity_ = per_city<double>(scenario, [](const CityParams& c) { return c.amenity; });
    starting_amenity_ = state_.amenity;
    scheduler_.add_phase("schedule", [this](const engine::StepContext& ctx) { apply_schedule(ctx.step); });

    if (with_policies)
        scheduler_.add_phase("policy", [this](const engine::StepContext& ctx) {
            policies_->begin_step(state_, ctx.step, ctx.years_per_step);
        });
    scheduler_.add_phase("labour_market", [this](const engine::StepContext&) { labour_market_.update(state_); });
    scheduler_.add_phase("households", [this](const engine::StepContext& ctx) {
        households_->update(state_, ctx.years_per_step);
    });
    scheduler_.add_phase("housing", [this](const engine::StepContext& ctx) { housing_->update(state_, ctx.years_per_step); });
    scheduler_.add_phase("migration", [this](const engine::StepContext& ctx) {
        const auto result = migration_.step(state_, ctx.streams, ctx.years_per_step);
        counters_.migration_decisions += result.decisions;
        counters_.moves += result.moves;
    });
    if (with_policies)
        scheduler_.add_phase("policy_talent", [this](const engine::StepContext& ctx) {
            policies_->pay_talent(state_, ctx.step, ctx.years_per_step);
        });
    scheduler_.add_phase("savings", [this](const engine::StepContext& ctx) { savings_.step(state_, ctx.years_per_step); });
    scheduler_.add_phase("demography", [this](const engine::StepContext& ctx) {
        demography_.step(state_, ctx.streams, ctx.years_per_step, savings_);
    });
    if (!state_.ecosystem.enabled) {
        if (with_policies)
            scheduler_.add_phase("policy_end", [this](const engine::StepContext& ctx) {
                policies_->end_step(state_, ctx.years_per_step);
            });
        return;
    }
    // Founding draws ride on the census's pass over the talent (models/census.hpp); the start-ups
    // are created right after it, before anyone hires.
    scheduler_.add_phase("census_and_founding", [this](const engine::StepContext& ctx) {
        if (founding_->begin_step(state_, ctx.streams, ctx.years_per_step)) {
            Founding* founding = founding_.get();
            take_census(state_, hiring_pool_, [founding](std::size_t begin, std::size_t end, std::size_t block) {
                founding->visit_block(begin, end, block);
            });
            founding_->finish_step(state_, ctx.streams);
        } else {
            take_census(state_, hiring_pool_);
        }
    });
    scheduler_.add_phase("universities", [this](const engine::StepContext& ctx) {
        universities_->graduate(state_, ctx.streams, ctx.years_per_step, savings_);
        universities_->hire(state_, hiring_pool_, ctx.streams);
    });
    scheduler_.add_phase("incumbents", [this](const engine::StepContext& ctx) {
        incumbents_->step(state_, hiring_pool_, ctx.streams, ctx.years_per_step);
    });
    if (with_policies)
        scheduler_.add_phase("policy_startups", [this](const engine::StepContext& ctx) {
            policies_->price_startup_rent(state_, ctx.years_per_step);
        });
    scheduler_.add_phase("startups", [this](const engine::StepContext& ctx) {
        startups_->step(state_, hiring_pool_, *venture_capital_, ctx.streams, ctx.years_per_step);
    });
    scheduler_.add_phase("venture_capital", [this](const engine::StepContext& ctx) {
        venture_capital_->end_step(state_, ctx.years_per_step);
    });
    if (with_policies)
        scheduler_.add_phase("policy_end", [this](const engine::StepContext& ctx) {
            policies_->end_step(state_, ctx.years_per_step);
        });
}

void CityModel::setup_ecosystem(const Scenario& scenario) {
    auto& eco = state_.ecosystem;
    const auto& m = scenario.mechanisms;
    eco.resize(state_.cities(), state_.fields());
    eco.failure_tolerance = per_city<double>(scenario, [](const CityParams& c) { return c.failure_tolerance; });
    eco.research_relatedness = per_field(scenario, &FieldParams::research_relatedness);

    bool any_incumbent = false, any_university = false;
    for (const auto& c : scenario.cities) {
        any_incumbent = any_incumbent || !c.value.incumbents.empty();
        any_university = any_university || !c.value.universities.graduates_per_year.empty() ||
                         !c.value.universities.staff.empty() || c.value.universities.basic_research_share > 0;
    }
    eco.enabled = m.founding.enabled || (m.incumbents.enabled && any_incumbent) || (m.universities.enabled && any_university);

    universities_ = std::make_unique<Universities>(
        m.universities, per_city<UniversityCityParams>(scenario, [](const CityParams& c) { return c.universities; }),
        scenario.talent.skill_dispersion, state_);
    incumbents_ = std::make_unique<Incumbents>(m.incumbents, incumbents_by_city(scenario), state_);
    venture_capital_ = std::make_unique<VentureCapital>(
        m.venture_capital, per_city<VentureCapitalCityParams>(scenario, [](const CityParams& c) { return c.venture_capital; }),
        state_);
    founding_ = std::make_unique<Founding>(m.founding, per_field(scenario, &FieldParams::founding_propensity),
                                           m.migration.enabled);
    startups_ = std::make_unique<Startups>(m.startups);
    if (!eco.enabled) return;

    // The starting state: incumbents and universities employ their staff (hired at random from the
    // city's talent of the field, with the streams of step 0).
    take_census(state_, hiring_pool_);
    incumbents_->hire(state_, hiring_pool_, streams_, true);
    universities_->hire(state_, hiring_pool_, streams_, true);
    take_census(state_, hiring_pool_);
}

const std::string& CityModel::scenario_yaml() {
    if (unscheduled_) {
        scenario_yaml_ = scenario::to_yaml(scenario_schema(), *unscheduled_);
        unscheduled_.reset();
    }
    return scenario_yaml_;
}

void CityModel::reschedule(std::vector<ScheduledChange> changes) {
    const std::int64_t next = steps_done_ + 1;
    // The steps done must have run under the same parameters: compare the changes in force at each
    // of them, as overrides (which is what apply_schedule loads).
    auto values = scenario_values(changes, scenario_yaml());
    for (std::size_t k = 0; k < changes.size(); ++k)
        if (std::isnan(values[k]))
            throw std::invalid_argument("reschedule: the scenario has no number at '" + changes[k].key + "'");
    for (std::int64_t step = 1; step < next; ++step)
        if (overrides_at(changes, values, step) != overrides_at(schedule_, scheduled_keys_values_, step))
            throw std::invalid_argument("reschedule: the new changes differ from the old at step " + std::to_string(step) +
                                        ", which is done");
    schedule_ = std::move(changes);
    scheduled_keys_values_ = std::move(values);
    schedule_boundaries_ = boundaries_of(schedule_);
}

void CityModel::apply_schedule(std::int64_t step) {
    if (!std::binary_search(schedule_boundaries_.begin(), schedule_boundaries_.end(), step)) return;
    auto changes = overrides_at(schedule_, scheduled_keys_values_, step);
    if (changes == changes_in_force_) return;
    auto loaded = scenario::load_string(scenario_schema(), scenario_yaml(), "schedule", changes);
    loaded.throw_if_errors();  // checked when the scenario was loaded (scenario.cpp)
    retune(loaded.value);
    changes_in_force_ = std::move(changes);
}

void CityModel::retune(const Scenario& scenario) {
    const auto& m = scenario.mechanisms;
    labour_market_ = LabourMarket(m.labour_market, per_city<LabourCityParams>(scenario, [](const CityParams& c) { return c.labour; }),
                                  per_field(scenario, &FieldParams::wage_premium));
    households_->retune(m.households);
    housing_->retune(m.housing, per_city<HousingCityParams>(scenario, [](const CityParams& c) { return c.housing; }));
    // Amenities move by what the schedule adds to the scenario's, from where migration started
    // (its calibrated values, if it calibrated).
    std::vector<double> amenity(state_.cities());
    for (std::size_t c = 0; c < amenity.size(); ++c)
        amenity[c] = starting_amenity_[c] + scenario.cities[c].value.amenity - given_amenity_[c];
    const bool reconsider_changed = m.migration.reconsider_rate != migration_params_.reconsider_rate;
    MigrationParams migration = m.migration;
    migration.calibrate_amenities = false;
    migration_ = Migration(migration, amenity, per_field(scenario, &FieldParams::cluster_preference), state_.cities(),
                           state_.fields());
    migration_params_ = migration;
    if (reconsider_changed) migration_.reschedule_all(state_);
    state_.amenity = amenity;
    savings_ = Savings(m.savings);
    demography_ = Demography(m.demography, scenario.talent.skill_dispersion);
    auto& eco = state_.ecosystem;
    eco.failure_tolerance = per_city<double>(scenario, [](const CityParams& c) { return c.failure_tolerance; });
    eco.research_relatedness = per_field(scenario, &FieldParams::research_relatedness);
    founding_->retune(m.founding, per_field(scenario, &FieldParams::founding_propensity));
    startups_->retune(m.startups);
    incumbents_->retune(m.incumbents, incumbents_by_city(scenario));
    universities_->retune(m.universities, per_city<UniversityCityParams>(scenario, [](const CityParams& c) { return c.universities; }),
                          state_);
    venture_capital_->retune(m.venture_capital,
                             per_city<VentureCapitalCityParams>(scenario, [](const CityParams& c) { return c.venture_capital; }),
                             state_);
    policies_->retune(scenario.policies, policy_rates(scenario));
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

// A mechanism added to the model changes its size and stops the build here until it is saved below.
CITYSIM_CHECKPOINTED(CityModel, 5312);  // unscheduled_: rebuilt from the scenario

void CityModel::save_or_restore(checkpoint::Archive& archive) {
    auto scope = archive.section("model");
    archive.value("steps_done", steps_done_);
    archive.value("agent_steps", counters_.agent_steps);
    archive.value("migration_decisions", counters_.migration_decisions);
    archive.value("moves", counters_.moves);
    // Scheduled changes set parameters of the mechanisms: they are applied again (retune may touch
    // the state, which is restored after it).
    auto in_force = changes_in_force_;
    archive.texts("schedule_in_force", in_force);
    if (archive.restoring() && in_force != changes_in_force_) {
        if (scenario_yaml().empty())
            throw checkpoint::CheckpointError("the checkpoint has scheduled changes in force, this scenario has no schedule");
        // A scenario the changes do not fit (another scenario's checkpoint) is refused as such.
        std::optional<scenario::Loaded<Scenario>> loaded;
        try {
            loaded.emplace(scenario::load_string(scenario_schema(), scenario_yaml(), "schedule", in_force));
            loaded->throw_if_errors();
        } catch (const scenario::ScenarioError& e) {
            throw checkpoint::CheckpointError(std::string("the checkpoint's scheduled changes in force do not apply to this "
                                                          "scenario: ") + e.what());
        }
        retune(loaded->value);
        changes_in_force_ = std::move(in_force);
    }
    state_.save_or_restore(archive);
    labour_market_.save_or_restore(archive);
    households_->save_or_restore(archive);
    housing_->save_or_restore(archive);
    migration_.save_or_restore(archive);
    savings_.save_or_restore(archive);
    demography_.save_or_restore(archive);
    // hiring_pool_ is refilled by the census of every step before anyone hires.
    universities_->save_or_restore(archive);
    incumbents_->save_or_restore(archive);
    venture_capital_->save_or_restore(archive);
    founding_->save_or_restore(archive);
    startups_->save_or_restore(archive);
    policies_->save_or_restore(archive);
}

}  // namespace citysim::models
