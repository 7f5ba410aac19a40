// What a run writes: the output variables of the city model, their axes and units, and the code
// that hands the state to the recorder. docs/output-reference.md is checked against this table.
#pragma once

#include "engine/output/recorder.hpp"
#include "models/city_state.hpp"

#include <string>
#include <vector>

namespace citysim::models {

struct OutputVariable {
    std::string name;
    std::vector<std::string> dims;  // "time" first for time series
    output::DType dtype;
    std::string units;
    std::string long_name;
    std::string description;
};

// Every variable a run can write, in file order.
const std::vector<OutputVariable>& output_variables();

// The axes of a run's file: city, field, origin, destination.
std::vector<output::LabelledAxis> output_axes(const CityState& state);

class StateRecorder {
public:
    // `selected`: variable names to write; empty = all.
    StateRecorder(output::Recorder& recorder, const std::vector<std::string>& selected);
    static std::vector<output::VariableSpec> variable_specs(const std::vector<std::string>& selected);
    void write_static(const CityState& state);
    void write_record(const CityState& state, std::int64_t time);

private:
    bool wanted(const std::string& name) const;
    output::Recorder& recorder_;
    std::vector<std::string> selected_;
};

}  // namespace citysim::models
