#include "models/demography.hpp"

#include "engine/checkpoint/archive.hpp"
#include "engine/parallel.hpp"
#include "models/streams.hpp"

#include <tbb/enumerable_thread_specific.h>

#include <cmath>
#include <functional>

namespace citysim::models {

namespace sc = citysim::scenario;

const sc::Record<DemographyParams>& demography_schema() {
    static const auto schema = [] {
        sc::Record<DemographyParams> r("Talent leaving and entering the pool");
        r.boolean("enabled", &DemographyParams::enabled, "let talent exit and enter", true);
        r.real("exit_rate", &DemographyParams::exit_rate, "1/year", "rate at which a person leaves the talent pool",
               0.025, sc::Range::closed(0, 10));
        r.real("entry_rate", &DemographyParams::entry_rate, "1/year",
               "new talent per year in each city and field, as a share of its starting talent", 0.025,
               sc::Range::closed(0, 10));
        return r;
    }();
    return schema;
}

Demography::Demography(const DemographyParams& params, double skill_dispersion)
    : params_(params), skill_dispersion_(skill_dispersion) {}

void Demography::step(CityState& state, const engine::StreamKey& streams, double years_per_step,
                      const Savings& savings) const {
    if (!params_.enabled) return;
    const std::size_t cities = state.cities(), fields = state.fields();
    auto& table = state.talent.table;

    const double exit_probability = 1.0 - std::exp(-params_.exit_rate * years_per_step);
    if (exit_probability > 0.0) {
        const auto step = streams.step;
        tbb::enumerable_thread_specific<std::vector<std::int64_t>> tallies(std::vector<std::int64_t>(cities * fields));
        tbb::enumerable_thread_specific<TeamLeavers> leavers;
        const auto skill = std::as_const(table).column(state.talent.skill);
        const auto employer = std::as_const(table).column(state.talent.employer);
        const auto employer_kind = std::as_const(table).column(state.talent.employer_kind);
        // The rows that leave, per block (kept across steps), so that they come out in row order.
        auto& leaving = leaving_rows_;
        leaving.resize(engine::block_count(table.size()));
        const auto ids = table.ids();
        const auto city = std::as_const(table).column(state.talent.city);
        const auto field = std::as_const(table).column(state.talent.field);
        auto exit_step = table.column(state.talent.exit_step);
        const engine::GeometricSteps exit_after(exit_probability);
        engine::for_each_block(table.size(), [&](std::size_t begin, std::size_t end, std::size_t block) {
            // Plain pointers and values in locals, so that the scan for the rows due (few: a person
            // leaves once in 40 years at the default rate) is a tight loop.
            const engine::StoredId* const id = ids.data();
            const CityIndex* const city_of = city.data();
            const FieldIndex* const field_of = field.data();
            std::uint32_t* const exit_at = exit_step.data();
            const float* const skill_of = skill.data();
            const std::uint32_t* const employer_of = employer.data();
            const std::uint8_t* const kind_of = employer_kind.data();
            const std::uint32_t now = step;
            const engine::GeometricSteps after = exit_after;
            auto& tally = tallies.local();
            auto& rows = leaving[block];
            rows.clear();
            for (std::size_t i = begin;; ++i) {
                while (i < end && exit_at[i] > now) ++i;  // (unscheduled, 0, stops the scan too)
                if (i == end) break;
                if (exit_at[i] == unscheduled) {
                    const auto w = engine::random_words(streams, id[i], streams::exit_schedule);
                    exit_at[i] = now - 1 + after(w[0]);
                }
                if (exit_at[i] <= now) {
                    rows.push_back(static_cast<std::uint32_t>(i));
                    if (employer_of[i] != no_firm)
                        leavers.local().add(employer_of[i], skill_of[i],
                                            kind_of[i] == static_cast<std::uint8_t>(EmployerKind::founder));
                    ++tally[city_of[i] * fields + field_of[i]];
                }
            }
        });
        for (const auto& l : leavers) l.apply(state.ecosystem.firms);
        for (const auto& tally : tallies)
            for (std::size_t k = 0; k < tally.size(); ++k) {
                state.exits[k] += tally[k];
                state.talent_count[k] -= tally[k];
            }
        auto& all = all_leaving_;
        all.clear();
        for (const auto& rows : leaving) all.insert(all.end(), rows.begin(), rows.end());
        table.remove_rows(all);
    }

    std::vector<std::int64_t> entrants(cities * fields);
    std::int64_t total = 0;
    for (std::size_t k = 0; k < entrants.size(); ++k) {
        const double mean = params_.entry_rate * years_per_step * static_cast<double>(state.initial_talent_count[k]);
        entrants[k] = engine::poisson(mean, streams, k, streams::talent_entry_count);
        total += entrants[k];
    }
    if (total == 0) return;
    const std::size_t first = state.add_talent(entrants, streams, streams::entrant_skill, skill_dispersion_);
    savings.endow(state, first, table.size());
}

// Checkpoints: parameters and scratch only (exit steps are a talent column; leaving_rows_ and
// all_leaving_ are refilled every step). A member added to Demography stops the build here until it
// is saved below (or confirmed to be a parameter or scratch) and the size updated.
CITYSIM_CHECKPOINTED(Demography, 80);
void Demography::save_or_restore(checkpoint::Archive&) {}

}  // namespace citysim::models
