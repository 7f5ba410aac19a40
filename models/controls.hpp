// Controls: the numbers of a scenario that a teacher may change while the live page runs it
// (`citysim serve`), each as a slider or a switch, with the range the page allows.
//
//     controls:
//       - {key: cities.harbour.labour.productivity, label: Harbour productivity, min: 0.8, max: 1.5, step: 0.05}
//       - {key: policies.harbour_housing.rent_share, label: Harbour housing subsidy, kind: switch, min: 0, max: 0.3}
//
// A control's key must be a number that a `schedule` may change (schedule.hpp), and every value in
// [min, max] must be a valid value of that key; the scenario's own value must lie in [min, max] (a
// switch: be min or max), so the page opens on the scenario as written. A switch sets min when off
// and max when on. Moving a control during a run is a scheduled change from the next step on: the
// page's "save this run" writes the moves as the scenario's `schedule`, and `citysim run` replays
// them bit for bit. `citysim run` itself ignores controls.
#pragma once

#include "engine/scenario/schema.hpp"

#include <string>
#include <vector>

namespace citysim::models {

struct Control {
    std::string key;
    std::string label;  // "" = the key
    std::string kind = "slider";
    double min = 0.0;
    double max = 0.0;
    double step = 0.0;  // 0 = (max - min) / 100
};
const scenario::Record<Control>& control_schema();
const std::vector<std::string>& control_kinds();

// The slider's step: step, or (max - min) / 100 when not given.
double control_step(const Control& control);

}  // namespace citysim::models
