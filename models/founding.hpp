// Founding: talent becomes founders, and a founder chooses the city to found in.
//
// A talent person of field f in city c founds at the rate (per year)
//
//   h = min(max_rate, base_rate * propensity[f] * skill^skill_elasticity
//           * Q(runway)^runway_elasticity                                runway = (savings + expected founder grant in c)
//                                                                         / annual housing cost of the household in c
//                                                                         (years, at least 0.05)
//           * (1 + founders per 1000 talent in c)^peer_elasticity
//           * (L[c,f] / mean_c L[.,f])^pool_elasticity                   same-field talent pool
//           * ((K[c] + 1) / (mean_c K + 1))^capital_elasticity          K: venture capital within reach per person
//           * exp(tolerance_effect * tolerance[c])
//           * exp(research_spillover * basic_research[c] * relatedness[f])
//           * employer_factor                                            1, or incumbent/university/start-up factor
//           * [failed before] exp(-refounding_stigma + refounding_tolerance_effect * tolerance[c]))
//
// Founders running a start-up do not found another. The housing term is the cost of living while
// unpaid: where rents are high, savings buy fewer years of runway. Runway saturates smoothly,
//
//   Q(r) = r (1 + r_half) / (r + r_half),        r_half = runway_half_saturation_years,
//
// which is 1 at one year, grows almost in proportion below r_half and levels off at 1 + r_half: a
// founder with ten years of savings is little more likely to found than one with five, but one with
// one year is much less likely than one with two. The elasticity of Q to runway (and so, with
// runway_elasticity 1, of the rate to rent, with the sign reversed) is r_half / (r + r_half).
//
// A founder who lives in o chooses the city d to found in by logit over
//
//   U_d = location_pool_weight * ln(L[d,f] / mean L[.,f]) + location_capital_weight * ln((K[d] + 1) / (mean K + 1))
//         - location_cost_weight * ln(R[d] / mean R) + location_tolerance_weight * tolerance[d]
//         + [d == o] * location_home_preference - [d != o] * location_cost_per_hour * T[o,d]
//         + location_cost_weight * (ln(1 + G[d] / A[d]) - ln(1 - S[d]))
//
// where G[d] is the founder grant and S[d] the share of office rent a start-up rent subsidy pays
// that founders expect in d (policy.hpp), and A[d] the annual housing cost of one person there.
//
// A founder who founds elsewhere moves there, and the move counts as a migration; with migration switched off nobody moves, and founders
// found where they live. The new firm starts with own_funds_share of the
// founder's savings as cash.
//
// Events are drawn by thinning: every agent has candidate events at rate max_rate (scheduled as
// geometric waiting times, like migration's reconsiderations) and a candidate becomes a founding
// with probability (1 - exp(-h dt)) / (1 - exp(-max_rate dt)). Per step this is exactly a founding
// with probability 1 - exp(-h dt), and a step touches only the agents with a candidate event.
#pragma once

#include "engine/rng.hpp"
#include "engine/scenario/schema.hpp"
#include "models/city_state.hpp"
#include "models/streams.hpp"

#include <algorithm>
#include <cmath>
#include <span>
#include <vector>

namespace citysim::models {

struct FoundingParams {
    bool enabled = true;
    double base_rate = 0.0008;
    double max_rate = 0.05;
    double skill_elasticity = 1.0;
    double runway_elasticity = 1.0;
    double runway_half_saturation_years = 1.5;
    double peer_elasticity = 0.2;
    double pool_elasticity = 0.3;
    double capital_elasticity = 0.2;
    double tolerance_effect = 1.0;
    double research_spillover = 3.0;
    double refounding_stigma = 2.0;
    double refounding_tolerance_effect = 2.5;
    double incumbent_employee_factor = 0.3;
    double university_staff_factor = 1.5;
    double startup_employee_factor = 2.0;
    double own_funds_share = 0.5;
    double location_pool_weight = 1.0;
    double location_capital_weight = 0.3;
    double location_cost_weight = 1.0;
    double location_tolerance_weight = 1.0;
    double location_home_preference = 2.5;
    double location_cost_per_hour = 0.2;
};
const scenario::Record<FoundingParams>& founding_schema();


class Founding {
public:
    // With founders_may_move false (migration switched off) everyone founds where they live.
    Founding(const FoundingParams& params, std::vector<double> field_propensity, bool founders_may_move = true);
    // Saves or restores this mechanism's own state (checkpoints, engine/checkpoint/archive.hpp).
    void save_or_restore(checkpoint::Archive& archive);
    // New parameters mid-run (schedule.hpp); the rate's tables are rebuilt every step anyway.
    void retune(const FoundingParams& params, std::vector<double> field_propensity) {
        params_ = params;
        field_propensity_ = std::move(field_propensity);
    }
    // A step's founding, in three parts so that the draws ride on the census's pass over the talent
    // (models/census.hpp): begin_step (false: founding is off), visit_block for every block of
    // talent (in parallel), which visits the agents due a candidate event in row order, then
    // finish_step, which creates the start-ups in block and row order and moves founders who found
    // elsewhere.
    bool begin_step(CityState& state, const engine::StreamKey& streams, double years_per_step);
    void visit_block(std::size_t begin, std::size_t end, std::size_t block);
    void visit(std::size_t i, std::size_t block, EmployerKind employer) {
        auto& s = scan_;
        const auto step = s.streams.step;
        if (s.next[i] > step) return;
        if (s.next[i] == unscheduled) {
            const auto w = engine::random_words(s.streams, s.ids[i], streams::founding_schedule);
            s.next[i] = step - 1 + engine::geometric_steps(s.candidate_p, w[0]);
            if (s.next[i] > step) return;
        }
        const auto w = engine::random_words(s.streams, s.ids[i], streams::founding_decision);
        s.next[i] = step + engine::geometric_steps(s.candidate_p, w[0]);
        if (employer == EmployerKind::founder) return;
        // Most candidates are rejected: an upper bound on the rate (p <= h dt) rules them out
        // without the logarithms and exponentials of the exact rate.
        const double u = engine::uniform_open(w[1]) * s.candidate_p;
        if (unit_skill_elasticity_ &&
            u >= rate_bound_[(s.city[i] * fields_ + s.field[i]) * employer_slots + static_cast<std::size_t>(employer)] *
                     s.skill[i] * s.years_per_step)
            return;
        const double h = rate(s.city[i], s.field[i], s.skill[i], s.savings[i], employer, s.failures[i] > 0);
        const double p = -std::expm1(-h * s.years_per_step);
        if (u >= p) return;
        // Where it founds is drawn in finish_step(), with this word: the location choice of an
        // (origin, field) is worked out only where someone founds.
        block_founders_[block].push_back({static_cast<std::uint32_t>(i), 0, w[2]});
    }
    void finish_step(CityState& state, const engine::StreamKey& streams);

    // The founding rate (1/year) of one agent, and the location choice probabilities, from the
    // tables of the last prepare(); for tests and docs.
    void prepare(const CityState& state);
    double rate(std::size_t city, std::size_t field, double skill, double savings, EmployerKind employer,
                bool failed_before) const;
    // Q(runway) above, for a runway in years.
    double runway_factor(double runway_years) const;
    std::vector<double> location_probabilities(std::size_t origin, std::size_t field) const;


private:
    FoundingParams params_;
    std::vector<double> field_propensity_;
    bool founders_may_move_;
    // Tables of prepare():
    std::vector<double> log_rate_;          // [city * fields + field], everything but the agent's own terms
    std::vector<double> refounding_;        // per city, the log factor of a failed founder
    std::vector<double> housing_cost_;      // per city, CNY per person-year
    std::vector<double> grant_expected_;    // per city, CNY per firm (policy.hpp, founder_grant)
    std::vector<double> location_support_;  // per city, utility of policies' support to founders
    // The location choice: per (origin, field), the running sum over d of exp(U_d - m_f), worked
    // out by location_row() only for the rows founders need, as the product of a part of the
    // destination and a part of the move (as in migration.hpp):
    //     exp(U_d - m_f) = exp(D[d,f] - m_f) x exp(-location_cost_per_hour * T[o,d])   (d != o)
    //     exp(U_o - m_f) = exp(D[o,f] - m_f) x exp(location_home_preference)
    // where D[d,f] is the part of U_d that every origin shares and m_f = max_d D[d,f]. The move part
    // is recomputed only when the travel times or its two parameters change, so a step costs
    // cities x fields exponentials, not cities^2 x fields.
    std::vector<double> destination_weight_;  // [field * cities + d]: exp(D[d,f] - m_f)
    std::vector<double> move_weight_;         // [origin * cities + d]: the move part (0 where founders may not move)
    struct MoveWeightInputs {
        std::vector<double> travel_hours;
        double home_preference = 0.0, cost_per_hour = 0.0;
    } move_weight_inputs_;
    void location_row(std::size_t origin, std::size_t field, double* cumulative) const;
    std::vector<double> location_rows_;          // [(origin * fields + field) * cities + d], rows in use only
    std::vector<std::uint8_t> location_needed_;  // per (origin, field): a founder of the step needs it
    double employer_log_factor(EmployerKind employer) const;
    // [(city * fields + field) * employer_slots + employer]: the uncapped rate over skill at the
    // saturated runway, with the refounding term where it raises the rate, and a margin for rounding.
    static constexpr std::size_t employer_slots = 5;
    std::vector<double> rate_bound_;
    bool unit_skill_elasticity_ = false;
    std::size_t cities_ = 0, fields_ = 0;

    struct Scan {  // the step's inputs of visit()
        engine::StreamKey streams;
        double years_per_step = 0.0, candidate_p = 0.0;
        std::span<const engine::StoredId> ids;
        std::span<const CityIndex> city;
        std::span<const FieldIndex> field;
        std::span<const float> skill, savings;
        std::span<const std::uint8_t> failures, employer_kind;
        std::span<std::uint32_t> next;
    } scan_;
    struct Founder {
        std::uint32_t row;
        CityIndex destination;  // set by finish_step()
        std::uint32_t location_word;  // the draw of the destination
    };
    std::vector<std::vector<Founder>> block_founders_;
    // finish_step's lists, kept across steps: all of the step's founders, and what the bookkeeping
    // after its parallel part needs of each.
    std::vector<Founder> founders_;
    struct Founded {
        CityIndex origin;
        FieldIndex field;
        EmployerKind old_kind;
        bool failed_before;
        double own_funds;
    };
    std::vector<Founded> founded_;
    // Per city, the grant each start-up founded this step receives (CNY per firm), after a budget
    // cap; charged to the policy ledger.
    std::vector<double> grants_paid(CityState& state, const std::vector<Founder>& founders) const;
    // Sets each of founders_'s destination.
    void choose_locations(const CityState& state);
};

}  // namespace citysim::models
