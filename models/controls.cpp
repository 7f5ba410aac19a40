#include "models/controls.hpp"

namespace citysim::models {

namespace sc = citysim::scenario;

const std::vector<std::string>& control_kinds() {
    static const std::vector<std::string> kinds = {"slider", "switch"};
    return kinds;
}

const sc::Record<Control>& control_schema() {
    static const auto schema = [] {
        sc::Record<Control> r("A number the live page (citysim serve) lets the class change while it runs");
        r.text("key", &Control::key,
               "key path of the number, as in --set and schedule (cities.harbour.labour.productivity)", std::nullopt);
        r.text("label", &Control::label, "what the page calls it (default: the key)", "");
        r.choice("kind", &Control::kind, control_kinds(), "slider: any value in [min, max]; switch: min (off) or max (on)",
                 "slider");
        r.real("min", &Control::min, "(the key's)", "smallest value the control sets (a switch: its value when off)",
               std::nullopt);
        r.real("max", &Control::max, "(the key's)", "largest value the control sets (a switch: its value when on)",
               std::nullopt);
        r.real("step", &Control::step, "(the key's)", "a slider's step (0 = a hundredth of max - min)", 0.0,
               sc::Range::non_negative());
        return r;
    }();
    return schema;
}

double control_step(const Control& control) {
    return control.step > 0 ? control.step : (control.max - control.min) / 100.0;
}

}  // namespace citysim::models
