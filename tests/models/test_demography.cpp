#include "fixtures.hpp"
#include "models/city_model.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <numeric>

using namespace citysim;

TEST_CASE("demography: exits and entries happen at their stated rates", "[demography]") {
    models::CityModel model(testing::load(testing::two_fields_yaml(), {"mechanisms.migration.enabled=false"}));
    const auto& st = model.state();
    const double n0 = static_cast<double>(st.talent.table.size());
    model.step();
    const double exits = static_cast<double>(std::accumulate(st.exits.begin(), st.exits.end(), std::int64_t{0}));
    const double entries = static_cast<double>(std::accumulate(st.entries.begin(), st.entries.end(), std::int64_t{0}));
    const double p_exit = 1 - std::exp(-0.1 / 12);
    CHECK(std::abs(exits - n0 * p_exit) < 5 * std::sqrt(n0 * p_exit));
    const double expected_entries = 0.12 / 12 * n0;
    CHECK(std::abs(entries - expected_entries) < 5 * std::sqrt(expected_entries));
    // New agents get fresh ids above all existing ones and arrive in the step they enter.
    const auto ids = st.talent.table.ids();
    CHECK(std::is_sorted(ids.begin(), ids.end()));
    CHECK(ids.back() >= static_cast<std::uint64_t>(n0));
    CHECK(st.talent.table.column(st.talent.arrival_step).back() == 1u);
}

TEST_CASE("demography: switched off, nobody enters or leaves", "[demography]") {
    models::CityModel model(testing::load(testing::two_fields_yaml(), {"mechanisms.demography.enabled=false"}));
    const auto size = model.state().talent.table.size();
    for (int i = 0; i < 12; ++i) model.step();
    CHECK(model.state().talent.table.size() == size);
    CHECK(std::accumulate(model.state().exits.begin(), model.state().exits.end(), std::int64_t{0}) == 0);
}
