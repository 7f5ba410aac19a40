#include "models/scenario.hpp"

#include "engine/city_graph.hpp"
#include "engine/scenario/suggest.hpp"
#include "engine/scheduler.hpp"
#include "models/recording.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <tuple>
#include <map>
#include <set>

namespace citysim::models {

namespace sc = citysim::scenario;

namespace {

const sc::Record<SimulationParams>& simulation_schema() {
    static const auto schema = [] {
        sc::Record<SimulationParams> r("How long and how the simulation runs");
        r.integer("steps", &SimulationParams::steps, "steps", "number of steps to simulate", 120,
                  sc::Range::closed(0, 100000));
        r.choice("step_unit", &SimulationParams::step_unit, engine::step_units(),
                 "length of one step; rates in the scenario are per year and are converted", "month");
        // Below 2^53 so that the seed recorded in output files (a float64 attribute) is exact.
        r.integer("seed", &SimulationParams::seed, "1", "seed of every random stream (0 to 2^53 - 1)", 1,
                  sc::Range::closed(0, 9007199254740991.0));
        r.integer("run", &SimulationParams::run, "1",
                  "run number inside a sweep (part of every stream key, so replicates differ)", 0,
                  sc::Range::closed(0, 4294967295.0));
        r.integer("threads", &SimulationParams::threads, "threads",
                  "worker threads; 0 = all cores. Never changes the results", 0, sc::Range::closed(0, 4096));
        return r;
    }();
    return schema;
}

const sc::Record<CityParams>& city_schema() {
    static const auto schema = [] {
        sc::Record<CityParams> r("A city");
        r.real("residents", &CityParams::residents, "persons",
               "resident population at the start, everyone included (docs/model.md, Households)", std::nullopt,
               sc::Range::positive());
        r.real("amenity", &CityParams::amenity, "utility",
               "value of living here beyond income and housing (climate, culture, tolerance), in the migration utility",
               0.0, sc::Range::closed(-100, 100));
        r.record("labour", &CityParams::labour, labour_city_schema());
        r.record("housing", &CityParams::housing, housing_city_schema());
        r.record("talent", &CityParams::talent, talent_city_schema());
        r.real("failure_tolerance", &CityParams::failure_tolerance, "1",
               "how readily the city forgives a failed venture (0 = stigma, 1 = none): raises founding and re-founding",
               0.5, sc::Range::unit_interval());
        r.record("universities", &CityParams::universities, university_city_schema());
        r.record("venture_capital", &CityParams::venture_capital, venture_capital_city_schema());
        r.named("incumbents", &CityParams::incumbents, incumbent_schema(), "incumbent",
                "large firms based in the city (none by default)", 0);
        return r;
    }();
    return schema;
}

const sc::Record<LinkParams>& link_schema() {
    static const auto schema = [] {
        sc::Record<LinkParams> r("A travel link between two cities (both directions)");
        r.text("from", &LinkParams::from, "a city", std::nullopt);
        r.text("to", &LinkParams::to, "another city", std::nullopt);
        r.real("hours", &LinkParams::hours, "hours", "fastest scheduled travel time", std::nullopt,
               sc::Range::above(0));
        return r;
    }();
    return schema;
}

const sc::Record<NetworkParams>& network_schema() {
    static const auto schema = [] {
        sc::Record<NetworkParams> r("Travel links between cities");
        r.list("links", &NetworkParams::links, link_schema(),
               "links as [from, to, hours] or {from, to, hours}; every city must be reachable from every other",
               {"from", "to", "hours"}, std::optional<std::vector<LinkParams>>(std::vector<LinkParams>{}));
        return r;
    }();
    return schema;
}

const sc::Record<MechanismParams>& mechanisms_schema() {
    static const auto schema = [] {
        sc::Record<MechanismParams> r("Mechanisms and their parameters");
        r.record("labour_market", &MechanismParams::labour_market, labour_market_schema());
        r.record("households", &MechanismParams::households, households_schema());
        r.record("housing", &MechanismParams::housing, housing_schema());
        r.record("migration", &MechanismParams::migration, migration_schema());
        r.record("savings", &MechanismParams::savings, savings_schema());
        r.record("demography", &MechanismParams::demography, demography_schema());
        r.record("founding", &MechanismParams::founding, founding_schema());
        r.record("startups", &MechanismParams::startups, startup_schema());
        r.record("incumbents", &MechanismParams::incumbents, incumbents_schema());
        r.record("universities", &MechanismParams::universities, universities_schema());
        r.record("venture_capital", &MechanismParams::venture_capital, venture_capital_schema());
        return r;
    }();
    return schema;
}

// Errors in file order (overrides, whose file is "--set", after the file's own).
void sort_by_position(std::vector<sc::Diagnostic>& diagnostics) {
    std::stable_sort(diagnostics.begin(), diagnostics.end(), [](const sc::Diagnostic& a, const sc::Diagnostic& b) {
        const bool a_set = a.mark.file == "--set", b_set = b.mark.file == "--set";
        if (a_set != b_set) return b_set;
        return std::tie(a.mark.line, a.mark.column) < std::tie(b.mark.line, b.mark.column);
    });
}

std::vector<std::string> variable_names() {
    std::vector<std::string> names;
    for (const auto& v : output_variables()) names.push_back(v.name);
    for (const auto& t : output_tables()) names.push_back(t.selector);
    return names;
}

const sc::Record<OutputParams>& output_schema() {
    static const auto schema = [] {
        sc::Record<OutputParams> r("What is written, and where");
        r.text("path", &OutputParams::path,
               "HDF5 file to write (relative to the working directory); written as PATH.incomplete until the run ends",
               "citysim-output.h5");
        r.integer("flush_every", &OutputParams::flush_every, "steps",
                  "steps buffered in memory between writes to disk", 12, sc::Range::closed(1, 100000));
        r.integer("deflate_level", &OutputParams::deflate_level, "1", "gzip level of the datasets (0 = none)", 4,
                  sc::Range::closed(0, 9));
        r.text_list("record", &OutputParams::record,
                    "output variables to write (see docs/output-reference.md); empty = all", std::vector<std::string>{});
        return r;
    }();
    return schema;
}

}  // namespace

const sc::Record<Scenario>& scenario_schema() {
    static const auto schema = [] {
        sc::Record<Scenario> r("A citysim scenario");
        r.text("description", &Scenario::description, "the question the scenario answers and where its numbers come from",
               "");
        r.record("simulation", &Scenario::simulation, simulation_schema());
        r.named("fields", &Scenario::fields, field_schema(), "field", "fields of skilled work (hardware, software, ...)");
        r.named("cities", &Scenario::cities, city_schema(), "city", "the cities that compete for talent");
        r.record("network", &Scenario::network, network_schema());
        r.record("talent", &Scenario::talent, talent_schema());
        r.record("mechanisms", &Scenario::mechanisms, mechanisms_schema());
        r.named("policies", &Scenario::policies, policy_schema(), "policy",
                "what the cities do: each policy one instrument of one city (none by default)", 0);
        r.list("schedule", &Scenario::schedule, scheduled_change_schema(),
               "numbers that take another value for a while (shocks, phased programmes; docs/model.md, Schedule)", {},
               std::vector<ScheduledChange>{});
        r.record("output", &Scenario::output, output_schema());
        return r;
    }();
    return schema;
}

std::vector<std::string> city_names(const Scenario& scenario) {
    std::vector<std::string> names;
    for (const auto& c : scenario.cities) names.push_back(c.name);
    return names;
}

std::vector<std::string> field_names(const Scenario& scenario) {
    std::vector<std::string> names;
    for (const auto& f : scenario.fields) names.push_back(f.name);
    return names;
}

void check_scenario(sc::Loaded<Scenario>& loaded) {
    const Scenario& s = loaded.value;
    const auto cities = city_names(s);
    const auto fields = field_names(s);
    const auto& source = loaded.source;
    constexpr double share_tolerance = 1e-6;

    if (cities.size() > max_cities) loaded.error("cities", "at most " + std::to_string(max_cities) + " cities");
    if (fields.size() > max_fields) loaded.error("fields", "at most " + std::to_string(max_fields) + " fields");

    for (const auto& c : s.cities) {
        const std::string base = "cities." + c.name;
        // The field mix names exactly the scenario's fields and sums to 1.
        const std::string mix_path = base + ".talent.field_mix";
        if (!source.has_errors_under(mix_path)) {
            std::set<std::string> seen;
            double total = 0.0;
            for (const auto& entry : c.value.talent.field_mix) {
                seen.insert(entry.name);
                total += entry.value;
                if (std::find(fields.begin(), fields.end(), entry.name) == fields.end())
                    loaded.error(mix_path + "." + entry.name,
                                 "'" + entry.name + "' is not one of the fields declared under `fields`" +
                                     sc::did_you_mean(entry.name, fields));
            }
            for (const auto& f : fields)
                if (!seen.count(f)) loaded.error(mix_path, "missing the share of field '" + f + "' (write 0 if none)");
            if (std::abs(total - 1.0) > share_tolerance) {
                char buf[160];
                std::snprintf(buf, sizeof buf, "field shares sum to %.9g, expected 1", total);
                loaded.error(mix_path, buf);
            }
        }
        // Per-field maps of the ecosystem name declared fields; incumbents and university staff
        // employ no more talent than the city has in the field.
        std::map<std::string, double> employed;
        auto check_field_map = [&](const std::string& path, const std::vector<sc::Named<double>>& entries) {
            if (source.has_errors_under(path)) return;
            for (const auto& entry : entries)
                if (std::find(fields.begin(), fields.end(), entry.name) == fields.end())
                    loaded.error(path + "." + entry.name, "'" + entry.name +
                                                              "' is not one of the fields declared under `fields`" +
                                                              sc::did_you_mean(entry.name, fields));
        };
        check_field_map(base + ".universities.graduates_per_year", c.value.universities.graduates_per_year);
        check_field_map(base + ".universities.staff", c.value.universities.staff);
        for (const auto& e : c.value.universities.staff) employed[e.name] += e.value;
        for (const auto& inc : c.value.incumbents) {
            check_field_map(base + ".incumbents." + inc.name + ".employees", inc.value.employees);
            for (const auto& e : inc.value.employees) employed[e.name] += e.value;
        }
        if (!source.has_errors_under(base))
            for (const auto& [field, persons] : employed) {
                double share = 0.0;
                for (const auto& m : c.value.talent.field_mix)
                    if (m.name == field) share = m.value;
                const double talent_here = s.talent.persons * c.value.talent.share * share;
                if (persons > talent_here * (1 + 1e-9)) {
                    char buf[300];
                    std::snprintf(buf, sizeof buf,
                                  "incumbents and university staff employ %.6g %s persons, more than the %.6g the "
                                  "city has at the start (talent.persons x share x field_mix)",
                                  persons, field.c_str(), talent_here);
                    loaded.error(base + ".incumbents", buf);
                }
            }
        // The households of talent and of the local-service jobs it brings cannot exceed the city's residents.
        const auto& hh = s.mechanisms.households;
        const double talent_residents =
            s.talent.persons * c.value.talent.share * hh.residents_per_worker * (1.0 + hh.local_jobs_per_talent);
        if (!source.has_errors_under(base) && !source.has_errors_under("mechanisms.households") &&
            talent_residents > c.value.residents * (1 + 1e-9)) {
            char buf[420];
            std::snprintf(buf, sizeof buf,
                          "residents (%.6g) fewer than the households of the talent living here and of the local-service "
                          "jobs it brings (talent.persons x share x residents_per_worker x (1 + local_jobs_per_talent) = "
                          "%.6g); residents count everyone: raise residents or lower "
                          "mechanisms.households.local_jobs_per_talent or residents_per_worker",
                          c.value.residents, talent_residents);
            loaded.error(base + ".residents", buf);
        }
        // The starting housing stock must fit on the city's residential land.
        const auto& h = c.value.housing;
        const double capacity = h.land_area_km2 * 1e6 * h.residential_land_share * h.max_floor_area_ratio;
        const double stock = c.value.residents * h.floor_space_per_person;
        if (!source.has_errors_under(base) && stock > capacity) {
            char buf[320];
            std::snprintf(buf, sizeof buf,
                          "the starting housing stock (residents x floor_space_per_person = %.4g m2) exceeds the land "
                          "capacity (land_area_km2 x 1e6 x residential_land_share x max_floor_area_ratio = %.4g m2); "
                          "raise residential_land_share or max_floor_area_ratio",
                          stock, capacity);
            loaded.error(base + ".housing", buf);
        }
    }

    // Talent shares over cities (after the per-city checks, since an error recorded at `cities`
    // marks every key below it as in error).
    const bool shares_readable = std::none_of(s.cities.begin(), s.cities.end(), [&](const auto& c) {
        return source.has_errors_under("cities." + c.name + ".talent.share");
    });
    if (shares_readable && !s.cities.empty()) {
        double total = 0.0;
        for (const auto& c : s.cities) total += c.value.talent.share;
        if (std::abs(total - 1.0) > share_tolerance) {
            char buf[200];
            std::snprintf(buf, sizeof buf,
                          "talent shares over cities (cities.<city>.talent.share) sum to %.9g, expected 1", total);
            loaded.error("cities", buf);
        }
    }

    // Links name known cities; the network connects them all.
    std::vector<engine::TravelLink> links;
    bool links_ok = !source.has_errors_under("network");
    for (std::size_t i = 0; i < s.network.links.size(); ++i) {
        const auto& link = s.network.links[i];
        const std::string path = "network.links." + std::to_string(i);
        auto index_of = [&](const std::string& name, const char* key) -> std::optional<std::size_t> {
            const auto it = std::find(cities.begin(), cities.end(), name);
            if (it != cities.end()) return static_cast<std::size_t>(it - cities.begin());
            loaded.error(path + "." + key, "link to unknown city '" + name + "'" + sc::did_you_mean(name, cities));
            return std::nullopt;
        };
        const auto from = index_of(link.from, "from");
        const auto to = index_of(link.to, "to");
        if (!from || !to) {
            links_ok = false;
            continue;
        }
        if (*from == *to) {
            loaded.error(path, "a link from '" + link.from + "' to itself");
            links_ok = false;
            continue;
        }
        links.push_back({*from, *to, link.hours});
    }
    if (links_ok && cities.size() > 1) {
        try {
            engine::CityNetwork network(cities, links);
        } catch (const engine::UnreachableCities& e) {
            loaded.error("network.links", std::string(e.what()) + "; add links so every city can be reached");
        }
    }

    // Policies name known cities and fields and set only the keys their instrument reads.
    std::vector<std::string> policy_keys;
    for (const auto& row : sc::describe(policy_schema())) policy_keys.push_back(row.path);
    for (const auto& p : s.policies) {
        const std::string base = "policies." + p.name;
        if (source.has_errors_under(base)) continue;
        if (std::find(cities.begin(), cities.end(), p.value.city) == cities.end())
            loaded.error(base + ".city", "'" + p.value.city + "' is not one of the cities declared under `cities`" +
                                             sc::did_you_mean(p.value.city, cities));
        for (std::size_t k = 0; k < p.value.eligibility.fields.size(); ++k) {
            const auto& f = p.value.eligibility.fields[k];
            if (std::find(fields.begin(), fields.end(), f) == fields.end())
                loaded.error(base + ".eligibility.fields." + std::to_string(k),
                             "'" + f + "' is not one of the fields declared under `fields`" + sc::did_you_mean(f, fields));
        }
        const auto instrument = instrument_of(p.value.instrument);
        const auto& reads = instrument_keys(instrument);
        for (const auto& key : policy_keys) {
            const auto top = key.substr(0, key.find('.'));
            if (top == "instrument" || top == "city" || top == "start_step" || top == "end_step") continue;
            if (std::find(reads.begin(), reads.end(), top) != reads.end() || !source.has(base + "." + key)) continue;
            std::string list;
            for (const auto& r : reads) list += (list.empty() ? "" : ", ") + r;
            loaded.error(base + "." + key, "`" + top + "` does not apply to a " + p.value.instrument + " (it reads " +
                                               list + "); remove it");
        }
        if (p.value.end_step != 0 && p.value.end_step <= p.value.start_step)
            loaded.error(base + ".end_step", "end_step " + std::to_string(p.value.end_step) +
                                                 " is not after start_step " + std::to_string(p.value.start_step) +
                                                 " (use 0 for 'to the end of the run')");
        if (p.value.start_step > s.simulation.steps)
            loaded.error(base + ".start_step", "the policy starts after the run ends (simulation.steps = " +
                                                   std::to_string(s.simulation.steps) + ")");
    }

    // Scheduled changes name numbers that may change during a run, with one of value and multiply,
    // and the scenario they make still loads.
    const auto rows = sc::describe(scenario_schema());
    for (std::size_t i = 0; i < s.schedule.size(); ++i) {
        const auto& change = s.schedule[i];
        const std::string base = "schedule." + std::to_string(i);
        if (source.has_errors_under(base)) continue;
        const auto why = why_not_schedulable(change.key, rows);
        if (!why.empty()) {
            loaded.error(base + ".key", "'" + change.key + "' cannot be scheduled: " + why);
            continue;
        }
        const bool has_value = source.has(base + ".value"), has_multiply = source.has(base + ".multiply");
        if (has_value == has_multiply)
            loaded.error(base, has_value ? "give either value or multiply, not both"
                                         : "give the value in force (value: ...) or a factor (multiply: ...)");
        if (change.end_step != 0 && change.end_step <= change.start_step)
            loaded.error(base + ".end_step", "end_step " + std::to_string(change.end_step) +
                                                 " is not after start_step " + std::to_string(change.start_step) +
                                                 " (use 0 for 'to the end of the run')");
        if (change.start_step > s.simulation.steps)
            loaded.error(base + ".start_step", "the change starts after the run ends (simulation.steps = " +
                                                   std::to_string(s.simulation.steps) + ")");
        const double value = number_at(loaded.resolved_yaml, change.key);
        if (std::isnan(value)) {
            loaded.error(base + ".key", "the scenario has no number at '" + change.key + "' (a city or name misspelt?)");
            continue;
        }
        const auto trial = sc::load_string(scenario_schema(), loaded.resolved_yaml, "schedule",
                                           overrides_at({change}, {value}, change.start_step));
        for (const auto& d : trial.diagnostics) loaded.error(base, "the changed value is not valid: " + d.message);
    }

    const auto known = variable_names();
    for (std::size_t i = 0; i < s.output.record.size(); ++i) {
        const auto& name = s.output.record[i];
        if (std::find(known.begin(), known.end(), name) == known.end())
            loaded.error("output.record." + std::to_string(i),
                         "unknown output variable '" + name + "' (docs/output-reference.md lists them)" +
                             sc::did_you_mean(name, known));
    }
}

sc::Loaded<Scenario> load_scenario(const std::filesystem::path& path, const std::vector<std::string>& overrides) {
    auto loaded = sc::load_file(scenario_schema(), path, overrides);
    check_scenario(loaded);
    sort_by_position(loaded.diagnostics);
    loaded.throw_if_errors();
    return loaded;
}

sc::Loaded<Scenario> load_scenario_text(const std::string& text, const std::string& display_name,
                                        const std::vector<std::string>& overrides) {
    auto loaded = sc::load_string(scenario_schema(), text, display_name, overrides);
    check_scenario(loaded);
    sort_by_position(loaded.diagnostics);
    loaded.throw_if_errors();
    return loaded;
}

}  // namespace citysim::models
