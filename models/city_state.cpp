#include "models/city_state.hpp"

#include "engine/checkpoint/archive.hpp"
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
    // No grant or rebate in force: nothing to pay (what Policies::begin_step sets when none is in
    // force, so that a model with policies not yet in force has the state of one without).
    for (auto* v : {&founder_grant_budget, &vc_rebate_budget}) v->assign(cities, 0.0);
    max_price_growth.assign(cities, none);
    fiscal_cost.assign(cities * policy_instruments, 0.0);
    payout_share.assign(cities * policy_instruments, 1.0);
}

void PolicyLevers::clear_ledger() {
    std::fill(fiscal_cost.begin(), fiscal_cost.end(), 0.0);
    std::fill(payout_share.begin(), payout_share.end(), 1.0);
}

// Checkpoints (engine/checkpoint/archive.hpp). Sizes as recorded by CITYSIM_CHECKPOINTED: a member
// added to one of these structs stops the build until it is saved below.
CITYSIM_CHECKPOINTED(CityState, 2592);
CITYSIM_CHECKPOINTED(PolicyLevers, 312);

void CityState::save_or_restore(checkpoint::Archive& archive) {
    auto scope = archive.section("state");
    // The axes come from the scenario; a checkpoint of other cities or fields is refused.
    auto same = [&](const char* name, std::vector<std::string>& mine) {
        auto saved = mine;
        archive.texts(name, saved);
        if (saved != mine)
            throw checkpoint::CheckpointError(std::string("the checkpoint's ") + name + " differ from the scenario's");
    };
    same("city_names", city_names);
    same("field_names", field_names);
    archive.value("persons_per_agent", persons_per_agent);
    archive.values("amenity", amenity);
    archive.value("residents_per_worker", residents_per_worker);
    archive.values("travel_hours", travel_hours);
    archive.values("rent", rent);
    archive.values("home_price", home_price);
    archive.values("housing_stock", housing_stock);
    archive.values("expected_rent_growth", expected_rent_growth);
    archive.values("local_service_workers", local_service_workers);
    archive.values("other_residents", other_residents);
    archive.values("wage", wage);
    archive.values("skill_sum", skill_sum);
    archive.values("skill_count", skill_count);
    archive.table("talent", talent.table);
    archive.values("talent_count", talent_count);
    archive.values("initial_talent_count", initial_talent_count);
    archive.values("arrivals", arrivals);
    archive.values("departures", departures);
    archive.values("entries", entries);
    archive.values("exits", exits);
    archive.values("migration", migration);
    archive.values("local_service_change", local_service_change);
    archive.values("other_residents_change", other_residents_change);
    ecosystem.save_or_restore(archive);
    policy.save_or_restore(archive);
    archive.values("floor_space_per_person", floor_space_per_person);
}

void PolicyLevers::save_or_restore(checkpoint::Archive& archive) {
    auto scope = archive.section("policy_levers");
    archive.values("startup_rent_share", startup_rent_share);
    archive.values("founder_grant", founder_grant);
    archive.values("founder_grant_budget", founder_grant_budget);
    archive.values("founder_grant_expected", founder_grant_expected);
    archive.values("startup_rent_expected", startup_rent_expected);
    archive.values("incumbent_rent_share", incumbent_rent_share);
    archive.values("vc_return_rebate", vc_return_rebate);
    archive.values("vc_rebate_budget", vc_rebate_budget);
    archive.values("max_price_growth", max_price_growth);
    archive.values("added_floor_space", added_floor_space);
    archive.values("fiscal_cost", fiscal_cost);
    archive.values("payout_share", payout_share);
}

}  // namespace citysim::models
