// Policy instruments: each moves what it should against a paired baseline (same seed), its fiscal
// cost is what the equations of models/policy.hpp say, budget caps bind visibly, a policy that
// does nothing changes nothing, and results do not depend on the thread count.
#include "fixtures.hpp"
#include "models/city_model.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <numeric>

using namespace citysim;

namespace {

constexpr std::size_t city_b = 1;

// Nobody moves, enters, exits, graduates or founds: who lives where stays as paid.
const std::vector<std::string> still = {"mechanisms.migration.enabled=false", "mechanisms.demography.enabled=false",
                                        "mechanisms.universities.enabled=false", "mechanisms.founding.enabled=false"};

std::string with_policy(const std::string& policy) { return testing::ecosystem_yaml() + "policies:\n" + policy; }

struct Totals {
    std::vector<std::int64_t> talent_by_city, births;
    std::vector<double> cost;  // per city and instrument, summed over the run
    double lowest_payout = 1.0;
};

Totals run(const std::string& yaml, int steps = 36, std::vector<std::string> overrides = {}) {
    models::CityModel model(testing::load(yaml, overrides));
    const auto& st = model.state();
    Totals t;
    t.births.assign(st.cities(), 0);
    t.cost.assign(st.cities() * models::policy_instruments, 0.0);
    for (int s = 0; s < steps; ++s) {
        model.step();
        for (std::size_t cf = 0; cf < st.ecosystem.births.size(); ++cf)
            t.births[cf / st.fields()] += std::llround(st.ecosystem.births[cf]);
        for (std::size_t k = 0; k < t.cost.size(); ++k) {
            t.cost[k] += st.policy.fiscal_cost[k];
            t.lowest_payout = std::min(t.lowest_payout, st.policy.payout_share[k]);
        }
    }
    for (std::size_t c = 0; c < st.cities(); ++c) t.talent_by_city.push_back(static_cast<std::int64_t>(st.talent_persons_in(c)));
    return t;
}

double cost_of(const Totals& t, std::size_t city, models::PolicyInstrument instrument) {
    return t.cost[city * models::policy_instruments + static_cast<std::size_t>(instrument)];
}

}  // namespace

TEST_CASE("policy: one that is never in force or pays nothing changes nothing", "[policy]") {
    const auto base = run(testing::ecosystem_yaml());
    const auto later = run(with_policy(R"(
  too-late: {instrument: talent_housing_subsidy, city: b, rent_share: 0.5, start_step: 50}
)"));
    const auto zero = run(with_policy(R"(
  nothing: {instrument: founder_grant, city: b, grant: 0}
)"));
    // A subsidy of 0 (a teacher's slider at rest) sways no choice of city: the runs are the
    // baseline's, draw for draw, not merely close to it (three cities, so that the choice with
    // policies would add the weights in another order).
    const auto at_rest = run(with_policy(R"(
  slider: {instrument: talent_housing_subsidy, city: b, rent_share: 0}
  no-bonus: {instrument: settlement_bonus, city: c, bonus: 0}
)"), 120);
    const auto base_120 = run(testing::ecosystem_yaml(), 120);
    CHECK(later.talent_by_city == base.talent_by_city);
    CHECK(later.births == base.births);
    CHECK(zero.talent_by_city == base.talent_by_city);
    CHECK(zero.births == base.births);
    CHECK(std::accumulate(zero.cost.begin(), zero.cost.end(), 0.0) == 0.0);
    CHECK(at_rest.talent_by_city == base_120.talent_by_city);
    CHECK(at_rest.births == base_120.births);
    CHECK(std::accumulate(at_rest.cost.begin(), at_rest.cost.end(), 0.0) == 0.0);
}

TEST_CASE("policy: a talent housing subsidy draws talent to the city and costs sigma x housing cost per eligible person",
          "[policy]") {
    const auto base = run(testing::ecosystem_yaml());
    const auto subsidy = run(with_policy(R"(
  b-housing: {instrument: talent_housing_subsidy, city: b, rent_share: 0.4}
)"));
    CHECK(subsidy.talent_by_city[city_b] > base.talent_by_city[city_b]);
    CHECK(cost_of(subsidy, city_b, models::PolicyInstrument::talent_housing_subsidy) > 0.0);
    CHECK(cost_of(subsidy, 0, models::PolicyInstrument::talent_housing_subsidy) == 0.0);

    // One step, checked against a recount of the eligible (here: everyone in b), with nothing
    // that changes who lives in b after the payment.
    models::CityModel model(testing::load(with_policy(R"(
  b-housing: {instrument: talent_housing_subsidy, city: b, rent_share: 0.4}
)"), still));
    model.step();
    const auto& st = model.state();
    const double persons = st.talent_persons_in(city_b);
    const double expected = persons * 0.4 * st.annual_housing_cost(city_b) * model.years_per_step();
    const double cost = st.policy.fiscal_cost[city_b * models::policy_instruments];
    // Rent moves after the payment within a step only through housing, which runs before it.
    CHECK(cost == Approx(expected).epsilon(1e-12));
}

TEST_CASE("policy: a budget cap that binds scales payments and shows as a payout share below 1", "[policy]") {
    models::CityModel model(testing::load(with_policy(R"(
  b-housing: {instrument: talent_housing_subsidy, city: b, rent_share: 0.4, budget_per_year: 1.0e8}
)")));
    for (int s = 0; s < 6; ++s) {
        model.step();
        const auto& st = model.state();
        const double cost = st.policy.fiscal_cost[city_b * models::policy_instruments];
        const double share = st.policy.payout_share[city_b * models::policy_instruments];
        CHECK(cost == Approx(1.0e8 * model.years_per_step()).epsilon(1e-9));
        CHECK(share < 1.0);
        CHECK(share > 0.0);
    }
}

TEST_CASE("policy: eligibility by field, skill and years in the city", "[policy]") {
    models::CityModel model(testing::load(with_policy(R"(
  b-ai: {instrument: talent_housing_subsidy, city: b, rent_share: 0.4,
         eligibility: {fields: [ai], min_skill: 1.2, max_years_in_city: 0}}
)"), still));
    model.step();
    const auto& st = model.state();
    const auto& t = st.talent.table;
    const auto city = t.column(st.talent.city);
    const auto field = t.column(st.talent.field);
    const auto skill = t.column(st.talent.skill);
    double eligible = 0;
    for (std::size_t i = 0; i < t.size(); ++i) eligible += city[i] == city_b && field[i] == 1 && skill[i] >= 1.2f;
    const double expected = eligible * st.persons_per_agent * 0.4 * st.annual_housing_cost(city_b) * model.years_per_step();
    CHECK(st.policy.fiscal_cost[city_b * models::policy_instruments] == Approx(expected).epsilon(1e-12));
}

TEST_CASE("policy: a limit on years in the city leaves out the talent there at the start", "[policy]") {
    const std::string yaml = with_policy(R"(
  b-young: {instrument: talent_housing_subsidy, city: b, rent_share: 0.4, eligibility: {max_years_in_city: 3}}
)");
    models::CityModel still_model(testing::load(yaml, still));
    still_model.step();
    CHECK(still_model.state().policy.fiscal_cost[city_b * models::policy_instruments] == 0.0);
    // With migration, entries and graduates, newcomers qualify, and only they.
    models::CityModel model(testing::load(yaml));
    for (int s = 0; s < 3; ++s) model.step();
    const auto& st = model.state();
    const auto& t = st.talent.table;
    const auto city = t.column(st.talent.city);
    const auto arrival = t.column(st.talent.arrival_step);
    double newcomers = 0;
    for (std::size_t i = 0; i < t.size(); ++i) newcomers += city[i] == city_b && arrival[i] > 0 && arrival[i] <= 3;
    CHECK(newcomers > 0);
    CHECK(st.policy.fiscal_cost[city_b * models::policy_instruments] > 0.0);
    CHECK(st.policy.fiscal_cost[city_b * models::policy_instruments] <
          newcomers * st.persons_per_agent * 0.4 * st.annual_housing_cost(city_b) * model.years_per_step() * 1.0001);
}

TEST_CASE("policy: start-up rent subsidies and founder grants raise founding in the city", "[policy]") {
    const auto base = run(testing::ecosystem_yaml());
    const auto rent = run(with_policy(R"(
  b-rent: {instrument: startup_rent_subsidy, city: b, rent_share: 0.8}
)"));
    const auto grant = run(with_policy(R"(
  b-grant: {instrument: founder_grant, city: b, grant: 2.0e6}
)"));
    CHECK(rent.births[city_b] > base.births[city_b]);
    CHECK(cost_of(rent, city_b, models::PolicyInstrument::startup_rent_subsidy) > 0.0);
    CHECK(grant.births[city_b] > base.births[city_b]);
    // Every start-up founded in b received the grant (no cap): cost = grant x firms (births count firms).
    const double firms = static_cast<double>(grant.births[city_b]);
    CHECK(cost_of(grant, city_b, models::PolicyInstrument::founder_grant) == Approx(2.0e6 * firms).epsilon(1e-12));
}

TEST_CASE("policy: public housing lowers rents, a price cap holds prices, a VC rebate draws capital", "[policy]") {
    auto final_state = [](const std::string& yaml) {
        models::CityModel model(testing::load(yaml));
        std::vector<double> previous_price;
        double fastest_growth = 0.0, raised_in_b = 0.0;
        for (int s = 0; s < 36; ++s) {
            previous_price = model.state().home_price;
            model.step();
            fastest_growth = std::max(fastest_growth, model.state().home_price[0] / previous_price[0] - 1.0);
            raised_in_b += model.state().ecosystem.vc_raised[city_b];
        }
        return std::tuple{model.state().rent, model.state().housing_stock, fastest_growth, raised_in_b,
                          model.state().policy.fiscal_cost};
    };
    const auto [rent0, stock0, growth0, raised0, cost0] = final_state(testing::ecosystem_yaml());
    const auto [rent1, stock1, growth1, raised1, cost1] = final_state(with_policy(R"(
  a-homes: {instrument: housing_supply, city: a, extra_floor_space_per_year: 4.0e6, cost_per_m2: 2000}
  a-cap: {instrument: price_cap, city: a, max_price_growth_per_year: 0.0}
  b-rebate: {instrument: vc_tax_incentive, city: b, return_rebate_share: 0.5}
)"));
    CHECK(stock1[0] > stock0[0]);
    CHECK(rent1[0] < rent0[0]);
    CHECK(growth0 > 0.0);
    CHECK(growth1 <= 1e-12);
    CHECK(raised1 >= raised0);
    (void)cost0;
    CHECK(cost1[0 * models::policy_instruments + static_cast<std::size_t>(models::PolicyInstrument::housing_supply)] ==
          Approx(4.0e6 * 2000 / 12.0));
}

TEST_CASE("policy: results with policies do not depend on the thread count", "[policy][threads]") {
    const std::string yaml = with_policy(R"(
  b-housing: {instrument: talent_housing_subsidy, city: b, rent_share: 0.3, budget_per_year: 5.0e8,
              eligibility: {max_years_in_city: 2}}
  b-bonus: {instrument: settlement_bonus, city: b, bonus: 200000}
  a-land: {instrument: incumbent_land, city: a, rent_share: 0.5}
)");
    const auto one = run(yaml, 24, {"simulation.threads=1"});
    const auto four = run(yaml, 24, {"simulation.threads=4"});
    CHECK(one.talent_by_city == four.talent_by_city);
    CHECK(one.births == four.births);
    CHECK(one.cost == four.cost);
    CHECK(cost_of(one, 0, models::PolicyInstrument::incumbent_land) > 0.0);
    CHECK(cost_of(one, city_b, models::PolicyInstrument::settlement_bonus) > 0.0);
}

TEST_CASE("policy: scenario errors name the policy key and say what to do", "[policy][scenario]") {
    auto errors_of = [](const std::string& policy) {
        try {
            models::load_scenario_text(with_policy(policy), "test.yaml");
        } catch (const scenario::ScenarioError& e) {
            std::string all;
            for (const auto& d : e.diagnostics()) all += d.format() + "\n";
            return all;
        }
        return std::string();
    };
    const auto wrong_key = errors_of("  p: {instrument: founder_grant, city: b, grant: 1, rent_share: 0.3}\n");
    CHECK_THAT(wrong_key, Catch::Contains("policies.p.rent_share") && Catch::Contains("does not apply to a founder_grant"));
    const auto wrong_city = errors_of("  p: {instrument: price_cap, city: bb, max_price_growth_per_year: 0.1}\n");
    CHECK_THAT(wrong_city, Catch::Contains("policies.p.city") && Catch::Contains("did you mean"));
    const auto wrong_field =
        errors_of("  p: {instrument: settlement_bonus, city: b, bonus: 1, eligibility: {fields: [robots]}}\n");
    CHECK_THAT(wrong_field, Catch::Contains("policies.p.eligibility.fields.0"));
    const auto order = errors_of("  p: {instrument: founder_grant, city: b, grant: 1, start_step: 10, end_step: 5}\n");
    CHECK_THAT(order, Catch::Contains("not after start_step"));
}
