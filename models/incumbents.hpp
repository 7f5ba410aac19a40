// Incumbents: the large firms of each city (Huawei and Tencent employ about 45% of Shenzhen's R&D
// staff). They employ talent at a wage premium, keep hiring to their target size, and grow by
// projects that may go to another city when home is expensive.
//
// An incumbent's establishment in (city, field) aims to employ target persons (from the scenario,
// then grown by projects) and hires each step up to
//     min(target - team, hiring_share_per_step * free talent of its city and field)
// from the free talent there (firms.hpp). Its employees earn wage_premium x the market wage and found
// start-ups less often (founding.hpp: incumbent_employee_factor): incumbents absorb talent.
//
// Every project_interval_years an incumbent starts, per field, a project of
//     growth_rate * project_interval_years * its target employment in the field (all establishments)
// persons (stochastically rounded to agents) and puts it in the city d with probability
// exp(U_d) / sum exp(U_k),
//     U_d = [d == home] * location_home_preference - location_cost_weight * ln(R[d] / (R[home] * (1 - g[home])))
//           + location_pool_weight * ln((free talent[d,f] + 1) / (free talent[home,f] + 1))
//           - location_cost_per_hour * T[home, d]
// where g is the discount of land granted to incumbents at home (policy.hpp, incumbent_land; 0 without).
// A project elsewhere opens (or grows) an establishment there.
#pragma once

#include "engine/rng.hpp"
#include "engine/scenario/schema.hpp"
#include "models/city_state.hpp"

#include <string>
#include <vector>

namespace citysim::models {

struct IncumbentsParams {
    bool enabled = true;
    double project_interval_years = 1.0;
    double hiring_share_per_step = 0.05;
    double location_home_preference = 3.0;
    double location_cost_weight = 2.0;
    double location_pool_weight = 0.5;
    double location_cost_per_hour = 0.1;
};
const scenario::Record<IncumbentsParams>& incumbents_schema();

struct IncumbentParams {
    std::vector<scenario::Named<double>> employees;  // persons per field at the start
    double wage_premium = 1.2;
    double growth_rate = 0.03;                       // 1/year
};
const scenario::Record<IncumbentParams>& incumbent_schema();

class HiringPool;

class Incumbents {
public:
    // `incumbents[c]`: the incumbents based in city c. Creates their home establishments.
    // New parameters mid-run (schedule.hpp): growth rates and the project choice; staff stay.
    void retune(const IncumbentsParams& params, const std::vector<std::vector<scenario::Named<IncumbentParams>>>& incumbents);
    Incumbents(const IncumbentsParams& params, const std::vector<std::vector<scenario::Named<IncumbentParams>>>& incumbents,
               CityState& state);
    // Saves or restores this mechanism's own state (checkpoints, engine/checkpoint/archive.hpp).
    void save_or_restore(checkpoint::Archive& archive);
    void step(CityState& state, HiringPool& pool, const engine::StreamKey& streams, double years_per_step);
    // Hires towards every establishment's target (also at the start, with hiring_share_per_step
    // lifted, so that the starting state has the scenario's employment).
    void hire(CityState& state, HiringPool& pool, const engine::StreamKey& streams, bool unlimited = false) const;
    // Probabilities of a project of an incumbent based in `home`, field `field`, going to each city.
    std::vector<double> location_probabilities(const CityState& state, std::size_t home, std::size_t field) const;

private:
    // A new establishment's firm row; home_row no_firm for a home establishment.
    std::uint32_t open_establishment(CityState& state, std::uint32_t incumbent, std::uint32_t home_row, std::size_t city,
                                     std::size_t home, std::size_t field, std::uint32_t step, float wage_premium);
    IncumbentsParams params_;
    std::vector<double> growth_rate_;  // per incumbent
    struct Establishment {
        std::uint32_t row;        // in the firm table
        std::uint32_t incumbent;  // index into growth_rate_
    };
    std::vector<Establishment> establishments_;  // in firm-row order
};

}  // namespace citysim::models
