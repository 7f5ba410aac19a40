// What a run writes: the output variables of the city model, their axes and units, and the code
// that hands the state to the recorder. docs/output-reference.md is checked against this table.
#pragma once

#include "engine/output/recorder.hpp"
#include "models/city_state.hpp"

#include <span>
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

// The tables of a run's file: `event` (one row per firm event, appended every step) and `firm`
// (one row per firm, written at the end). Each is selected in output.record by its plural
// ("events", "firms").
struct OutputTable {
    std::string name;       // the row axis
    std::string selector;   // its name in output.record
    std::string long_name;
    std::vector<OutputVariable> columns;  // dims {name}
};
const std::vector<OutputTable>& output_tables();

// The axes of a run's file: city, field, origin, destination, employer, instrument.
std::vector<output::LabelledAxis> output_axes(const CityState& state);

// Where the values of one record go: the HDF5 recorder (StateRecorder), or memory (the live page,
// cli/serve.cpp), so that both see the same numbers, computed in one place (put_record).
class RecordSink {
public:
    virtual ~RecordSink() = default;
    virtual bool wants(const std::string& variable) const = 0;
    virtual void put(const std::string& variable, std::span<const std::int64_t> values) = 0;
    virtual void put(const std::string& variable, std::span<const double> values) = 0;
};

// Every time-series variable of output_variables() that the sink wants, for the state at the end of
// a step, flattened as in the file (row-major over the variable's dims after `time`).
void put_record(const CityState& state, RecordSink& sink);

class StateRecorder {
public:
    // `selected`: variable names to write; empty = all.
    StateRecorder(output::Recorder& recorder, const std::vector<std::string>& selected);
    static std::vector<output::VariableSpec> variable_specs(const std::vector<std::string>& selected);
    static std::vector<output::TableSpec> table_specs(const std::vector<std::string>& selected);
    void write_static(const CityState& state);
    void write_record(const CityState& state, std::int64_t time);
    // The step's firm events (after every step, whether or not its record is written).
    void write_events(const CityState& state);
    // The firm table, once, at the end of the run.
    void write_firms(const CityState& state);

private:
    bool wanted(const std::string& name) const;
    output::Recorder& recorder_;
    std::vector<std::string> selected_;
};

}  // namespace citysim::models
