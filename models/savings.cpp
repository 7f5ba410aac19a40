#include "models/savings.hpp"

#include "engine/category_sums.hpp"
#include "engine/checkpoint/archive.hpp"
#include "engine/parallel.hpp"

#include <algorithm>

namespace citysim::models {

namespace sc = citysim::scenario;

const sc::Record<SavingsParams>& savings_schema() {
    static const auto schema = [] {
        sc::Record<SavingsParams> r("Savings out of income after housing costs");
        r.boolean("enabled", &SavingsParams::enabled, "accrue savings (otherwise they stay at their starting value)",
                  true);
        r.real("saving_rate", &SavingsParams::saving_rate, "1", "share of income after housing that is saved", 0.3,
               sc::Range::unit_interval());
        r.real("initial_savings_years", &SavingsParams::initial_savings_years, "years",
               "savings at the start (and of new talent) in years of the person's wage", 1.0, sc::Range::closed(0, 50));
        return r;
    }();
    return schema;
}

Savings::Savings(const SavingsParams& params) : params_(params) {}

void Savings::endow(CityState& state, std::size_t first, std::size_t end) const {
    auto& table = state.talent.table;
    const auto city = std::as_const(table).column(state.talent.city);
    const auto field = std::as_const(table).column(state.talent.field);
    const auto skill = std::as_const(table).column(state.talent.skill);
    auto savings = table.column(state.talent.savings);
    const std::size_t fields = state.fields();
    for (std::size_t i = first; i < end; ++i)
        savings[i] = static_cast<float>(params_.initial_savings_years * state.wage[city[i] * fields + field[i]] * skill[i]);
}

void Savings::step(CityState& state, double years_per_step) const {
    const std::size_t cities = state.cities(), fields = state.fields();
    // Annual housing cost of one person's floor space, per city.
    std::vector<double> housing_cost(cities);
    for (std::size_t c = 0; c < cities; ++c) housing_cost[c] = state.annual_housing_cost(c);
    const double accrual = params_.enabled ? years_per_step * params_.saving_rate : 0.0;

    auto& table = state.talent.table;
    const auto city = std::as_const(table).column(state.talent.city);
    const auto field = std::as_const(table).column(state.talent.field);
    const auto skill = std::as_const(table).column(state.talent.skill);
    auto savings = table.column(state.talent.savings);
    const double* wage = state.wage.data();
    const auto pay = std::as_const(table).column(state.talent.pay);
    const std::size_t cf_count = cities * fields;
    const auto sums = engine::reduce_blocks<double>(
        table.size(), 2 * cf_count, [&](std::size_t begin, std::size_t end, std::span<double> tally) {
            const CityIndex* const city_of = city.data();
            const FieldIndex* const field_of = field.data();
            const float* const skill_of = skill.data();
            const float* const pay_of = pay.data();
            float* const saved = savings.data();
            const double* const cost = housing_cost.data();
            const auto accrue = [&](std::size_t i, std::size_t c, std::size_t cf) {
                // Founders are unpaid; incumbents pay their premium.
                const double income = wage[cf] * skill_of[i] * pay_of[i];
                saved[i] = static_cast<float>(std::max(0.0, saved[i] + accrual * (income - cost[c])));
            };
            // The skill sums as adding in row order gives them (engine/category_sums.hpp).
            engine::CategorySumLanes lanes(skill.subspan(begin, end - begin), cf_count);
            if (lanes.exact()) {
                for (std::size_t i = begin; i < end; ++i) {
                    const std::size_t c = city_of[i], cf = c * fields + field_of[i];
                    lanes.add(i, cf, skill_of[i]);
                    accrue(i, c, cf);
                }
                lanes.write(tally.first(cf_count), tally.subspan(cf_count));
                return;
            }
            for (std::size_t i = begin; i < end; ++i) {
                const std::size_t c = city_of[i], cf = c * fields + field_of[i];
                tally[cf] += skill_of[i];
                tally[cf_count + cf] += 1.0;
                accrue(i, c, cf);
            }
        });
    split_skill_tally(state, sums);
}

void split_skill_tally(CityState& state, const std::vector<double>& tally) {
    const auto half = static_cast<std::ptrdiff_t>(tally.size() / 2);
    state.skill_sum.assign(tally.begin(), tally.begin() + half);
    state.skill_count.assign(tally.begin() + half, tally.end());
}

void sum_skills(CityState& state) {
    const std::size_t fields = state.fields(), cf_count = state.cities() * fields;
    const auto& table = state.talent.table;
    const auto city = table.column(state.talent.city);
    const auto field = table.column(state.talent.field);
    const auto skill = table.column(state.talent.skill);
    split_skill_tally(state, engine::reduce_blocks<double>(
                                 table.size(), 2 * cf_count, [&](std::size_t begin, std::size_t end, std::span<double> tally) {
                                     for (std::size_t i = begin; i < end; ++i) {
                                         const std::size_t cf = city[i] * fields + field[i];
                                         tally[cf] += skill[i];
                                         tally[cf_count + cf] += 1.0;
                                     }
                                 }));
}


// Checkpoints: parameters only: savings are a talent column. A member added to Savings stops the build here until it is saved below (or
// confirmed to be a parameter) and the size updated.
CITYSIM_CHECKPOINTED(Savings, 24);
void Savings::save_or_restore(checkpoint::Archive&) {}

}  // namespace citysim::models
