#include "models/fork.hpp"

#include <yaml-cpp/yaml.h>

#include <set>
#include <vector>

namespace citysim::models {

namespace {

std::string shown(const YAML::Node& node) {
    if (!node.IsDefined() || node.IsNull()) return "absent";
    YAML::Emitter out;
    out << YAML::Flow << node;
    std::string text = out.c_str();
    return text.size() > 80 ? text.substr(0, 77) + "..." : text;
}

struct Difference {
    std::string path;  // "" when none
    YAML::Node a, b;
    bool empty() const { return path.empty(); }
};

// The first key path under `path` where the two nodes differ, with both values.
Difference first_difference(const YAML::Node& a, const YAML::Node& b, const std::string& path,
                            const std::set<std::string>& ignored) {
    if (ignored.count(path)) return {};
    // A key on one side only (a missing key is an invalid node, whose type cannot be asked).
    if (!a.IsDefined() || !b.IsDefined()) return a.IsDefined() == b.IsDefined() ? Difference{} : Difference{path, a, b};
    const bool a_map = a.IsMap(), b_map = b.IsMap();
    if (a_map && b_map) {
        std::vector<std::string> keys;
        for (const auto& kv : a) keys.push_back(kv.first.as<std::string>());
        for (const auto& kv : b)
            if (!a[kv.first.as<std::string>()]) keys.push_back(kv.first.as<std::string>());
        for (const auto& key : keys) {
            const std::string sub = path.empty() ? key : path + "." + key;
            if (auto d = first_difference(a[key], b[key], sub, ignored); !d.empty()) return d;
        }
        return {};
    }
    if (a.IsSequence() && b.IsSequence() && a.size() == b.size()) {
        for (std::size_t i = 0; i < a.size(); ++i)
            if (auto d = first_difference(a[i], b[i], path + "." + std::to_string(i), ignored); !d.empty()) return d;
        return {};
    }
    if (a.IsScalar() && b.IsScalar() && a.Scalar() == b.Scalar()) return {};
    return {path, a, b};
}

std::int64_t step_key(const YAML::Node& node, const char* key) {
    return node[key] ? node[key].as<std::int64_t>() : 0;
}

std::string step_range(std::int64_t step) {
    return step >= 1 ? "steps 1-" + std::to_string(step) : "no step";
}

// Policies in force in steps 1..step must be equal; later ones are free.
std::string policy_difference(const YAML::Node& base, const YAML::Node& fork, std::int64_t step) {
    const std::string why = ": a fork from the checkpoint after step " + std::to_string(step) + " shares " +
                            step_range(step) + " with its baseline, so only policies that start at step " +
                            std::to_string(step + 1) + " or later may differ (fork from an earlier checkpoint, or run "
                            "the policy from step 0)";
    auto early = [&](const YAML::Node& p) { return step_key(p, "start_step") <= step; };
    auto ends_after = [&](const YAML::Node& p) {
        const auto end = step_key(p, "end_step");
        return end == 0 || end > step;
    };
    std::set<std::string> names;
    for (const auto* side : {&base, &fork})
        if (side->IsMap())
            for (const auto& kv : *side) names.insert(kv.first.as<std::string>());
    for (const auto& name : names) {
        const YAML::Node b = base.IsMap() ? base[name] : YAML::Node();
        const YAML::Node f = fork.IsMap() ? fork[name] : YAML::Node();
        const std::string path = "policies." + name;
        if (b && f) {
            if (!early(b) && !early(f)) continue;
            if (step_key(b, "start_step") != step_key(f, "start_step"))
                return path + " starts at step " + std::to_string(step_key(f, "start_step")) + " here and at step " +
                       std::to_string(step_key(b, "start_step")) + " in the baseline" + why;
            const std::set<std::string> free_end = ends_after(b) && ends_after(f) ? std::set<std::string>{path + ".end_step"}
                                                                                : std::set<std::string>{};
            if (auto d = first_difference(b, f, path, free_end); !d.empty())
                return d.path + " is " + shown(d.b) + " here and " + shown(d.a) +
                       " in the baseline, and the policy is in force before the fork" + why;
        } else if (b && early(b)) {
            return path + " (from step " + std::to_string(step_key(b, "start_step")) + ") is in the baseline, not here" + why;
        } else if (f && early(f)) {
            return path + " starts at step " + std::to_string(step_key(f, "start_step")) + why;
        }
    }
    return "";
}

std::string schedule_difference(const YAML::Node& base, const YAML::Node& fork, std::int64_t step) {
    auto early = [&](const YAML::Node& list) {
        std::vector<YAML::Node> out;
        if (list.IsSequence())
            for (const auto& entry : list)
                if (step_key(entry, "start_step") <= step) out.push_back(entry);
        return out;
    };
    const auto b = early(base), f = early(fork);
    const std::string why = ": a fork from the checkpoint after step " + std::to_string(step) +
                            " may differ only in scheduled changes that start at step " + std::to_string(step + 1) + " or later";
    if (b.size() != f.size())
        return "schedule has " + std::to_string(f.size()) + " change(s) starting by step " + std::to_string(step) +
               " here and " + std::to_string(b.size()) + " in the baseline" + why;
    for (std::size_t i = 0; i < b.size(); ++i)
        if (auto d = first_difference(b[i], f[i], "schedule", {}); !d.empty())
            return "the scheduled change of " + shown(f[i]["key"]) + " from step " + std::to_string(step_key(f[i], "start_step")) +
                   " differs from the baseline's" + why;
    return "";
}

YAML::Node parse(const std::string& text) {
    try {
        return YAML::Load(text);
    } catch (const YAML::Exception&) {
        return YAML::Node(YAML::NodeType::Undefined);
    }
}

}  // namespace

std::string fork_incompatibility(const std::string& base_text, const std::string& fork_text, std::int64_t step) {
    const YAML::Node base = parse(base_text), fork = parse(fork_text);
    if (!base.IsMap() || !fork.IsMap()) return "a scenario could not be read back";
    const std::set<std::string> free = {"description", "output", "policies", "schedule", "simulation.threads", "simulation.steps"};
    if (auto d = first_difference(base, fork, "", free); !d.empty()) {
        return d.path + " is " + shown(d.b) + " here and " + shown(d.a) + " in the baseline: a fork may differ from its baseline only "
                   "in policies and scheduled changes that start after the checkpoint's step (" + std::to_string(step) +
                   "), in output settings, threads and steps";
    }
    const auto steps = step_key(fork["simulation"], "steps");
    if (steps <= step)
        return "simulation.steps is " + std::to_string(steps) + ": nothing is left to simulate after the checkpoint's step " +
               std::to_string(step);
    if (auto d = policy_difference(base["policies"], fork["policies"], step); !d.empty()) return d;
    return schedule_difference(base["schedule"], fork["schedule"], step);
}

std::string resume_incompatibility(const std::string& base_text, const std::string& other_text) {
    const YAML::Node base = parse(base_text), other = parse(other_text);
    if (!base.IsMap() || !other.IsMap()) return "a scenario could not be read back";
    const auto d = first_difference(base, other, "", {"simulation.threads", "output.path"});
    if (d.empty()) return "";
    return d.path + " is " + shown(d.b) + " here and " + shown(d.a) + " in the checkpoint: it differs from the scenario the checkpoint was written for: a run resumes only with the scenario it "
               "started with (threads and output path aside)";
}

}  // namespace citysim::models
