#include "engine/sweep/plan.hpp"

#include "engine/scenario/input.hpp"

#include <cmath>
#include <cstdio>
#include <map>
#include <stdexcept>

namespace citysim::sweep {

namespace sc = citysim::scenario;

const std::vector<std::string>& design_kind_names() {
    static const std::vector<std::string> names = {"grid", "random", "latin_hypercube", "saltelli"};
    return names;
}

DesignKind design_kind(const std::string& name) {
    if (name == "grid") return DesignKind::grid;
    if (name == "random") return DesignKind::random;
    if (name == "latin_hypercube") return DesignKind::latin_hypercube;
    if (name == "saltelli") return DesignKind::saltelli;
    throw std::invalid_argument("unknown design '" + name + "'");
}

const sc::Record<SweepSpec>& sweep_schema() {
    static const auto schema = [] {
        sc::Record<ParameterSpec> parameter("A varied scenario parameter");
        parameter.text("key", &ParameterSpec::key, "scenario key path, as for --set (e.g. mechanisms.migration.income_weight)",
                       std::nullopt);
        parameter.text_list("values", &ParameterSpec::values,
                            "the values to use (any design); leave out to give a range instead",
                            std::vector<std::string>{});
        parameter.real("min", &ParameterSpec::min, "the key's unit", "lower end of the range", 0.0);
        parameter.real("max", &ParameterSpec::max, "the key's unit", "upper end of the range", 0.0);
        parameter.choice("scale", &ParameterSpec::scale, {"linear", "log"},
                         "spacing of the range (log needs min > 0)", "linear");
        parameter.integer("levels", &ParameterSpec::levels, "values",
                          "values across the range for a grid design (at least 2)", 0, sc::Range::closed(0, 1e9));

        sc::Record<DesignSpec> design("How parameter values are chosen");
        design.choice("kind", &DesignSpec::kind, design_kind_names(),
                      "grid: every combination; random: uniform; latin_hypercube: stratified; saltelli: "
                      "the Sobol-sequence scheme for first- and total-order sensitivity indices",
                      "grid");
        design.integer("samples", &DesignSpec::samples, "points",
                       "points for random and latin_hypercube; base rows N for saltelli (N (k + 2) points for "
                       "k parameters); unused by grid",
                       0, sc::Range::closed(0, 1e9));

        sc::Record<ArmSpec> arm("An arm: overrides applied on top of each point (e.g. a policy)");
        arm.text_list("set", &ArmSpec::set, "key.path=value overrides of this arm", std::vector<std::string>{});

        sc::Record<SweepSpec> r("A citysim sweep");
        r.text("description", &SweepSpec::description, "what the sweep asks", "");
        r.text("base", &SweepSpec::base, "the base scenario file, relative to the sweep file", std::nullopt);
        r.integer("seed", &SweepSpec::seed, "1", "sweep seed: every run's random streams derive from it (0 to 2^53 - 1)", 1,
                  sc::Range::closed(0, 9007199254740991.0));
        r.integer("replicates", &SweepSpec::replicates, "runs", "runs per point and arm, with different random numbers",
                  1, sc::Range::closed(1, 1e9));
        r.record("design", &SweepSpec::design, design);
        r.list("parameters", &SweepSpec::parameters, parameter, "the varied parameters", {},
               std::vector<ParameterSpec>{});
        r.text_list("set", &SweepSpec::set, "key.path=value overrides applied to every run (e.g. simulation.steps=60)",
                    std::vector<std::string>{});
        r.named("arms", &SweepSpec::arms, arm, "arm",
                "arms run at every point and replicate with the same random numbers; the first is the reference "
                "for paired differences",
                0);
        r.choice("keep", &SweepSpec::keep, {"series", "final"},
                 "series: every step of every run; final: the starting state and the last step only", "series");
        r.integer("from_checkpoint", &SweepSpec::from_checkpoint, "steps",
                  "0: every run from step 0; K: the first arm runs once per point and replicate, and the other arms "
                  "start from its state after step K (they may differ from it only in policies and scheduled changes "
                  "that start after step K)",
                  0, sc::Range::closed(0, 1e7));
        return r;
    }();
    return schema;
}

double planned_runs(const SweepSpec& spec) {
    double points = 1;
    if (spec.design.kind == "grid") {
        for (const auto& p : spec.parameters)
            points *= p.values.empty() ? static_cast<double>(std::max<std::int64_t>(p.levels, 1))
                                       : static_cast<double>(p.values.size());
    } else if (spec.design.kind == "saltelli") {
        points = static_cast<double>(spec.design.samples) * static_cast<double>(spec.parameters.size() + 2);
    } else {
        points = static_cast<double>(spec.design.samples);
    }
    return points * static_cast<double>(spec.replicates) * static_cast<double>(std::max<std::size_t>(spec.arms.size(), 1));
}

namespace {

// The key of a key.path=value override ("" when there is no '=').
std::string override_key(const std::string& text) {
    const auto eq = text.find('=');
    return eq == std::string::npos ? std::string() : text.substr(0, eq);
}

bool sets_seed(const std::string& key) { return key == "simulation.seed" || key == "simulation.run"; }

const char* seed_advice =
    " is set by the sweep for every run (simulation.seed from the sweep's seed:, simulation.run from the point "
    "and replicate); change the sweep's seed:, or add replicates, instead";

std::string count_text(double x) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.0f", x);
    std::string digits = buffer;
    std::string out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

}  // namespace

void check_sweep(sc::Loaded<SweepSpec>& loaded, const std::filesystem::path& sweep_file) {
    const SweepSpec& s = loaded.value;
    const auto& source = loaded.source;
    const bool grid = s.design.kind == "grid";
    std::map<std::string, std::size_t> first_index;
    for (std::size_t i = 0; i < s.parameters.size(); ++i) {
        const std::string path = "parameters." + std::to_string(i) + ".key";
        if (source.has_errors_under(path)) continue;
        const std::string& key = s.parameters[i].key;
        if (sets_seed(key)) {
            loaded.error(path, key + seed_advice);
            continue;
        }
        if (key.find('/') != std::string::npos)
            loaded.error(path, "'" + key + "' contains '/', which cannot name a variable of sweep.h5; rename the "
                               "city or field it names");
        const auto [it, inserted] = first_index.emplace(key, i);
        if (!inserted)
            loaded.error(path, "'" + key + "' is varied twice (first by parameters." + std::to_string(it->second) +
                                   "); vary each key once (give all its values in one parameter)");
    }
    for (std::size_t i = 0; i < s.set.size(); ++i)
        if (sets_seed(override_key(s.set[i]))) loaded.error("set." + std::to_string(i), override_key(s.set[i]) + seed_advice);
    for (const auto& arm : s.arms)
        for (std::size_t i = 0; i < arm.value.set.size(); ++i)
            if (sets_seed(override_key(arm.value.set[i])))
                loaded.error("arms." + arm.name + ".set." + std::to_string(i), override_key(arm.value.set[i]) + seed_advice);
    for (std::size_t i = 0; i < s.parameters.size(); ++i) {
        const auto& p = s.parameters[i];
        const std::string path = "parameters." + std::to_string(i);
        if (source.has_errors_under(path)) continue;
        if (!p.values.empty()) {
            if (source.has(path + ".min") || source.has(path + ".max") || source.has(path + ".levels"))
                loaded.error(path, "give either values or a range (min, max), not both");
            continue;
        }
        if (!(p.min < p.max))
            loaded.error(path, "a range needs min < max (or give values: [...])");
        else if (p.scale == "log" && !(p.min > 0))
            loaded.error(path + ".min", "a log-scale range needs min > 0");
        if (grid && p.levels < 2)
            loaded.error(path, "a grid over a range needs levels: N (N >= 2), or values: [...]");
    }
    if (!source.has_errors_under("design") && !grid && s.design.samples < 1)
        loaded.error("design", "design " + s.design.kind + " needs samples: N (N >= 1)");
    if (!source.has_errors_under("design") && s.design.kind == "saltelli" && s.parameters.empty())
        loaded.error("parameters", "a saltelli design needs at least one parameter");
    if (s.from_checkpoint > 0 && s.arms.size() < 2)
        loaded.error("from_checkpoint", "from_checkpoint forks the other arms from the first arm's state: it needs two "
                                        "arms or more");
    if (!source.has_errors_under("base")) {
        const auto base = sweep_file.parent_path() / s.base;
        const auto allowed = sc::AllowedFolders::for_file(sweep_file);
        if (s.base.empty())
            loaded.error("base", "no base scenario; give the scenario file the sweep varies (relative to the sweep file)");
        else if (!allowed.contains(base))
            loaded.error("base", "'" + s.base + "' (" + base.string() + ") is outside the folders a sweep may read: " +
                                     allowed.describe() + "; move it there, or allow its folder with --allow-path");
        else if (!std::filesystem::is_regular_file(base))
            loaded.error("base", "no scenario file at " + base.string() + " (the path is relative to the sweep file)");
    }
    const bool countable = !source.has_errors_under("design") && !source.has_errors_under("parameters") &&
                           !source.has_errors_under("replicates") && !source.has_errors_under("arms");
    if (countable) {
        const double runs = planned_runs(s);
        if (runs > max_runs) {
            const double points = runs / static_cast<double>(s.replicates) /
                                  static_cast<double>(std::max<std::size_t>(s.arms.size(), 1));
            loaded.error(s.design.kind == "grid" || source.has("design") ? "design" : "replicates",
                         "the sweep has " + count_text(runs) + " runs (" + count_text(points) + " points x " +
                             count_text(static_cast<double>(s.replicates)) + " replicates x " +
                             count_text(static_cast<double>(std::max<std::size_t>(s.arms.size(), 1))) +
                             " arms); a sweep may have at most " + count_text(max_runs) +
                             ": split the study into several sweeps");
        }
    }
}

Plan make_plan(const SweepSpec& spec, const std::filesystem::path& sweep_file) {
    Plan plan;
    plan.base_scenario = sweep_file.parent_path() / spec.base;
    for (const auto& p : spec.parameters) {
        Dimension d;
        d.key = p.key;
        d.values = p.values;
        d.min = p.min;
        d.max = p.max;
        d.log_scale = p.scale == "log";
        d.levels = p.levels;
        plan.dimensions.push_back(std::move(d));
    }
    plan.design = make_design(design_kind(spec.design.kind), plan.dimensions, spec.design.samples,
                              static_cast<std::uint64_t>(spec.seed));
    for (const auto& arm : spec.arms) plan.arm_names.push_back(arm.name);
    if (plan.arm_names.empty()) plan.arm_names.push_back("base");

    const std::size_t replicates = static_cast<std::size_t>(spec.replicates);
    const std::size_t arms = plan.arm_names.size();
    const std::size_t total = plan.points() * replicates * arms;
    if (plan.points() * replicates > std::size_t{0xFFFFFFFFu})
        throw std::invalid_argument("points x replicates exceeds the 2^32 stream run numbers");
    plan.runs.reserve(total);
    for (std::size_t p = 0; p < plan.points(); ++p)
        for (std::size_t q = 0; q < replicates; ++q)
            for (std::size_t a = 0; a < arms; ++a) {
                Run run;
                run.index = plan.runs.size();
                run.point = p;
                run.replicate = q;
                run.arm = a;
                run.stream_run = static_cast<std::uint32_t>(p * replicates + q);
                run.overrides = spec.set;
                for (std::size_t d = 0; d < plan.dimensions.size(); ++d)
                    run.overrides.push_back(plan.dimensions[d].key + "=" +
                                            plan.dimensions[d].value_at(plan.design.units[p][d]));
                if (!spec.arms.empty())
                    run.overrides.insert(run.overrides.end(), spec.arms[a].value.set.begin(), spec.arms[a].value.set.end());
                run.overrides.push_back("simulation.seed=" + std::to_string(spec.seed));
                run.overrides.push_back("simulation.run=" + std::to_string(run.stream_run));
                plan.runs.push_back(std::move(run));
            }
    return plan;
}

}  // namespace citysim::sweep
