#include "models/city_state.hpp"

#include "engine/parallel.hpp"

#include <limits>

namespace citysim::models {

void CityState::move_talent(std::size_t row, CityIndex destination, std::uint32_t step) {
    auto city = talent.table.column(talent.city);
    const auto field = std::as_const(talent.table).column(talent.field);
    const CityIndex origin = city[row];
    if (origin == destination) return;
    const std::size_t f = field[row];
    city[row] = destination;
    talent.table.column(talent.arrival_step)[row] = step;
    ++departures[city_field(origin, f)];
    ++arrivals[city_field(destination, f)];
    --talent_count[city_field(origin, f)];
    ++talent_count[city_field(destination, f)];
    ++migration[origin * cities() + destination];
}

std::size_t CityState::add_talent(const std::vector<std::int64_t>& counts, const engine::StreamKey& streams,
                                  engine::Purpose skill_purpose, double skill_dispersion) {
    std::int64_t total = 0;
    for (auto n : counts) total += n;
    auto& table = talent.table;
    const std::size_t first = table.append(static_cast<std::size_t>(total));
    if (total == 0) return first;
    auto city = table.column(talent.city);
    auto field = table.column(talent.field);
    auto skill = table.column(talent.skill);
    auto arrival = table.column(talent.arrival_step);
    const auto ids = table.ids();
    std::size_t row = first;
    for (std::size_t k = 0; k < counts.size(); ++k) {
        for (std::int64_t n = 0; n < counts[k]; ++n, ++row) {
            city[row] = static_cast<CityIndex>(k / fields());
            field[row] = static_cast<FieldIndex>(k % fields());
            arrival[row] = streams.step;
        }
        entries[k] += counts[k];
        talent_count[k] += counts[k];
    }
    // Each skill from its agent's own stream: drawn in parallel (blocks of a fixed size).
    engine::for_each_block(
        static_cast<std::size_t>(total),
        [&](std::size_t begin, std::size_t end, std::size_t) {
            for (std::size_t i = first + begin; i < first + end; ++i)
                skill[i] = draw_skill(streams, ids[i], skill_purpose, skill_dispersion);
        },
        512);
    return first;
}

const std::vector<std::string>& policy_instrument_names() {
    static const std::vector<std::string> names = {"talent_housing_subsidy", "settlement_bonus", "startup_rent_subsidy",
                                                   "founder_grant", "housing_supply", "incumbent_land",
                                                   "vc_tax_incentive", "price_cap"};
    return names;
}

void PolicyLevers::resize(std::size_t cities) {
    const double none = std::numeric_limits<double>::infinity();
    talent.clear();
    for (auto* v : {&startup_rent_share, &founder_grant, &founder_grant_expected, &startup_rent_expected,
                    &incumbent_rent_share, &vc_return_rebate, &added_floor_space})
        v->assign(cities, 0.0);
    for (auto* v : {&founder_grant_budget, &vc_rebate_budget, &max_price_growth}) v->assign(cities, none);
    fiscal_cost.assign(cities * policy_instruments, 0.0);
    payout_share.assign(cities * policy_instruments, 1.0);
}

void PolicyLevers::clear_ledger() {
    std::fill(fiscal_cost.begin(), fiscal_cost.end(), 0.0);
    std::fill(payout_share.begin(), payout_share.end(), 1.0);
}

}  // namespace citysim::models
