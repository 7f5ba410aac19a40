// Start-ups: burn, product progress, funding rounds, hiring, failure, exits and breakthroughs.
//
// A start-up in city c and field f with a team of n talent agents (n persons per firm, the founder
// included), mean skill q and cash C (CNY per firm) goes through, each step of dt years:
//
//   burn      C -= dt * (salary_share * k[c,f] * (n - founder) * w[c,f] * q + n * office_m2_per_person * 12 * office_rent_ratio * R[c])
//             (the founder is unpaid; office rent follows the city's residential rent R, less the
//             share a start-up rent subsidy pays, policy.hpp);
//             k[c,f] = (L[c,f] / free talent[c,f])^tightness_elasticity is what a start-up must add
//             to the wage to recruit when little talent is free (recruiting, signing bonuses)
//   progress  P += dt * progress_drift * q^quality_elasticity * S * exp(research_spillover * b[c] * rel[f])
//                  + progress_volatility * sqrt(dt) * z,          z ~ N(0, 1)
//             S = (1 + same-field start-ups per 1000 same-field talent in c)^spillover_elasticity
//   funding   with cash for fewer than seek_runway_months of burn, it seeks a round (venture_capital.hpp)
//   failure   when its cash runs out (C < 0 after any round), when its progress falls below
//             abandon_progress + expected_progress_per_year * age (the founder gives up: a venture
//             is judged against the progress expected by its age), or when it has no team left
//   exit      once P >= listing_progress it lists at rate listing_rate, else once P >= exit_progress
//             it is acquired at rate acquisition_rate; the exit is worth
//                 V = exit_multiple * max(raised, seed_round) * exp(exit_progress_premium * (P - exit_progress))
//                     * (breakthrough_value_multiple if it made a breakthrough)
//             per firm, of which investors get 1 - (1 - round_dilution)^rounds and the founder the rest
//   breakthrough  (at most one per firm) at the rate
//                 breakthrough_rate * q^breakthrough_quality_elasticity * S^breakthrough_spillover_ratio
//                 * (1 + raised / seed_round)^breakthrough_capital_elasticity * min(1, age / breakthrough_maturity_years)
//                 * exp(research_spillover * b[c] * rel[f]);  it adds breakthrough_progress to P
//   hiring    a start-up hires towards the team its cash can pay for hire_runway_years:
//                 n* = 1 + floor(C / (hire_runway_years * cost of one more person per year)),
//             at most max_team and at most hiring_growth_per_step x its team (plus one) a step,
//             from the free talent of its city and field (firms.hpp)
//
// A founder whose start-up failed counts a failure (founding.hpp: re-founding depends on the city's
// tolerance of failure). Switched off, start-ups are held as founded: no burn, progress, rounds,
// failures, exits, breakthroughs or hiring. Draws are per firm and step; the updates run in parallel over firms and
// the outcomes (rounds, failures, exits, hiring) are applied in firm order.
#pragma once

#include "engine/rng.hpp"
#include "engine/scenario/schema.hpp"
#include "models/city_state.hpp"
#include "models/venture_capital.hpp"

#include <algorithm>

namespace citysim::models {

struct StartupParams {
    bool enabled = true;
    double salary_share = 0.8;
    double tightness_elasticity = 1.0;
    double office_m2_per_person = 8.0;
    double office_rent_ratio = 1.5;
    double progress_drift = 0.05;
    double progress_volatility = 0.5;
    double quality_elasticity = 1.0;
    double spillover_elasticity = 0.15;
    double research_spillover = 2.0;
    double abandon_progress = -0.75;
    double expected_progress_per_year = 0.2;
    double exit_progress = 2.5;
    double listing_progress = 4.0;
    double acquisition_rate = 0.3;
    double listing_rate = 0.3;
    double exit_multiple = 2.0;
    double exit_progress_premium = 0.3;
    double round_dilution = 0.2;
    double hire_runway_years = 1.5;
    double hiring_growth_per_step = 0.25;
    std::int64_t max_team = 1000;
    double breakthrough_rate = 5e-05;
    double breakthrough_quality_elasticity = 3.0;
    double breakthrough_spillover_ratio = 2.0;
    double breakthrough_capital_elasticity = 0.3;
    double breakthrough_maturity_years = 3.0;
    double breakthrough_progress = 2.0;
    double breakthrough_value_multiple = 10.0;
};
const scenario::Record<StartupParams>& startup_schema();

class HiringPool;

class Startups {
public:
    explicit Startups(const StartupParams& params) : params_(params) {}
    // Saves or restores this mechanism's own state (checkpoints, engine/checkpoint/archive.hpp).
    void save_or_restore(checkpoint::Archive& archive);
    void retune(const StartupParams& params) { params_ = params; }  // mid-run (schedule.hpp)
    // Sets k[c,f] from the state (step() does it; tests call it before burn_per_year()).
    void update_tightness(const CityState& state) const;
    void step(CityState& state, HiringPool& pool, const VentureCapital& venture_capital,
              const engine::StreamKey& streams, double years_per_step) const;
    const StartupParams& params() const { return params_; }

    // Burn per firm and year (CNY) of a team of `team` talent agents with mean skill `quality` in
    // (city, field), each agent `scale` persons of the firm (firms.hpp: 1 unless the firm's cohort
    // has lost firms); the founder agent's persons are unpaid.
    // (Here, so that step() calls it inline: three times per start-up and step.)
    double burn_per_year(const CityState& state, std::size_t city, std::size_t field, std::int32_t team,
                         bool founder_present, double quality, double scale = 1.0) const {
        const double paid = std::max(0, team - (founder_present ? 1 : 0)) * scale;
        const std::size_t cf = state.city_field(city, field);
        const double tightness = cf < tightness_.size() ? tightness_[cf] : tightness_premium(state, cf);
        return params_.salary_share * tightness * paid * state.wage[cf] * quality +
               team * scale * params_.office_m2_per_person * 12.0 * params_.office_rent_ratio * state.rent[city] *
                   (1.0 - (city < state.policy.startup_rent_share.size() ? state.policy.startup_rent_share[city] : 0.0));
    }
    // Talent agents a start-up's cohort wants to add to its team: as many as the firm's cash pays for
    // over hire_runway_years, within its growth cap and max_team persons.
    std::int32_t hires_wanted(const CityState& state, std::size_t city, std::size_t field, std::int32_t team,
                              double scale, double cash, bool founder_present, double quality) const;
    // How many of `firms` firms break through, each with probability p, given the uniform u
    // (Binomial by inversion; 0 for most u).
    static std::uint8_t breakthroughs_drawn(double u, double firms, double p);
    // k[c,f] above.
    double tightness_premium(const CityState& state, std::size_t city_field) const;

private:
    // The firm ends (failed, acquired, listed): investors written off or paid `investor_proceeds`
    // (all its firms), the founder owed `founder_payout` per firm; its cohort's team is released with
    // the cohort's last firm.
    void end_firm(CityState& state, std::uint32_t row, FirmStatus how, const VentureCapital& venture_capital,
                  double investor_proceeds, double founder_payout, std::uint32_t step) const;
    // One firm of `row` broke through: it splits off as a firm agent of its own; returns its row.
    std::uint32_t split_off(CityState& state, std::uint32_t row, const VentureCapital& venture_capital,
                            std::uint32_t step) const;
    // Rounds, exits, failures and hiring, in firm order, after the parallel pass and the splits.
    void finish_step(CityState& state, HiringPool& pool, const VentureCapital& venture_capital,
                     const engine::StreamKey& streams, double years_per_step) const;
    // Whether firm `row` decides whom the cohort of team row `team_row` hires.
    static bool leads(std::span<const std::uint32_t> team_lead, std::uint32_t row, std::uint32_t team_row) {
        return team_lead[team_row] == row || (team_lead[team_row] == no_firm && row == team_row);
    }
    StartupParams params_;
    mutable std::vector<double> tightness_;  // k[c,f] of the step (set at the start of step())
    // The step's working lists, kept between steps so that they are not allocated (and their pages
    // faulted in) anew every step: the live start-ups, their outcomes, what each wants to hire.
    struct Scratch {
        std::vector<std::uint32_t> live;
        std::vector<std::uint8_t> outcome, broke_through;
        std::vector<HiringPool::HireRequest> request, hires;
        std::vector<std::vector<std::uint32_t>> special;  // per block of `live`: positions to settle in order
        std::vector<double> lead_sum;                      // per position: VentureCapital::lead_weight_sum
        std::vector<std::uint32_t> settle;                 // the special positions of all blocks, in order
    };
    mutable Scratch scratch_;
};

}  // namespace citysim::models
