// The state that the mechanisms read and write: city-level markets, the talent agents, and the
// flows of the current step. Arrays indexed by city and field are row-major: [city * fields + field].
#pragma once

#include "models/firms.hpp"
#include "models/talent.hpp"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace citysim::models {

// The policy instruments (policy.hpp), in the order of the output axis `instrument`.
enum class PolicyInstrument : std::uint8_t {
    talent_housing_subsidy = 0,
    settlement_bonus,
    startup_rent_subsidy,
    founder_grant,
    housing_supply,
    incumbent_land,
    vc_tax_incentive,
    price_cap,
};
inline constexpr std::size_t policy_instruments = 8;
const std::vector<std::string>& policy_instrument_names();

// What the policies in force offer in the current step, set by Policies (policy.hpp) and read by
// the mechanisms they act through; neutral when no policy is in force.
struct PolicyLevers {
    // A housing subsidy or settlement bonus for the eligible talent of one city.
    struct TalentRule {
        CityIndex city = 0;
        PolicyInstrument instrument = PolicyInstrument::talent_housing_subsidy;
        std::vector<std::uint8_t> field_eligible;  // per field
        float min_skill = 0.0f;
        std::uint32_t max_steps_in_city = 0xffffffffu;
        std::uint32_t arrived_since = 0;           // eligible only if arrival_step >= this
        std::vector<double> arrival_gain;          // per field: migration utility of arriving (expected support)
        std::vector<double> stay_gain;             // per field: migration utility of staying while eligible
        double relief_share = 0.0;                 // housing: share of housing cost paid this step (after the cap)
        double bonus = 0.0;                        // settlement: CNY per person paid this step (after the cap)
        std::size_t policy = 0;                    // index in the scenario's policies

        // Whether the rule changes anyone's choice of city (a subsidy of 0, e.g. a teacher's slider
        // at rest, does not: its gains are all 0).
        bool sways_choices() const {
            const auto nonzero = [](double gain) { return gain != 0.0; };
            return std::any_of(arrival_gain.begin(), arrival_gain.end(), nonzero) ||
                   std::any_of(stay_gain.begin(), stay_gain.end(), nonzero);
        }
        // Talent there at the start (arrival step 0) has lived in the city for an unknown, typically
        // long, time: a limit on years in the city excludes it.
        bool covers(CityIndex c, FieldIndex f, float skill, std::uint32_t arrival, std::uint32_t step) const {
            return c == city && field_eligible[f] != 0 && skill >= min_skill && step - arrival <= max_steps_in_city &&
                   arrival >= arrived_since && (arrival != 0 || max_steps_in_city == 0xffffffffu);
        }
    };
    std::vector<TalentRule> talent;
    std::vector<double> startup_rent_share;     // per city: share of start-ups' office rent paid this step
    std::vector<double> founder_grant;          // per city: CNY per firm founded, before the cap
    std::vector<double> founder_grant_budget;   // per city: CNY the grants may still pay this step (infinity = no cap)
    std::vector<double> founder_grant_expected; // per city: CNY per firm founders expect (grant x last payout share)
    std::vector<double> startup_rent_expected;  // per city: share founders expect
    std::vector<double> incumbent_rent_share;   // per city: discount on incumbents' home rent this step
    std::vector<double> vc_return_rebate;       // per city: share of funds' exit proceeds rebated
    std::vector<double> vc_rebate_budget;       // per city: CNY the rebate may still pay this step
    std::vector<double> max_price_growth;       // per city: per year; infinity = no cap
    std::vector<double> added_floor_space;      // per city: m2 built by housing programmes so far
    // The ledger of the step, [city * policy_instruments + instrument].
    std::vector<double> fiscal_cost;            // CNY
    std::vector<double> payout_share;           // 1 unless a budget cap bound

    void resize(std::size_t cities);
    void clear_ledger();
    // Saves or restores every member but `talent`, which Policies::begin_step rebuilds at the start of
    // every step before anything reads it (checkpoints).
    void save_or_restore(checkpoint::Archive& archive);
    void charge(std::size_t city, PolicyInstrument instrument, double cost, double share) {
        const std::size_t k = city * policy_instruments + static_cast<std::size_t>(instrument);
        fiscal_cost[k] += cost;
        payout_share[k] = std::min(payout_share[k], share);
    }
};

struct CityState {
    std::vector<std::string> city_names;
    std::vector<std::string> field_names;
    std::size_t cities() const { return city_names.size(); }
    std::size_t fields() const { return field_names.size(); }
    std::size_t city_field(std::size_t city, std::size_t field) const { return city * fields() + field; }

    double persons_per_agent = 1.0;
    std::vector<double> amenity;       // per city, as used by migration (calibrated or given)
    double residents_per_worker = 1.0;  // persons housed per worker, the worker included (households.hpp)
    std::vector<double> travel_hours;  // [origin * cities + destination], shortest route

    // Housing market, per city.
    std::vector<double> rent;                  // CNY per m2 per month
    std::vector<double> home_price;            // CNY per m2
    std::vector<double> housing_stock;         // m2 of residential floor space
    std::vector<double> expected_rent_growth;  // 1/year, adaptive (housing.hpp)

    // Households that are not talent (households.hpp), per city.
    std::vector<double> local_service_workers;  // persons employed in local services
    std::vector<double> other_residents;        // persons neither talent nor local services, nor their households

    // Labour market, per city and field.
    std::vector<double> wage;                  // CNY per year for skill 1
    std::vector<double> skill_sum;             // sum of agents' skills in the step (for mean wages)
    std::vector<double> skill_count;           // the agents that skill_sum covers (exact integers)

    // Talent agents and their counts per city and field (kept current by every mechanism that
    // moves, adds or removes agents).
    TalentAgents talent;
    std::vector<std::int64_t> talent_count;    // agents
    std::vector<std::int64_t> initial_talent_count;

    // Flows of the current step, in agents; reset at the start of each step.
    std::vector<std::int64_t> arrivals, departures, entries, exits;  // [city * fields + field]
    std::vector<std::int64_t> migration;                             // [origin * cities + destination]
    // Changes of the households that are not talent during the step, per city (persons).
    std::vector<double> local_service_change, other_residents_change;

    // Firms, funds and their flows (founding, start-ups, incumbents, universities, venture capital).
    Ecosystem ecosystem;
    PolicyLevers policy;
    // Floor space per resident per city (m2/person), for the cost of living.
    std::vector<double> floor_space_per_person;
    // What a talent worker's household's floor space costs a year in the city (CNY/year): what
    // savings pay for, and what a founder's savings must cover while unpaid.
    double annual_housing_cost(std::size_t city) const {
        return 12.0 * rent[city] * floor_space_per_person[city] * residents_per_worker;
    }

    double talent_persons_in(std::size_t city) const {
        std::int64_t n = 0;
        for (std::size_t f = 0; f < fields(); ++f) n += talent_count[city_field(city, f)];
        return static_cast<double>(n) * persons_per_agent;
    }
    double residents(std::size_t city) const {
        return residents_per_worker * (talent_persons_in(city) + local_service_workers[city]) + other_residents[city];
    }

    void reset_flows() {
        for (auto* v : {&arrivals, &departures, &entries, &exits}) v->assign(cities() * fields(), 0);
        migration.assign(cities() * cities(), 0);
        local_service_change.assign(cities(), 0.0);
        other_residents_change.assign(cities(), 0.0);
        ecosystem.reset_flows();
        policy.clear_ledger();
    }
    // Moves talent row `row` to `destination` as a migration of the step (founders who found elsewhere).
    void move_talent(std::size_t row, CityIndex destination, std::uint32_t step);
    // Adds counts[city * fields + field] new talent agents (entries of the step) with skills drawn
    // from their own streams; returns the first new row.
    std::size_t add_talent(const std::vector<std::int64_t>& counts, const engine::StreamKey& streams,
                           engine::Purpose skill_purpose, double skill_dispersion);
    // Saves or restores every member (checkpoints); a member added here must be added there.
    void save_or_restore(checkpoint::Archive& archive);
};

}  // namespace citysim::models
