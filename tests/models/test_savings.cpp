#include "fixtures.hpp"
#include "models/city_model.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <vector>

using namespace citysim;

namespace {
template <class T>
std::vector<T> copy(std::span<const T> s) {
    return std::vector<T>(s.begin(), s.end());
}
}  // namespace

TEST_CASE("savings: grow with income after housing", "[savings]") {
    models::CityModel model(testing::load(testing::two_fields_yaml(), {"mechanisms.demography.enabled=false",
                                                                      "mechanisms.migration.enabled=false"}));
    const auto& st = model.state();
    const auto before = copy(st.talent.table.column(st.talent.savings));
    model.step();
    const auto after = st.talent.table.column(st.talent.savings);
    const auto city = st.talent.table.column(st.talent.city);
    const auto field = st.talent.table.column(st.talent.field);
    const auto skill = st.talent.table.column(st.talent.skill);
    const std::vector<double> rent = st.rent;
    for (std::size_t i = 0; i < 100; ++i) {
        const double income = st.wage[city[i] * st.fields() + field[i]] * skill[i];
        // The household's floor space: 35 m2 per person x persons per worker.
        const double housing = 12 * rent[city[i]] * 35 * st.residents_per_worker;
        const double expected = std::max(0.0, before[i] + (1.0 / 12) * 0.3 * (income - housing));
        CHECK(after[i] == Approx(expected).epsilon(1e-5));
    }
}

TEST_CASE("savings: start at initial_savings_years of the wage, and stay put when switched off", "[savings]") {
    models::CityModel model(testing::load(testing::two_fields_yaml(),
                                          {"mechanisms.savings.enabled=false", "mechanisms.savings.initial_savings_years=2",
                                           "mechanisms.demography.enabled=false", "mechanisms.founding.enabled=false"}));
    const auto& st = model.state();
    const auto& t = st.talent.table;
    const auto city = t.column(st.talent.city);
    const auto field = t.column(st.talent.field);
    const auto skill = t.column(st.talent.skill);
    const auto before = copy(t.column(st.talent.savings));
    for (std::size_t i = 0; i < 50; ++i)
        CHECK(before[i] == Approx(2.0 * st.wage[city[i] * st.fields() + field[i]] * skill[i]).epsilon(1e-6));
    for (int s = 0; s < 6; ++s) model.step();
    const auto after = t.column(st.talent.savings);
    CHECK(std::equal(before.begin(), before.end(), after.begin()));
}
