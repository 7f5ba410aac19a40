#include "models/recording.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace citysim::models {

namespace {
const char* const counts_note = "agents; persons = value x the root attribute persons_per_agent";
}

const std::vector<OutputVariable>& output_variables() {
    using output::DType;
    static const std::vector<OutputVariable> variables = {
        {"talent", {"time", "city", "field"}, DType::Int64, "1", "talent living in the city at the end of the step",
         counts_note},
        {"arrivals", {"time", "city", "field"}, DType::Int64, "1", "talent that moved into the city during the step",
         counts_note},
        {"departures", {"time", "city", "field"}, DType::Int64, "1", "talent that moved out of the city during the step",
         counts_note},
        {"entries", {"time", "city", "field"}, DType::Int64, "1", "new talent entering the pool in the city during the step",
         counts_note},
        {"exits", {"time", "city", "field"}, DType::Int64, "1", "talent leaving the pool from the city during the step",
         counts_note},
        {"wage", {"time", "city", "field"}, DType::Float64, "CNY/year", "annual wage of a skill-1 worker",
         "set by the labour market at the start of the step"},
        {"mean_wage", {"time", "city", "field"}, DType::Float64, "CNY/year",
         "mean annual wage of the talent in the city and field",
         "wage x mean skill of the talent there during the step (after moves, before exits and entries); NaN where "
         "there is none"},
        {"rent", {"time", "city"}, DType::Float64, "CNY/m2/month", "average residential rent", ""},
        {"home_price", {"time", "city"}, DType::Float64, "CNY/m2", "average home price", ""},
        {"housing_stock", {"time", "city"}, DType::Float64, "m2", "residential floor space", ""},
        {"residents", {"time", "city"}, DType::Float64, "persons", "resident population, talent included",
         "other residents are held fixed; talent persons = talent x persons_per_agent"},
        {"migration", {"time", "origin", "destination"}, DType::Int64, "1",
         "talent that moved from origin to destination during the step", counts_note},
        {"amenity", {"city"}, DType::Float64, "1", "amenity of the city in the migration utility",
         "static; calibrated at the start when mechanisms.migration.calibrate_amenities is on, else as given"},
        {"travel_hours", {"origin", "destination"}, DType::Float64, "h",
         "shortest travel time between the cities over the network",
         "static; units are the UDUNITS symbol h (hour), which xarray leaves as numbers rather than timedeltas"},
    };
    return variables;
}

std::vector<output::LabelledAxis> output_axes(const CityState& state) {
    using output::LabelledAxis;
    return {LabelledAxis::of("city", "city", state.city_names),
            LabelledAxis::of("field", "field of skilled work", state.field_names),
            LabelledAxis::of("origin", "city moved from", state.city_names),
            LabelledAxis::of("destination", "city moved to", state.city_names)};
}

StateRecorder::StateRecorder(output::Recorder& recorder, const std::vector<std::string>& selected)
    : recorder_(recorder), selected_(selected) {}

std::vector<output::VariableSpec> StateRecorder::variable_specs(const std::vector<std::string>& selected) {
    std::vector<output::VariableSpec> specs;
    for (const auto& v : output_variables())
        if (selected.empty() || std::find(selected.begin(), selected.end(), v.name) != selected.end())
            specs.push_back({v.name, v.dims, v.dtype, v.units, v.long_name, v.description, ""});
    return specs;
}

bool StateRecorder::wanted(const std::string& name) const {
    return selected_.empty() || std::find(selected_.begin(), selected_.end(), name) != selected_.end();
}

void StateRecorder::write_static(const CityState& state) {
    if (wanted("travel_hours")) recorder_.write_static("travel_hours", state.travel_hours);
    if (wanted("amenity")) recorder_.write_static("amenity", state.amenity);
}

void StateRecorder::write_record(const CityState& state, std::int64_t time) {
    recorder_.begin_record(time);
    auto put_counts = [&](const char* name, const std::vector<std::int64_t>& values) {
        if (wanted(name)) recorder_.put(name, values);
    };
    auto put_reals = [&](const char* name, const std::vector<double>& values) {
        if (wanted(name)) recorder_.put(name, values);
    };
    put_counts("talent", state.talent_count);
    put_counts("arrivals", state.arrivals);
    put_counts("departures", state.departures);
    put_counts("entries", state.entries);
    put_counts("exits", state.exits);
    put_reals("wage", state.wage);
    if (wanted("mean_wage")) {
        std::vector<double> mean_wage(state.wage.size());
        // skill_sum covers the agents present during the step, whose number is talent minus the
        // step's entries plus its exits.
        for (std::size_t k = 0; k < mean_wage.size(); ++k) {
            const auto present = state.talent_count[k] - state.entries[k] + state.exits[k];
            mean_wage[k] = present > 0 ? state.wage[k] * state.skill_sum[k] / static_cast<double>(present)
                                       : std::numeric_limits<double>::quiet_NaN();
        }
        recorder_.put("mean_wage", mean_wage);
    }
    put_reals("rent", state.rent);
    put_reals("home_price", state.home_price);
    put_reals("housing_stock", state.housing_stock);
    if (wanted("residents")) {
        std::vector<double> residents(state.cities());
        for (std::size_t c = 0; c < residents.size(); ++c) residents[c] = state.residents(c);
        recorder_.put("residents", residents);
    }
    put_counts("migration", state.migration);
    recorder_.end_record();
}

}  // namespace citysim::models
