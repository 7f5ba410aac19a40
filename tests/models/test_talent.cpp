#include "fixtures.hpp"
#include "models/city_model.hpp"
#include "models/talent.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <numeric>

using namespace citysim;

TEST_CASE("talent: apportionment is exact and proportional", "[talent]") {
    const auto parts = models::apportion(10, {0.5, 0.3, 0.2});
    CHECK(parts == std::vector<std::int64_t>{5, 3, 2});
    const auto uneven = models::apportion(7, {1, 1, 1});
    CHECK(std::accumulate(uneven.begin(), uneven.end(), std::int64_t{0}) == 7);
    CHECK(uneven == std::vector<std::int64_t>{3, 2, 2});  // ties go to the first
    CHECK(models::apportion(5, {0, 0}) == std::vector<std::int64_t>{0, 0});
}

TEST_CASE("talent: the starting population follows the shares and skill has mean 1", "[talent]") {
    const auto s = testing::load(testing::two_fields_yaml());
    const auto counts = models::starting_talent_counts(s);
    // x: 60% of 50,000 = 30,000, of which 70% hardware; y: 20,000, 40% hardware.
    CHECK(counts == std::vector<std::int64_t>{21000, 9000, 8000, 12000});
    models::CityModel model(s);
    const auto& st = model.state();
    const auto skill = st.talent.table.column(st.talent.skill);
    double sum = 0, sum_log = 0, sum_log2 = 0;
    for (float k : skill) {
        sum += k;
        sum_log += std::log(k);
        sum_log2 += std::log(k) * std::log(k);
    }
    const double n = static_cast<double>(skill.size());
    const double sigma = s.talent.skill_dispersion;
    CHECK(sum / n == Approx(1.0).margin(0.01));
    CHECK(sum_log / n == Approx(-sigma * sigma / 2).margin(0.01));
    CHECK(std::sqrt(sum_log2 / n - (sum_log / n) * (sum_log / n)) == Approx(sigma).epsilon(0.02));
    CHECK(st.persons_per_agent == Approx(2.0));
}

TEST_CASE("talent: residents include the households talent brings", "[talent]") {
    const auto s = testing::load(testing::two_fields_yaml(), {"mechanisms.households.residents_per_worker=1.5",
                                                              "mechanisms.households.local_jobs_per_talent=1"});
    models::CityModel model(s);
    const auto& st = model.state();
    // 30,000 agents x 2 persons, each with one local-service job, 1.5 persons per worker's household;
    // the rest of x's 1e6 residents are other residents.
    CHECK(st.local_service_workers[0] == Approx(60000));
    CHECK(st.other_residents[0] == Approx(1.0e6 - 1.5 * 120000));
    CHECK(st.residents(0) == Approx(1.0e6));
}
