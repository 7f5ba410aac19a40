// Policy: what a city government does for talent, founders, firms and housing, and what it costs.
//
// A policy is one instrument in one city, in force from start_step to end_step (end_step 0: to the
// end of the run). Every instrument that pays has a budget cap budget_per_year (CNY; 0 = none): in a
// step it pays at most B = budget_per_year * dt. When the full demand D of the step (what it would
// pay without a cap) exceeds B, every payment is scaled by the payout share s = min(1, B / D), so the
// fiscal cost is s * D and a binding cap shows as s < 1 (output policy_payout_share). People and
// founders decide on the support they expect: the full amount times the payout share of the step
// before.
//
//   talent_housing_subsidy  an eligible talent person in city c has a share
//       sigma = min(0.9, rent_share + amount_per_year / (12 R[c] h0[c]))
//       of the housing cost 12 R[c] h0[c] paid; savings gain dt * saving_rate * s * sigma * 12 R[c] h0[c]
//       (the person saves the same share of what is relieved as of other income), and the
//       migration utility of living in c gains income_weight * housing_cost_share * -ln(1 - s * sigma)
//       (the subsidy lowers the rent the person pays: real income in the Rosen-Roback sense).
//   settlement_bonus        an eligible talent person who moves to c receives bonus once, into
//       savings; the utility of moving to c gains income_weight * ln(1 + s * bonus / (bonus_spread_years * w[c,f])).
//   startup_rent_subsidy    a start-up in c has a share rent_share of its office rent paid (its burn's
//       rent term is multiplied by 1 - s * rent_share); founders choosing where to found gain
//       location_cost_weight * -ln(1 - s * rent_share) for c.
//   founder_grant           each start-up founded in c receives grant (CNY per firm) as cash; the
//       founder's runway counts it (runway = (savings + s * grant) / annual housing cost), and
//       founders choosing where to found gain location_cost_weight * ln(1 + s * grant / (12 R[c] h0[c])).
//   housing_supply          extra_floor_space_per_year m2 a year are built in c on land the city
//       provides, on top of what the market builds: they raise the stock, the market's reference
//       stock and the land capacity alike; the cost is cost_per_m2 per m2 (the cap scales the space).
//   incumbent_land          incumbents based in c get land at a discount: in the choice of where a
//       project goes, their home rent counts as R[c] (1 - s * rent_share); the cost is the discount on
//       floor_space_per_employee m2 of office per employee of their establishments in c at office
//       rents, s * rent_share * 12 * office_rent_ratio * R[c] * floor_space_per_employee per person-year.
//   vc_tax_incentive        funds based in c receive a rebate of return_rebate_share of the exit
//       proceeds paid to them (a tax credit paid by the city): it adds to their returns, so capital
//       raised elsewhere follows it (venture_capital.hpp).
//   price_cap               home prices in c may grow by at most max_price_growth_per_year a year:
//       P' = min(P', P * (1 + max_price_growth_per_year)^dt). Rents are not capped; it costs nothing.
//
// Eligibility of talent (talent_housing_subsidy, settlement_bonus): field in `fields` (all when
// empty), skill >= min_skill, at most max_years_in_city years in c (0 = any; a new arrival or a new
// graduate has 0; talent that was there at the start of the run counts as established, beyond any
// limit), and, with new_arrivals_only, arrived in c at or after start_step.
#pragma once

#include "engine/rng.hpp"
#include "engine/scenario/schema.hpp"
#include "models/city_state.hpp"

#include <optional>
#include <string>
#include <vector>

namespace citysim::models {

struct PolicyEligibility {
    std::vector<std::string> fields;  // empty = every field
    double min_skill = 0.0;
    double max_years_in_city = 0.0;  // 0 = no limit
    bool new_arrivals_only = false;
};

struct PolicyParams {
    std::string instrument;
    std::string city;
    std::int64_t start_step = 0;
    std::int64_t end_step = 0;  // 0 = to the end of the run
    double budget_per_year = 0.0;  // 0 = no cap
    double rent_share = 0.0;
    double amount_per_year = 0.0;
    double bonus = 0.0;
    double bonus_spread_years = 5.0;
    double grant = 0.0;
    double extra_floor_space_per_year = 0.0;
    double cost_per_m2 = 0.0;
    double floor_space_per_employee = 10.0;
    double return_rebate_share = 0.0;
    double max_price_growth_per_year = 0.0;
    PolicyEligibility eligibility;
};
const scenario::Record<PolicyParams>& policy_schema();

// The keys each instrument reads besides instrument, city, start_step and end_step; a scenario that
// sets another is told so (scenario.cpp).
const std::vector<std::string>& instrument_keys(PolicyInstrument instrument);
PolicyInstrument instrument_of(const std::string& name);
// The instrument called `name`, or none (an unknown name, or none given where the scenario a file
// extends could not be read): for checks that must not stop at it.
std::optional<PolicyInstrument> find_instrument(const std::string& name);

// The parameters of other mechanisms through which the instruments act (savings, start-ups' office
// rent, the migration utility).
struct PolicyRates {
    double saving_rate = 0.0;
    double office_rent_ratio = 0.0;
    double office_m2_per_person = 0.0;
    double income_weight = 0.0;
    double housing_cost_share = 0.0;
};

class Policies {
public:
    Policies(const std::vector<scenario::Named<PolicyParams>>& policies, const PolicyRates& rates, CityState& state);
    // Saves or restores this mechanism's own state (checkpoints, engine/checkpoint/archive.hpp).
    void save_or_restore(checkpoint::Archive& archive);
    bool empty() const { return policies_.empty(); }
    // Those parameters, and the policies' amounts, changed mid-run (schedule.hpp); each policy keeps
    // its instrument, city, steps in force, eligibility and expected payout share.
    void retune(const std::vector<scenario::Named<PolicyParams>>& policies, const PolicyRates& rates);

    // Start of a step: clears the step's ledger, sets what each instrument in force offers this step
    // (from the payout shares of the step before), adds the step's public housing.
    void begin_step(CityState& state, std::int64_t step, double years_per_step);
    // After migration: housing subsidies and settlement bonuses are paid to the eligible talent.
    void pay_talent(CityState& state, std::int64_t step, double years_per_step);
    // Before start-ups burn: the rent subsidy's payout share from the start-ups now alive.
    void price_startup_rent(CityState& state, double years_per_step);
    // End of a step: incumbents' land discounts are charged at their current employment; the
    // instruments paid by other mechanisms (founder grants, rebates) take the payout share of the
    // ledger as what founders and funds expect next.
    void end_step(CityState& state, double years_per_step);

private:
    struct Active {
        std::string name;  // the scenario's key under policies
        PolicyParams params;
        PolicyInstrument instrument;
        CityIndex city;
        std::vector<std::uint8_t> field_eligible;  // per field
        double expected_payout_share = 1.0;
    };
    bool in_force(const Active& policy, std::int64_t step) const {
        return step >= policy.params.start_step && (policy.params.end_step == 0 || step < policy.params.end_step);
    }
    double step_budget(const Active& policy, double years_per_step) const;
    // sigma of a housing subsidy at this step's rent, before the cap.
    double relief_share(const Active& policy, const CityState& state) const;

    std::vector<Active> policies_;
    PolicyRates rates_;
    std::int64_t step_ = 0;
};

}  // namespace citysim::models
