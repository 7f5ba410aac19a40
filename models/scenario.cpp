#include "models/scenario.hpp"

#include "engine/city_graph.hpp"
#include "engine/scenario/suggest.hpp"
#include "engine/scheduler.hpp"
#include "models/geography.hpp"
#include "models/recording.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <initializer_list>
#include <cmath>
#include <cstdio>
#include <tuple>
#include <map>
#include <optional>
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
               sc::Range::above(0).and_at_most(1e9));
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
        r.named_reals("location", &CityParams::location, "coordinate", "degrees",
                      "where the city is, {latitude: degrees north in [-90, 90], longitude: degrees east in [-180, "
                      "180]} (WGS 84), both or neither: places the city on the live page's map and gives travel "
                      "times from coordinates (network.computed_links)",
                      sc::Range::closed(-180, 180), std::vector<sc::Named<double>>{});
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
               sc::Range::above(0).and_at_most(1000));
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
        r.choice("computed_links", &NetworkParams::computed_links, computed_links_choices(),
                 "which pairs of located cities (cities.<city>.location) get a travel time from their distance: "
                 "cities_without_links links a located city that has no given link to every other located city; "
                 "all_missing_pairs every pair without a given link (docs/adding-a-city.md)",
                 "cities_without_links");
        r.real("speed_km_per_hour", &NetworkParams::speed_km_per_hour, "km/h",
               "computed links: great-circle distance covered per hour (fitted to the China rail links)", 230.0,
               sc::Range::positive());
        r.real("access_hours", &NetworkParams::access_hours, "hours",
               "computed links: time added to every trip (getting to and from stations)", 0.1,
               sc::Range::closed(0, 100));
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

std::string number_text(double x) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.9g", x);
    return buf;
}

struct Normalising {
    bool zero = false;  // the shares sum to 0: nothing to divide by
    std::string note;   // what was divided, or "" when the shares sum to 1
};

// Shares that do not sum to 1 are divided by their sum (safe: the schema holds each in [0, 1], so
// the sum is positive unless all are 0); the note says by what, and what each became.
Normalising normalise_shares(const std::vector<std::pair<std::string, double*>>& shares) {
    constexpr double tolerance = 1e-6;
    double total = 0.0;
    for (const auto& share : shares) total += *share.second;
    Normalising result;
    if (std::abs(total - 1.0) <= tolerance) return result;
    if (!(total > 0)) {
        result.zero = true;
        return result;
    }
    std::string each;
    for (const auto& [name, share] : shares) {
        each += (each.empty() ? "" : ", ") + name + " " + number_text(*share);
        *share /= total;
        each += " -> " + number_text(*share);
    }
    result.note = "sum to " + number_text(total) + ", not 1: each was divided by the sum (" + each + ")";
    return result;
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
               std::vector<ScheduledChange>{},
               sc::ListLimit{max_scheduled_changes, "join changes of one key that follow each other"});
        r.list("controls", &Scenario::controls, control_schema(),
               "sliders and switches of the live page (citysim serve; docs/tutorials/teacher.md); ignored by run", {},
               std::vector<Control>{});
        r.record("output", &Scenario::output, output_schema());
        return r;
    }();
    return schema;
}

std::string scenario_file_text(const Scenario& scenario) {
    // Left out: a policy's keys that its instrument does not read (a scenario in error, with an
    // unknown instrument, keeps them: its text is not re-loadable anyway), and of each scheduled
    // change the one of value and multiply that it does not use.
    const sc::KeepKey keep = [&scenario](const std::string& path) {
        constexpr std::string_view policies = "policies.", schedule = "schedule.";
        if (path.starts_with(policies)) {
            for (const auto& p : scenario.policies) {
                const std::string_view rest = std::string_view(path).substr(policies.size());
                if (!rest.starts_with(p.name) || rest.size() <= p.name.size() + 1 || rest[p.name.size()] != '.') continue;
                const std::string_view key = rest.substr(p.name.size() + 1);
                const auto instrument = find_instrument(p.value.instrument);
                if (key.find('.') != std::string_view::npos || !instrument) return true;
                const auto& reads = instrument_keys(*instrument);
                return key == "instrument" || key == "city" || key == "start_step" || key == "end_step" ||
                       std::find(reads.begin(), reads.end(), key) != reads.end();
            }
        } else if (path.starts_with(schedule)) {
            const std::string_view rest = std::string_view(path).substr(schedule.size());
            const auto dot = rest.find('.');
            if (dot == std::string_view::npos) return true;
            const std::string_view key = rest.substr(dot + 1);
            if (key != "value" && key != "multiply") return true;
            const std::size_t i = std::stoul(std::string(rest.substr(0, dot)));
            return key == (scenario.schedule[i].multiply > 0 ? "multiply" : "value");
        }
        return true;
    };
    return sc::to_yaml(scenario_schema(), scenario, keep);
}

double number_at(const Scenario& scenario, const std::string& key) {
    return sc::number_at(scenario_schema(), scenario, key);
}

std::vector<double> scenario_values(const std::vector<ScheduledChange>& changes, const Scenario& scenario) {
    std::vector<double> values;
    for (const auto& change : changes) values.push_back(number_at(scenario, change.key));
    return values;
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

namespace {

// Why `key` cannot change during a run of this scenario (a schedule or a control), or "".
std::string why_not_changeable(const Scenario& s, const std::string& key, const std::vector<sc::KeyRow>& rows) {
    auto why = why_not_schedulable(key, rows);
    if (!why.empty() || key.rfind("policies.", 0) != 0) return why;
    // A policy's amount: the policy's instrument must read it.
    const auto first_dot = key.find('.'), second_dot = key.find('.', first_dot + 1);
    const auto name = key.substr(first_dot + 1, second_dot - first_dot - 1), amount = key.substr(second_dot + 1);
    for (const auto& p : s.policies) {
        if (p.name != name) continue;
        // An unknown instrument is reported at its own key (policies.<name>.instrument).
        const auto instrument = find_instrument(p.value.instrument);
        if (!instrument) return "";
        const auto& reads = instrument_keys(*instrument);
        if (std::find(reads.begin(), reads.end(), amount) != reads.end()) return "";
        return "a " + p.value.instrument + " does not read `" + amount + "`";
    }
    return "";  // no such policy: the caller says the scenario has no number there
}

}  // namespace

// Every check below reads some keys and is skipped only when one of those keys is in error (it
// then holds its default): so every error, cross-references included, is reported in one pass.
void check_scenario(sc::Loaded<Scenario>& loaded) {
    Scenario& s = loaded.value;
    // The numbers at the schedule's and the controls' keys, as loaded (before shares are divided
    // below, the only change made to s here): read from the loaded scenario itself, not from its
    // resolved text parsed again (which cost more than the rest of loading: every run of a sweep
    // loads its scenario).
    const auto schedule_values = scenario_values(s.schedule, s);
    std::vector<double> control_values;
    for (const auto& control : s.controls) control_values.push_back(number_at(s, control.key));
    const auto cities = city_names(s);
    const auto fields = field_names(s);
    const auto& source = loaded.source;
    const auto in_error = [&source](std::initializer_list<std::string> paths) {
        return std::any_of(paths.begin(), paths.end(), [&source](const std::string& p) { return source.has_errors_under(p); });
    };

    if (cities.size() > max_cities) loaded.error("cities", "at most " + std::to_string(max_cities) + " cities");
    if (fields.size() > max_fields) loaded.error("fields", "at most " + std::to_string(max_fields) + " fields");

    const auto unknown_field = [&](const std::string& name) {
        return "'" + name + "' is not one of the fields declared under `fields`" + sc::did_you_mean(name, fields);
    };
    // Talent shares over cities, before the checks that use them.
    const bool shares_readable = std::none_of(s.cities.begin(), s.cities.end(), [&](const auto& c) {
        return source.has_errors_under("cities." + c.name + ".talent.share");
    });
    bool shares_sum_to_zero = false;
    if (shares_readable && !s.cities.empty()) {
        std::vector<std::pair<std::string, double*>> shares;
        for (auto& c : s.cities) shares.emplace_back(c.name, &c.value.talent.share);
        const auto normalising = normalise_shares(shares);
        shares_sum_to_zero = normalising.zero;
        if (!normalising.note.empty()) {
            loaded.note("cities", "talent shares over cities (cities.<city>.talent.share) " + normalising.note);
        }
    }

    for (auto& c : s.cities) {
        const std::string base = "cities." + c.name;
        // The field mix names exactly the scenario's fields and sums to 1 (or is divided by its sum).
        // Names are checked even when a share is in error; the sum only when every share is readable.
        const std::string mix_path = base + ".talent.field_mix";
        if (source.has(mix_path) && !source.has_error_at(mix_path)) {
            std::set<std::string> seen;
            std::vector<std::pair<std::string, double*>> shares;
            for (auto& entry : c.value.talent.field_mix) {
                seen.insert(entry.name);
                shares.emplace_back(entry.name, &entry.value);
                if (std::find(fields.begin(), fields.end(), entry.name) == fields.end())
                    loaded.error(mix_path + "." + entry.name, unknown_field(entry.name));
            }
            if (!in_error({"fields"}))
                for (const auto& f : fields)
                    if (!seen.count(f)) loaded.error(mix_path, "missing the share of field '" + f + "' (write 0 if none)");
            if (!source.has_errors_under(mix_path)) {
                const auto normalising = normalise_shares(shares);
                if (normalising.zero) loaded.error(mix_path, "field shares sum to 0; give the city's fields their shares");
                if (!normalising.note.empty()) loaded.note(mix_path, "field shares " + normalising.note);
            }
        }
        // A location is a latitude and a longitude (geography.hpp).
        const std::string location_path = base + ".location";
        if (!source.has_errors_under(location_path) && !c.value.location.empty()) {
            bool latitude = false, longitude = false;
            for (const auto& entry : c.value.location) {
                if (entry.name == "latitude") {
                    latitude = true;
                    if (std::abs(entry.value) > 90)
                        loaded.error(location_path + ".latitude",
                                     "expected degrees north in [-90, 90], got " + number_text(entry.value));
                } else if (entry.name == "longitude") {
                    longitude = true;
                } else {
                    loaded.error(location_path + "." + entry.name,
                                 "unknown coordinate '" + entry.name + "'; a location is {latitude: degrees north, "
                                 "longitude: degrees east}" + sc::did_you_mean(entry.name, {"latitude", "longitude"}));
                }
            }
            if (latitude != longitude)
                loaded.error(location_path, std::string("missing the ") + (latitude ? "longitude (degrees east)" : "latitude (degrees north)") +
                                                "; give both or neither");
        }
        // Per-field maps of the ecosystem name declared fields; incumbents and university staff
        // employ no more talent than the city has in the field.
        std::map<std::string, double> employed;
        bool employed_readable = true;
        auto check_field_map = [&](const std::string& path, const std::vector<sc::Named<double>>& entries) {
            if (source.has_errors_under(path)) employed_readable = false;
            for (const auto& entry : entries)
                if (std::find(fields.begin(), fields.end(), entry.name) == fields.end())
                    loaded.error(path + "." + entry.name, unknown_field(entry.name));
        };
        check_field_map(base + ".universities.graduates_per_year", c.value.universities.graduates_per_year);
        check_field_map(base + ".universities.staff", c.value.universities.staff);
        for (const auto& e : c.value.universities.staff) employed[e.name] += e.value;
        for (const auto& inc : c.value.incumbents) {
            check_field_map(base + ".incumbents." + inc.name + ".employees", inc.value.employees);
            for (const auto& e : inc.value.employees) employed[e.name] += e.value;
        }
        const bool talent_readable = !in_error({"talent.persons", base + ".talent.share", mix_path});
        if (employed_readable && talent_readable && !in_error({base + ".incumbents"}))
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
        if (!in_error({"talent.persons", "mechanisms.households", base + ".talent.share", base + ".residents"}) &&
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
        if (!in_error({base + ".residents", base + ".housing"}) && stock > capacity) {
            char buf[320];
            std::snprintf(buf, sizeof buf,
                          "the starting housing stock (residents x floor_space_per_person = %.4g m2) exceeds the land "
                          "capacity (land_area_km2 x 1e6 x residential_land_share x max_floor_area_ratio = %.4g m2); "
                          "raise residential_land_share or max_floor_area_ratio",
                          stock, capacity);
            loaded.error(base + ".housing", buf);
        }
    }

    // All-zero talent shares (after the per-city checks, since an error recorded at `cities` marks
    // every key below it as in error).
    if (shares_sum_to_zero)
        loaded.error("cities", "talent shares over cities (cities.<city>.talent.share) sum to 0; give the cities their shares");

    // Links name known cities; the network, with the links computed from locations, connects them all.
    std::vector<engine::TravelLink> links;
    bool links_ok = !source.has_errors_under("network");
    for (std::size_t i = 0; i < s.network.links.size(); ++i) {
        const auto& link = s.network.links[i];
        const std::string path = "network.links." + std::to_string(i);
        auto index_of = [&](const std::string& name, const char* key) -> std::optional<std::size_t> {
            const auto it = std::find(cities.begin(), cities.end(), name);
            if (it != cities.end()) return static_cast<std::size_t>(it - cities.begin());
            if (!source.has_errors_under(path + "." + key))
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
    const bool locations_ok = std::none_of(s.cities.begin(), s.cities.end(), [&](const auto& c) {
        return source.has_errors_under("cities." + c.name + ".location");
    });
    if (links_ok && locations_ok && cities.size() > 1) {
        const auto all_links = network_links(s);
        for (std::size_t i = s.network.links.size(); i < all_links.size(); ++i) {
            const auto index = [&](const std::string& name) {
                return static_cast<std::size_t>(std::find(cities.begin(), cities.end(), name) - cities.begin());
            };
            links.push_back({index(all_links[i].from), index(all_links[i].to), all_links[i].hours});
        }
        try {
            engine::CityNetwork network(cities, links);
        } catch (const engine::UnreachableCities& e) {
            loaded.error("network.links", std::string(e.what()) +
                                              "; add links so every city can be reached, or give the cities a location "
                                              "(cities.<city>.location) to compute their travel times");
        }
    }

    // Policies name known cities and fields and set only the keys their instrument reads.
    // (The schemas never change: their key references are made once, not for every scenario loaded.)
    static const std::vector<std::string> policy_keys = [] {
        std::vector<std::string> keys;
        for (const auto& row : sc::describe(policy_schema())) keys.push_back(row.path);
        return keys;
    }();
    for (const auto& p : s.policies) {
        const std::string base = "policies." + p.name;
        if (source.has_error_at(base)) continue;  // the policy as a whole is in error (it holds defaults)
        if (!in_error({base + ".city"}) && std::find(cities.begin(), cities.end(), p.value.city) == cities.end())
            loaded.error(base + ".city", "'" + p.value.city + "' is not one of the cities declared under `cities`" +
                                             sc::did_you_mean(p.value.city, cities));
        for (std::size_t k = 0; k < p.value.eligibility.fields.size(); ++k) {
            const auto& f = p.value.eligibility.fields[k];
            if (std::find(fields.begin(), fields.end(), f) == fields.end())
                loaded.error(base + ".eligibility.fields." + std::to_string(k), unknown_field(f));
        }
        // No instrument without an error at its key: the file extends a scenario that could not be
        // read (its error is reported), so there is nothing to check the keys against.
        const auto instrument = find_instrument(p.value.instrument);
        if (instrument && !in_error({base + ".instrument"})) {
            const auto& reads = instrument_keys(*instrument);
            for (const auto& key : policy_keys) {
                const auto top = key.substr(0, key.find('.'));
                if (top == "instrument" || top == "city" || top == "start_step" || top == "end_step") continue;
                if (std::find(reads.begin(), reads.end(), top) != reads.end() || !source.has(base + "." + key)) continue;
                std::string list;
                for (const auto& r : reads) list += (list.empty() ? "" : ", ") + r;
                loaded.error(base + "." + key, "`" + top + "` does not apply to a " + p.value.instrument +
                                                   " (it reads " + list + "); remove it");
            }
        }
        const bool steps_readable = !in_error({base + ".start_step", base + ".end_step"});
        if (steps_readable && p.value.end_step != 0 && p.value.end_step <= p.value.start_step)
            loaded.error(base + ".end_step", "end_step " + std::to_string(p.value.end_step) +
                                                 " is not after start_step " + std::to_string(p.value.start_step) +
                                                 " (use 0 for 'to the end of the run')");
        if (steps_readable && !in_error({"simulation.steps"}) && p.value.start_step > s.simulation.steps)
            loaded.error(base + ".start_step", "the policy starts after the run ends (simulation.steps = " +
                                                   std::to_string(s.simulation.steps) + ")");
    }

    // Scheduled changes name numbers that may change during a run, with one of value and multiply,
    // and the value they set is one the key accepts. The scenario's values are read once and each
    // changed value is checked against its key's schema alone, so the cost is linear in the number
    // of changes (a whole scenario reloaded per change made 1,000 changes take minutes).
    static const auto rows = sc::describe(scenario_schema());
    // (The schema refuses a schedule of more than max_scheduled_changes where it reads it.)
    if (!s.schedule.empty()) {
        const auto value_problem = [](const std::string& key, double value) {
            char text[64];
            std::snprintf(text, sizeof text, "%.17g", value);
            return sc::check_value(scenario_schema(), key, text);
        };
        std::vector<char> valid_alone(s.schedule.size(), 0);
        for (std::size_t i = 0; i < s.schedule.size(); ++i) {
            const auto& change = s.schedule[i];
            const std::string base = "schedule." + std::to_string(i);
            if (!in_error({base + ".key"})) {
                const auto why = why_not_changeable(s, change.key, rows);
                if (!why.empty()) {
                    loaded.error(base + ".key", "'" + change.key + "' cannot be scheduled: " + why);
                } else if (std::isnan(schedule_values[i])) {
                    loaded.error(base + ".key",
                                 "the scenario has no number at '" + change.key + "' (a city or name misspelt?)");
                } else if (!in_error({base + ".value", base + ".multiply"})) {
                    const double changed = change.multiply > 0 ? schedule_values[i] * change.multiply : change.value;
                    const auto problem = value_problem(change.key, changed);
                    if (!problem.empty()) loaded.error(base, "the changed value is not valid: " + problem);
                    valid_alone[i] = problem.empty();
                }
            }
            const bool has_value = source.has(base + ".value"), has_multiply = source.has(base + ".multiply");
            if (has_value == has_multiply)
                loaded.error(base, has_value ? "give either value or multiply, not both"
                                             : "give the value in force (value: ...) or a factor (multiply: ...)");
            const bool steps_readable = !in_error({base + ".start_step", base + ".end_step"});
            if (steps_readable && change.end_step != 0 && change.end_step <= change.start_step)
                loaded.error(base + ".end_step", "end_step " + std::to_string(change.end_step) +
                                                     " is not after start_step " + std::to_string(change.start_step) +
                                                     " (use 0 for 'to the end of the run')");
            if (steps_readable && !in_error({"simulation.steps"}) && change.start_step > s.simulation.steps)
                loaded.error(base + ".start_step", "the change starts after the run ends (simulation.steps = " +
                                                       std::to_string(s.simulation.steps) + ")");
        }
        // Changes of one key in force together compose; the value they give must be valid too (a
        // run would otherwise stop at that step). Only where each change is valid alone.
        if (std::all_of(valid_alone.begin(), valid_alone.end(), [](char ok) { return ok; }) &&
            !in_error({"schedule"})) {
            for (const auto& p : composed_problems(s.schedule, schedule_values, value_problem)) {
                char text[64];
                std::snprintf(text, sizeof text, "%.6g", p.value);
                loaded.error("schedule." + std::to_string(p.change),
                             "with the earlier changes of " + s.schedule[p.change].key + " in force at step " +
                                 std::to_string(p.step) + ", its value is " + text + ": " + p.message +
                                 " (changes of one key compose in the order written)");
            }
        }
    }

    // Controls (controls.hpp): numbers a schedule may change, over a range of valid values that
    // holds the scenario's own. Like the schedule's, the scenario's values are read in one pass and
    // each end is checked against its key's schema alone (reloading the scenario twice per control
    // made loading, which every run of a sweep does, thirteen times slower).
    std::set<std::string> controlled;
    for (std::size_t i = 0; i < s.controls.size(); ++i) {
        const auto& control = s.controls[i];
        const std::string base = "controls." + std::to_string(i);
        if (source.has_errors_under(base)) continue;
        if (!controlled.insert(control.key).second) {
            loaded.error(base + ".key", "a second control of '" + control.key + "'; remove one of them");
            continue;
        }
        const auto why = why_not_changeable(s, control.key, rows);
        if (!why.empty()) {
            loaded.error(base + ".key", "'" + control.key + "' cannot be a control: " + why);
            continue;
        }
        const double value = control_values[i];
        if (std::isnan(value)) {
            loaded.error(base + ".key", "the scenario has no number at '" + control.key + "' (a city or name misspelt?)");
            continue;
        }
        if (!(control.min < control.max)) {
            loaded.error(base + ".max", "max " + number_text(control.max) + " must be above min " + number_text(control.min));
            continue;
        }
        if (control.step > control.max - control.min)
            loaded.error(base + ".step", "step " + number_text(control.step) + " is wider than the range [" +
                                             number_text(control.min) + ", " + number_text(control.max) + "]");
        if (control.kind == "switch" && value != control.min && value != control.max)
            loaded.error(base, "a switch sets min (off) or max (on), and the scenario's value " + number_text(value) +
                                   " is neither; make min or max " + number_text(value));
        else if (value < control.min || value > control.max)
            loaded.error(base, "the scenario's value " + number_text(value) + " is outside [" + number_text(control.min) +
                                   ", " + number_text(control.max) + "], so the page could not show it; widen the range");
        for (const double end : {control.min, control.max}) {
            char text[64];
            std::snprintf(text, sizeof text, "%.17g", end);
            const auto problem = sc::check_value(scenario_schema(), control.key, text);
            if (!problem.empty())
                loaded.error(base + (end == control.min ? ".min" : ".max"),
                             "the control would set an invalid value: " + problem);
        }
    }

    // The resolved scenario, as kept in every output file's provenance, is a file that runs as this
    // one does (the divided shares included), written once, here: the loader leaves it to us.
    loaded.resolved_yaml = scenario_file_text(s);

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
    auto loaded = sc::load_file(scenario_schema(), path, overrides, "scenario file", sc::ResolvedText::by_caller);
    check_scenario(loaded);
    sort_by_position(loaded.diagnostics);
    loaded.throw_if_errors();
    return loaded;
}

sc::Loaded<Scenario> load_scenario_text(const std::string& text, const std::string& display_name,
                                        const std::vector<std::string>& overrides) {
    auto loaded = sc::load_string(scenario_schema(), text, display_name, overrides, sc::ResolvedText::by_caller);
    check_scenario(loaded);
    sort_by_position(loaded.diagnostics);
    loaded.throw_if_errors();
    return loaded;
}

}  // namespace citysim::models
