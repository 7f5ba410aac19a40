// Checkpoints of the whole model: a model restored from the state after step K is, entry by entry,
// the model that never stopped, and stays so step after step, at any thread count (the comparison is
// generic: every mechanism's saved state, every column of every table); a warm fork of a policy from a
// baseline's state equals the policy run from step 0; and the scenario checks of models/fork.hpp.
#include "engine/checkpoint/archive.hpp"
#include "engine/checkpoint/file.hpp"
#include "engine/parallel.hpp"
#include "models/city_model.hpp"
#include "models/fork.hpp"

#include <catch2/catch.hpp>

#include <filesystem>

using namespace citysim;

namespace {

std::string source(const std::string& relative) { return std::string(CITYSIM_SOURCE_DIR) + "/" + relative; }

scenario::Loaded<models::Scenario> everything(std::vector<std::string> overrides = {}) {
    return models::load_scenario(source("tests/data/checkpoint-everything.yaml"), overrides);
}

checkpoint::MemoryArchive saved(models::CityModel& model) {
    checkpoint::MemoryArchive archive;
    model.save_or_restore(archive);
    return archive;
}

void step_to(models::CityModel& model, std::int64_t step) {
    while (model.steps_done() < step) model.step();
}

void require_same_state(models::CityModel& a, models::CityModel& b) {
    const auto x = saved(a), y = saved(b);
    INFO("after step " << a.steps_done());
    REQUIRE(checkpoint::MemoryArchive::first_difference(x, y) == "");
}

}  // namespace

TEST_CASE("checkpoint: a restored model is the uninterrupted one, entry by entry, step after step", "[checkpoint]") {
    const auto loaded = everything();
    // 12: before any scheduled change; 30: in the middle of Shenzhen's demand surge, with every
    // change in force (the reconsider rate reschedules every agent when it changes); 40: after the
    // surge ended (rents falling, expected rent growth negative).
    for (const std::int64_t k : {12, 30, 40}) {
        models::CityModel uninterrupted(loaded.value);
        step_to(uninterrupted, k);
        const auto state = saved(uninterrupted);

        models::CityModel restored(loaded.value);
        auto reading = checkpoint::MemoryArchive::reading(state);
        restored.save_or_restore(reading);
        REQUIRE(restored.steps_done() == k);
        require_same_state(uninterrupted, restored);

        // On at another thread count: the same state after every step.
        const engine::ThreadLimit one_thread(1);
        for (int s = 0; s < 14; ++s) {
            uninterrupted.step();
            restored.step();
            require_same_state(uninterrupted, restored);
        }
        CHECK(restored.counters().agent_steps == uninterrupted.counters().agent_steps);
    }
}

TEST_CASE("checkpoint: through a checkpoint file, and refused under another scenario's axes", "[checkpoint]") {
    const auto loaded = everything();
    const auto dir = std::filesystem::temp_directory_path() / "citysim-test-model-checkpoint";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    const auto path = checkpoint::checkpoint_path(dir / "run.h5", 20);
    models::CityModel uninterrupted(loaded.value);
    step_to(uninterrupted, 20);
    {
        checkpoint::FileWriter writer(path, 20);
        uninterrupted.save_or_restore(writer);
        writer.commit();
    }
    models::CityModel restored(loaded.value);
    {
        checkpoint::FileReader reader(path);
        restored.save_or_restore(reader);
    }
    require_same_state(uninterrupted, restored);
    for (int s = 0; s < 6; ++s) {
        uninterrupted.step();
        restored.step();
    }
    require_same_state(uninterrupted, restored);

    // A scenario with other fields cannot take this state.
    const auto fewer = models::load_scenario(source("scenarios/teaching-two-cities.yaml"));
    models::CityModel other(fewer.value);
    checkpoint::FileReader reader(path);
    CHECK_THROWS_AS(other.save_or_restore(reader), checkpoint::CheckpointError);
    std::filesystem::remove_all(dir);
}

TEST_CASE("fork: a policy started from the baseline's state equals the policy run from step 0", "[checkpoint]") {
    const std::vector<std::string> small = {"talent.agents=20000", "simulation.steps=40"};
    const auto base = models::load_scenario(source("scenarios/china-2025.yaml"), small);
    auto with_policy = small;
    with_policy.push_back("policies.shenzhen_talent_housing.start_step=21");
    const auto policy = models::load_scenario(source("scenarios/shenzhen-housing-subsidy.yaml"), with_policy);
    REQUIRE(models::fork_incompatibility(base.resolved_yaml, policy.resolved_yaml, 20) == "");

    models::CityModel baseline(base.value), from_zero(policy.value);
    step_to(baseline, 20);
    step_to(from_zero, 20);
    models::CityModel fork(policy.value);
    auto state = saved(baseline);
    auto reading = checkpoint::MemoryArchive::reading(state);
    fork.save_or_restore(reading);
    require_same_state(from_zero, fork);
    for (int s = 0; s < 20; ++s) {
        from_zero.step();
        fork.step();
        baseline.step();
    }
    require_same_state(from_zero, fork);
    // ... and the policy did something.
    CHECK(checkpoint::MemoryArchive::first_difference(saved(baseline), saved(fork)) != "");
}

TEST_CASE("fork: what may differ from the baseline after the checkpoint's step", "[checkpoint]") {
    const std::vector<std::string> small = {"talent.agents=2000"};
    const auto base = models::load_scenario(source("scenarios/china-2025.yaml"), small).resolved_yaml;
    auto subsidy = [&](std::vector<std::string> more) {
        more.insert(more.begin(), small.begin(), small.end());
        return models::load_scenario(source("scenarios/shenzhen-housing-subsidy.yaml"), more).resolved_yaml;
    };
    CHECK(models::fork_incompatibility(base, base, 60) == "");
    CHECK(models::fork_incompatibility(base, subsidy({"policies.shenzhen_talent_housing.start_step=61"}), 60) == "");
    CHECK_THAT(models::fork_incompatibility(base, subsidy({}), 60),
               Catch::StartsWith("policies.shenzhen_talent_housing starts at step 1: a fork from the checkpoint after "
                                 "step 60 shares steps 1-60 with its baseline"));
    CHECK_THAT(models::fork_incompatibility(base, subsidy({"policies.shenzhen_talent_housing.start_step=60"}), 60),
               Catch::StartsWith("policies.shenzhen_talent_housing starts at step 60"));
    // The same policy in both, in force before the fork: it may end at another step after it.
    const auto early = subsidy({});
    CHECK(models::fork_incompatibility(early, subsidy({"policies.shenzhen_talent_housing.end_step=100"}), 60) == "");
    CHECK_THAT(models::fork_incompatibility(early, subsidy({"policies.shenzhen_talent_housing.end_step=50"}), 60),
               Catch::StartsWith("policies.shenzhen_talent_housing.end_step is 50 here and 0 in the baseline"));
    CHECK_THAT(models::fork_incompatibility(early, subsidy({"policies.shenzhen_talent_housing.rent_share=0.2"}), 60),
               Catch::StartsWith("policies.shenzhen_talent_housing.rent_share is 0.2 here and 0.3 in the baseline"));
    CHECK_THAT(models::fork_incompatibility(early, base, 60),
               Catch::StartsWith("policies.shenzhen_talent_housing (from step 1) is in the baseline, not here"));
    // Anything else must be equal; output, threads and steps are free.
    auto china = [&](std::vector<std::string> more) {
        more.insert(more.begin(), small.begin(), small.end());
        return models::load_scenario(source("scenarios/china-2025.yaml"), more).resolved_yaml;
    };
    CHECK_THAT(models::fork_incompatibility(base, china({"mechanisms.migration.income_weight=5"}), 60),
               Catch::StartsWith("mechanisms.migration.income_weight is 5 here and 4 in the baseline"));
    CHECK_THAT(models::fork_incompatibility(base, china({"simulation.seed=7"}), 60), Catch::StartsWith("simulation.seed"));
    CHECK(models::fork_incompatibility(base, china({"simulation.threads=3", "simulation.steps=200", "output.path=x.h5"}), 60) == "");
    CHECK_THAT(models::fork_incompatibility(base, china({"simulation.steps=60"}), 60), Catch::Contains("nothing is left"));
    // Scheduled changes: those starting by the checkpoint's step must be the baseline's.
    const auto surge = models::load_scenario(source("scenarios/shenzhen-price-surge.yaml"), small).resolved_yaml;
    CHECK(models::fork_incompatibility(base, surge, 12) == "");
    CHECK_THAT(models::fork_incompatibility(base, surge, 13), Catch::StartsWith("schedule has 1 change(s) starting by step 13"));
    // Resuming: the same scenario, threads and output path aside.
    CHECK(models::resume_incompatibility(base, china({"simulation.threads=3", "output.path=x.h5"})) == "");
    CHECK_THAT(models::resume_incompatibility(base, china({"simulation.steps=200"})),
               Catch::StartsWith("simulation.steps is 200 here and 120 in the checkpoint"));
}
