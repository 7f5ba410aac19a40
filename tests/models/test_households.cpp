// Households: local-service workers follow talent through the local multiplier, other residents
// answer to rents, and residents stay the sum of their parts.
#include "fixtures.hpp"
#include "models/city_model.hpp"
#include "models/households.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace citysim;

namespace {
models::CityState two_cities(std::int64_t talent_a, std::int64_t talent_b) {
    models::CityState state;
    state.city_names = {"a", "b"};
    state.field_names = {"f"};
    state.persons_per_agent = 10.0;
    state.talent_count = {talent_a, talent_b};
    state.rent = {60.0, 40.0};
    state.reset_flows();
    return state;
}
}  // namespace

TEST_CASE("households: the city starts with the multiplier's local jobs and its given residents", "[households]") {
    auto state = two_cities(10000, 5000);  // 100,000 and 50,000 talent persons
    models::HouseholdParams p;
    models::Households households(p, {2.0e6, 1.5e6}, {60.0, 40.0}, state);
    CHECK(state.residents_per_worker == p.residents_per_worker);
    CHECK(state.local_service_workers[0] == Approx(4.9 * 100000));
    CHECK(state.other_residents[0] == Approx(2.0e6 - 1.9 * (100000 + 490000)));
    CHECK(state.residents(0) == Approx(2.0e6));
    CHECK(state.residents(1) == Approx(1.5e6));
    CHECK(households.residents_per_talent() == Approx(1.9 * 5.9));
}

TEST_CASE("households: local services follow talent at the stated speed; other residents answer to rents",
          "[households]") {
    auto state = two_cities(10000, 5000);
    models::HouseholdParams p;
    models::Households households(p, {2.0e6, 1.5e6}, {60.0, 40.0}, state);
    const double other0 = state.other_residents[0];
    state.talent_count[0] = 11000;  // 10% more talent in a
    state.rent[1] = 40.0 * 1.2;     // 20% dearer b
    const double dt = 1.0 / 12;
    households.update(state, dt);
    const double target = 4.9 * 110000;
    CHECK(state.local_service_workers[0] == Approx(target + (490000 - target) * std::exp(-p.local_jobs_adjustment_rate * dt)));
    CHECK(state.local_service_change[0] == Approx(state.local_service_workers[0] - 490000));
    CHECK(state.other_residents[0] == Approx(other0));  // a's rent has not moved
    const double other_b0 = 1.5e6 - 1.9 * 5.9 * 50000;
    const double other_target = other_b0 * std::pow(1.2, -p.other_rent_elasticity);
    CHECK(state.other_residents[1] == Approx(other_target + (other_b0 - other_target) * std::exp(-p.other_adjustment_rate * dt)));
    // In the long run: the multiplier's jobs in a, and b's other residents at their target.
    for (int m = 0; m < 12 * 60; ++m) households.update(state, dt);
    CHECK(state.local_service_workers[0] == Approx(target).epsilon(1e-6));
    CHECK(state.other_residents[1] == Approx(other_target).epsilon(1e-6));
    // Switched off, nobody but talent moves.
    p.enabled = false;
    households.retune(p);
    const auto service = state.local_service_workers, other = state.other_residents;
    state.talent_count[0] = 20000;
    households.update(state, dt);
    CHECK(state.local_service_workers == service);
    CHECK(state.other_residents == other);
}

TEST_CASE("households: in a run, residents are the households of talent and local services and everyone else",
          "[households]") {
    models::CityModel model(testing::load(testing::three_cities_yaml(), {"mechanisms.migration.reconsider_rate=2"}));
    const auto& st = model.state();
    for (int s = 0; s < 36; ++s) {
        const auto service = st.local_service_workers, other = st.other_residents;
        model.step();
        for (std::size_t c = 0; c < st.cities(); ++c) {
            CHECK(st.residents(c) == Approx(st.residents_per_worker * (st.talent_persons_in(c) + st.local_service_workers[c]) +
                                            st.other_residents[c]));
            CHECK(st.local_service_change[c] == Approx(st.local_service_workers[c] - service[c]).margin(1e-6));
            CHECK(st.other_residents_change[c] == Approx(st.other_residents[c] - other[c]).margin(1e-6));
        }
    }
    // The residents per worker cannot change during a run: it sets the starting population.
    CHECK_THROWS_WITH(testing::load(testing::three_cities_yaml() +
                                    "schedule:\n  - {key: mechanisms.households.residents_per_worker, value: 3, start_step: 2}\n"),
                      Catch::Contains("starting population"));
}
