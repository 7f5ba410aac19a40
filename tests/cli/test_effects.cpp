#include "cli/effects.hpp"
#include "models/recording.hpp"

#include <catch2/catch.hpp>

#include <map>

using namespace citysim;

namespace {

cli::Quantity describe(const std::string& name) {
    for (const auto& v : models::output_variables())
        if (v.name == name) {
            output::VariableSpec spec;
            spec.name = v.name;
            spec.dims = v.dims;
            spec.units = v.units;
            spec.long_name = v.long_name;
            spec.description = v.description;
            return cli::describe_quantity(spec, 12.0);
        }
    FAIL("no variable " << name);
    return {};
}

}  // namespace

TEST_CASE("effects: every variable the model records is a flow, a stock or left out with a reason",
          "[cli][effects]") {
    using Kind = cli::Quantity::Kind;
    // Flows add up over steps (events and amounts during a step), stocks are read at one step.
    const std::map<std::string, Kind> known = {
        {"talent", Kind::stock},          {"arrivals", Kind::flow},      {"breakthroughs", Kind::flow},
        {"births", Kind::flow},           {"founders", Kind::stock},     {"startups", Kind::stock},
        {"rent", Kind::stock},            {"mean_wage", Kind::stock},    {"fiscal_cost", Kind::flow},
        {"vc_dry_powder", Kind::stock},   {"residents", Kind::stock},    {"policy_payout_share", Kind::not_shown},
        {"migration", Kind::not_shown},   {"amenity", Kind::not_shown},  {"employment", Kind::stock},
    };
    for (const auto& [name, kind] : known) {
        INFO(name);
        CHECK(describe(name).kind == kind);
    }
    // mean_wage says "during the step" in its description, not its name: an average, not a flow.
    CHECK_FALSE(describe("mean_wage").additive);
    CHECK(describe("talent").unit == "persons");
    CHECK(describe("talent").scale == 12.0);
    CHECK(describe("startups").unit == "firms");
    CHECK(describe("startups").scale == 1.0);  // start-ups are counted in firms, not firm agents
    CHECK(describe("births").additive);
    CHECK(describe("fiscal_cost").additive);
    CHECK(describe("fiscal_cost").scale == 1.0);
    for (const auto& v : models::output_variables()) {
        INFO(v.name);
        const auto q = describe(v.name);
        CHECK((q.kind != Kind::not_shown || !q.why_not.empty()));
    }
}
