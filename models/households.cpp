#include "models/households.hpp"

#include "engine/checkpoint/archive.hpp"

#include <cmath>

namespace citysim::models {

namespace sc = citysim::scenario;

const sc::Record<HouseholdParams>& households_schema() {
    static const auto schema = [] {
        using P = HouseholdParams;
        sc::Record<P> r("Households that are not talent: local-service workers who follow talent, and other residents "
                        "who answer to housing costs");
        r.boolean("enabled", &P::enabled,
                  "let local-service workers follow talent and other residents answer to rents (off: both are held at "
                  "their starting numbers)",
                  true);
        r.real("residents_per_worker", &P::residents_per_worker, "persons/worker",
               "persons housed per worker, the worker included (China 2023: 1.41 bn residents / 0.74 bn employed = 1.9, "
               "NBS); the household of a talent or local-service worker",
               1.9, sc::Range::closed(1, 10));
        r.real("local_jobs_per_talent", &P::local_jobs_per_talent, "jobs/job",
               "local-service jobs each skilled job creates in the long run (local multiplier; Moretti 2010: 4.9 per "
               "high-tech job)",
               4.9, sc::Range::closed(0, 20));
        r.real("local_jobs_adjustment_rate", &P::local_jobs_adjustment_rate, "1/year",
               "speed at which local-service employment closes the gap to local_jobs_per_talent x talent", 0.3,
               sc::Range::closed(0, 100));
        r.real("other_rent_elasticity", &P::other_rent_elasticity, "1",
               "long-run elasticity of the other residents (neither talent nor local services) to the city's rent "
               "relative to its start; they leave for, or come from, places outside the model",
               0.3, sc::Range::closed(0, 10));
        r.real("other_adjustment_rate", &P::other_adjustment_rate, "1/year",
               "speed at which the other residents close the gap to their target", 0.2, sc::Range::closed(0, 100));
        return r;
    }();
    return schema;
}

Households::Households(const HouseholdParams& params, const std::vector<double>& residents,
                       std::vector<double> starting_rent, CityState& state)
    : params_(params), starting_rent_(std::move(starting_rent)) {
    const std::size_t n = state.cities();
    state.residents_per_worker = params_.residents_per_worker;
    state.local_service_workers.resize(n);
    state.other_residents.resize(n);
    starting_other_.resize(n);
    for (std::size_t c = 0; c < n; ++c) {
        const double talent = state.talent_persons_in(c);
        state.local_service_workers[c] = params_.local_jobs_per_talent * talent;
        // A negative number is refused when the scenario is loaded (models/scenario.cpp).
        starting_other_[c] = std::max(0.0, residents[c] - params_.residents_per_worker * (talent + state.local_service_workers[c]));
        state.other_residents[c] = starting_other_[c];
    }
}

void Households::retune(const HouseholdParams& params) {
    // residents_per_worker sets the starting population and stays (schedule.hpp refuses it).
    const double residents_per_worker = params_.residents_per_worker;
    params_ = params;
    params_.residents_per_worker = residents_per_worker;
}

double Households::residents_per_talent() const {
    return params_.residents_per_worker * (1.0 + params_.local_jobs_per_talent);
}

void Households::update(CityState& state, double years_per_step) const {
    if (!params_.enabled) return;
    const double service_keep = std::exp(-params_.local_jobs_adjustment_rate * years_per_step);
    const double other_keep = std::exp(-params_.other_adjustment_rate * years_per_step);
    for (std::size_t c = 0; c < state.cities(); ++c) {
        const double service_target = params_.local_jobs_per_talent * state.talent_persons_in(c);
        const double before_service = state.local_service_workers[c], before_other = state.other_residents[c];
        state.local_service_workers[c] = service_target + (before_service - service_target) * service_keep;
        const double other_target =
            starting_other_[c] * std::pow(state.rent[c] / starting_rent_[c], -params_.other_rent_elasticity);
        state.other_residents[c] = other_target + (before_other - other_target) * other_keep;
        state.local_service_change[c] += state.local_service_workers[c] - before_service;
        state.other_residents_change[c] += state.other_residents[c] - before_other;
    }
}

// Checkpoints: the starting rents and other residents the targets refer to; S and O are CityState
// columns, the rates are parameters (the schedule re-applies them). A member added to Households stops
// the build here until it is saved below.
CITYSIM_CHECKPOINTED(Households, 96);
void Households::save_or_restore(checkpoint::Archive& archive) {
    auto scope = archive.section("households");
    archive.values("starting_rent", starting_rent_);
    archive.values("starting_other", starting_other_);
}

}  // namespace citysim::models
