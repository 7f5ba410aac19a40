// The live page's run (cli/live_run.hpp): each step's values are those a file records; control moves
// become scheduled changes from the next step; the saved scenario replays the live run exactly;
// moves outside a control's range, to no control, or after the end are refused with the reason.
#include "cli/live_run.hpp"
#include "models/recording.hpp"

#include <catch2/catch.hpp>

using namespace citysim;

namespace {

std::string teaching() { return std::string(CITYSIM_SOURCE_DIR) + "/scenarios/teaching-two-cities.yaml"; }

std::vector<std::string> every_series() {
    std::vector<std::string> names;
    for (const auto& v : models::output_variables())
        if (!v.dims.empty() && v.dims.front() == "time") names.push_back(v.name);
    return names;
}

// The records of a model run from the saved scenario, as the live run returns them.
std::vector<cli::LiveRecord> replay(const std::string& saved, const std::vector<std::string>& variables) {
    const auto loaded = models::load_scenario_text(saved, "saved.yaml");
    cli::LiveRun run(loaded, "saved.yaml", loaded.value.simulation.seed, variables);
    auto records = std::vector<cli::LiveRecord>{run.record()};
    const auto rest = run.advance(loaded.value.simulation.steps);
    records.insert(records.end(), rest.begin(), rest.end());
    REQUIRE(run.moves().empty());  // the moves are in the saved schedule now
    return records;
}

bool same(const cli::LiveRecord& a, const cli::LiveRecord& b) {
    if (a.time != b.time || a.variables.size() != b.variables.size()) return false;
    for (std::size_t k = 0; k < a.variables.size(); ++k)
        if (a.variables[k].name != b.variables[k].name || a.variables[k].values != b.variables[k].values) {
            // NaN (a mean wage where nobody is) compares unequal to itself: compare bit patterns.
            const auto* x = std::get_if<std::vector<double>>(&a.variables[k].values);
            const auto* y = std::get_if<std::vector<double>>(&b.variables[k].values);
            if (!x || !y || x->size() != y->size()) return false;
            for (std::size_t i = 0; i < x->size(); ++i)
                if (!((*x)[i] == (*y)[i] || (std::isnan((*x)[i]) && std::isnan((*y)[i])))) return false;
        }
    return true;
}

// A live run and every record it returned, as the page receives them.
struct Played {
    cli::LiveRun run;
    std::vector<cli::LiveRecord> live;
    Played(const scenario::Loaded<models::Scenario>& loaded, const std::string& file, std::int64_t seed,
           const std::vector<std::string>& variables)
        : run(loaded, file, seed, variables), live{run.record()} {}
    void more(std::int64_t steps) {
        const auto records = run.advance(steps);
        live.insert(live.end(), records.begin(), records.end());
    }
    // The saved scenario, run again, gives every record of the live run.
    void require_replayed(const std::vector<std::string>& variables) const {
        const auto replayed = replay(run.saved_scenario("2026-01-01T00:00:00Z"), variables);
        REQUIRE(replayed.size() == live.size());
        for (std::size_t t = 0; t < live.size(); ++t) {
            INFO("step " << t);
            REQUIRE(same(live[t], replayed[t]));
        }
    }
};

}  // namespace

TEST_CASE("live run: the saved scenario replays the live run with its control moves, every variable", "[serve]") {
    const auto loaded = models::load_scenario(teaching());
    const auto variables = every_series();
    Played played(loaded, teaching(), 11, variables);
    auto& run = played.run;
    const auto& live = played.live;
    auto more = [&](std::int64_t n) { played.more(n); };
    more(24);
    run.set_control("cities.harbour.labour.productivity", 1.2);
    run.set_control("cities.harbour.labour.productivity", 1.3);  // the same step: replaces the move
    CHECK(run.moves().size() == 1);
    CHECK(run.control_values().at("cities.harbour.labour.productivity") == 1.3);
    more(6);
    run.set_control("policies.harbour_housing_subsidy.rent_share", 0.25);
    more(10);
    run.set_control("cities.harbour.labour.productivity", 1.0);  // back to the scenario's: the move ends
    more(200);  // to the end, no further
    CHECK(run.steps_done() == 120);
    REQUIRE(live.size() == 121);
    const auto& moves = run.moves();
    REQUIRE(moves.size() == 2);
    CHECK(moves[0].key == "cities.harbour.labour.productivity");
    CHECK(moves[0].start_step == 25);
    CHECK(moves[0].end_step == 41);
    CHECK(moves[1].start_step == 31);

    const auto saved = run.saved_scenario("2026-01-01T00:00:00Z");
    CHECK_THAT(saved, Catch::StartsWith("# Saved by citysim serve") && Catch::Contains("seed 11") &&
                          Catch::Contains("2 control moves"));
    played.require_replayed(variables);
    // Without the moves (or with another seed) the run differs.
    cli::LiveRun plain(loaded, teaching(), 11, variables);
    plain.advance(40);
    CHECK_FALSE(same(plain.record(), live[40]));
    CHECK(same(cli::LiveRun(loaded, teaching(), 11, variables).record(), live[0]));
}

TEST_CASE("live run: moves outside a control's range, to no control, or after the end are refused", "[serve]") {
    const auto two = models::load_scenario(teaching());
    cli::LiveRun run(two, teaching(), 7, {"talent"});
    CHECK_THROWS_WITH(run.set_control("cities.harbour.labour.productivity", 9),
                      Catch::Contains("must be in [0.8, 1.5], not 9"));
    CHECK_THROWS_WITH(run.set_control("talent.persons", 1), Catch::Contains("no control 'talent.persons'"));
    CHECK_THROWS_WITH(run.set_control("cities.harbour.labour.productivity", std::nan("")), Catch::Contains("finite"));
    CHECK(run.moves().empty());

    const auto founders = models::load_scenario(std::string(CITYSIM_SOURCE_DIR) + "/scenarios/teaching-rent-and-founders.yaml");
    cli::LiveRun switched(founders, "founders.yaml", 7, {"talent"});
    CHECK_THROWS_WITH(switched.set_control("policies.harbour_housing_subsidy.rent_share", 0.1),
                      Catch::Contains("is a switch"));
    switched.set_control("policies.harbour_housing_subsidy.rent_share", 0.3);
    CHECK(switched.control_values().at("policies.harbour_housing_subsidy.rent_share") == 0.3);

    run.advance(120);
    CHECK_THROWS_WITH(run.set_control("cities.harbour.labour.productivity", 1.1), Catch::Contains("the run is over"));
}

TEST_CASE("live run: a saved founding scenario replays every control moved mid-run", "[serve]") {
    // Founding and start-ups on: each move changes who founds, which firms hire and which fail, so
    // every piece of model state that a scheduled change reloads must match the live change.
    const auto path = std::string(CITYSIM_SOURCE_DIR) + "/scenarios/teaching-rent-and-founders.yaml";
    const auto loaded = models::load_scenario(path);
    const auto variables = every_series();
    Played played(loaded, path, 7, variables);
    played.more(30);
    played.run.set_control("policies.harbour_startup_rent_subsidy.rent_share", 0.25);
    played.more(18);
    played.run.set_control("policies.harbour_housing_subsidy.rent_share", 0.3);
    played.more(12);
    played.run.set_control("mechanisms.founding.location_cost_weight", 4.5);
    played.run.set_control("cities.harbour.housing.residential_land_share", 0.04);
    played.more(200);
    REQUIRE(played.run.moves().size() == 4);
    played.require_replayed(variables);
}
