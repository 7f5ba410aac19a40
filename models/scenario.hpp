// The scenario: everything a run needs, as typed parameters, read from YAML.
//
// Each mechanism declares its own keys beside its parameter struct (models/<mechanism>.hpp); this
// file composes them into the document layout and adds the checks that span several keys (shares
// that must sum to 1, links that must name cities, a network that must connect every city).
// Shares that do not sum to 1 (talent over cities, a city's field mix) are divided by their sum,
// with a note (Loaded::notes) saying so; only an all-zero set of shares is an error.
#pragma once

#include "engine/scenario/schema.hpp"
#include "models/controls.hpp"
#include "models/demography.hpp"
#include "models/founding.hpp"
#include "models/households.hpp"
#include "models/housing.hpp"
#include "models/incumbents.hpp"
#include "models/startups.hpp"
#include "models/universities.hpp"
#include "models/venture_capital.hpp"
#include "models/labour_market.hpp"
#include "models/migration.hpp"
#include "models/policy.hpp"
#include "models/schedule.hpp"
#include "models/savings.hpp"
#include "models/talent.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace citysim::models {

struct SimulationParams {
    std::int64_t steps = 120;
    std::string step_unit = "month";
    std::int64_t seed = 1;
    std::int64_t run = 0;
    std::int64_t threads = 0;
};

struct CityParams {
    double residents = 0.0;  // persons, talent included
    double amenity = 0.0;    // utility
    LabourCityParams labour;
    HousingCityParams housing;
    TalentCityParams talent;
    double failure_tolerance = 0.5;  // 0..1
    UniversityCityParams universities;
    VentureCapitalCityParams venture_capital;
    std::vector<scenario::Named<IncumbentParams>> incumbents;
    std::vector<scenario::Named<double>> location;  // {latitude, longitude} in degrees, or empty (geography.hpp)
};

struct LinkParams {
    std::string from;
    std::string to;
    double hours = 0.0;
};

struct NetworkParams {
    std::vector<LinkParams> links;
    // Travel times of computed links, from the cities' locations (geography.hpp).
    std::string computed_links = "cities_without_links";
    double speed_km_per_hour = 230.0;
    double access_hours = 0.1;
};

struct MechanismParams {
    LabourMarketParams labour_market;
    HouseholdParams households;
    HousingParams housing;
    MigrationParams migration;
    SavingsParams savings;
    DemographyParams demography;
    FoundingParams founding;
    StartupParams startups;
    IncumbentsParams incumbents;
    UniversitiesParams universities;
    VentureCapitalParams venture_capital;
};

struct OutputParams {
    std::string path = "citysim-output.h5";
    std::int64_t flush_every = 12;
    std::int64_t deflate_level = 4;
    std::vector<std::string> record;  // empty = every variable
};

struct Scenario {
    std::string description;
    SimulationParams simulation;
    std::vector<scenario::Named<FieldParams>> fields;
    std::vector<scenario::Named<CityParams>> cities;
    NetworkParams network;
    TalentParams talent;
    MechanismParams mechanisms;
    std::vector<scenario::Named<PolicyParams>> policies;
    std::vector<ScheduledChange> schedule;
    std::vector<Control> controls;  // for the live page only (controls.hpp)
    OutputParams output;
};

const scenario::Record<Scenario>& scenario_schema();

// Loads, validates (schema and cross-key checks) and returns the scenario; throws
// scenario::ScenarioError listing every problem found.
scenario::Loaded<Scenario> load_scenario(const std::filesystem::path& path,
                                         const std::vector<std::string>& overrides = {});
scenario::Loaded<Scenario> load_scenario_text(const std::string& text, const std::string& display_name,
                                              const std::vector<std::string>& overrides = {});

// The cross-key checks, appended to loaded.diagnostics; then sets loaded.resolved_yaml to
// scenario_file_text() of the value as checked.
void check_scenario(scenario::Loaded<Scenario>& loaded);

// The scenario as a file that load_scenario accepts and that runs exactly as `scenario` does: every
// default written out (scenario::to_yaml), less what the checks refuse to see given: the keys a
// policy's instrument does not read, and the one of a scheduled change's value and multiply that
// it does not use.
std::string scenario_file_text(const Scenario& scenario);

// The scenario's number at `key` (as in overrides: "cities.harbour.labour.productivity"), the one
// its resolved text gives, or NaN if there is none (scenario::number_at).
double number_at(const Scenario& scenario, const std::string& key);
// The scenario's value at each change's key.
std::vector<double> scenario_values(const std::vector<ScheduledChange>& changes, const Scenario& scenario);

std::vector<std::string> city_names(const Scenario& scenario);
std::vector<std::string> field_names(const Scenario& scenario);

}  // namespace citysim::models
