#include "models/universities.hpp"

#include "engine/checkpoint/archive.hpp"
#include "engine/parallel.hpp"

#include "models/firms.hpp"
#include "models/streams.hpp"

#include <algorithm>
#include <cmath>

namespace citysim::models {

namespace sc = citysim::scenario;

const sc::Record<UniversitiesParams>& universities_schema() {
    static const auto schema = [] {
        sc::Record<UniversitiesParams> r("Universities: graduates, staff, basic research");
        r.boolean("enabled", &UniversitiesParams::enabled,
                  "let universities graduate talent, employ staff and spill research over", true);
        return r;
    }();
    return schema;
}

const sc::Record<UniversityCityParams>& university_city_schema() {
    static const auto schema = [] {
        using P = UniversityCityParams;
        sc::Record<P> r("The city's universities");
        r.integer("count", &P::count, "universities", "number of universities (reported; not used in equations)", 0,
                  sc::Range::closed(0, 10000));
        r.named_reals("graduates_per_year", &P::graduates_per_year, "field", "persons/year",
                      "graduates per year who join the talent pool, per field", sc::Range::closed(0, 1e7),
                      std::vector<sc::Named<double>>{});
        r.named_reals("staff", &P::staff, "field", "persons", "university staff (researchers, teachers), per field",
                      sc::Range::closed(0, 1e8), std::vector<sc::Named<double>>{});
        r.real("basic_research_share", &P::basic_research_share, "1", "basic research as a share of the city's R&D",
               0.0, sc::Range::unit_interval());
        return r;
    }();
    return schema;
}

Universities::Universities(const UniversitiesParams& params, std::vector<UniversityCityParams> cities,
                           double skill_dispersion, CityState& state)
    : params_(params), skill_dispersion_(skill_dispersion) {
    retune(params, cities, state);
}

void Universities::retune(const UniversitiesParams& params, const std::vector<UniversityCityParams>& cities,
                          CityState& state) {
    params_ = params;
    const std::size_t fields = state.fields();
    graduates_.assign(state.cities() * fields, 0.0);
    staff_.assign(state.cities() * fields, 0);
    if (!params_.enabled) return;
    auto field_index = [&](const std::string& name) {
        return static_cast<std::size_t>(std::find(state.field_names.begin(), state.field_names.end(), name) -
                                        state.field_names.begin());
    };
    for (std::size_t c = 0; c < cities.size(); ++c) {
        for (const auto& g : cities[c].graduates_per_year) graduates_[c * fields + field_index(g.name)] = g.value;
        for (const auto& s : cities[c].staff)
            staff_[c * fields + field_index(s.name)] = std::llround(s.value / state.persons_per_agent);
        state.ecosystem.basic_research[c] = cities[c].basic_research_share;
    }
}

void Universities::graduate(CityState& state, const engine::StreamKey& streams, double years_per_step,
                            const Savings& savings) const {
    if (!params_.enabled) return;
    std::vector<std::int64_t> count(graduates_.size());
    std::int64_t total = 0;
    for (std::size_t k = 0; k < count.size(); ++k) {
        if (graduates_[k] <= 0.0) continue;
        count[k] = engine::poisson(graduates_[k] * years_per_step / state.persons_per_agent, streams, k,
                                   streams::graduate_count);
        total += count[k];
    }
    if (total == 0) return;
    const std::size_t first = state.add_talent(count, streams, streams::graduate_skill, skill_dispersion_);
    for (std::size_t k = 0; k < count.size(); ++k) {
        state.ecosystem.graduates[k] += count[k];
        state.ecosystem.employment[k * employer_kinds + employer_axis_index(EmployerKind::other)] += count[k];
        state.ecosystem.free_talent[k] += count[k];
    }
    savings.endow(state, first, state.talent.table.size());
}

void Universities::hire(CityState& state, HiringPool& pool, const engine::StreamKey& streams, bool until_filled) const {
    if (!params_.enabled) return;
    const auto university = employer_axis_index(EmployerKind::university);
    // One call draws at most 1024 rows per city and field; at the start (until_filled) the passes
    // repeat until the staff are all hired or no one free is left. Each city and field hires from
    // its own free talent, so they hire in parallel.
    std::vector<std::uint32_t> short_of;  // the cities and fields with staff to hire
    std::vector<std::uint8_t> hired;
    for (bool hired_any = true; hired_any;) {
        short_of.clear();
        for (std::size_t k = 0; k < staff_.size(); ++k)
            if (staff_[k] > state.ecosystem.employment[k * employer_kinds + university]) short_of.push_back(static_cast<std::uint32_t>(k));
        hired.assign(short_of.size(), 0);
        engine::for_each_block(
            short_of.size(),
            [&](std::size_t j, std::size_t, std::size_t) {
                const std::size_t k = short_of[j];
                const auto missing = staff_[k] - state.ecosystem.employment[k * employer_kinds + university];
                hired[j] = pool.hire(state, no_firm, EmployerKind::university, k, static_cast<std::int32_t>(missing), streams,
                                     streams::university_hiring, k) > 0;
            },
            1);
        hired_any = until_filled && std::find(hired.begin(), hired.end(), 1) != hired.end();
    }
}


// Checkpoints: parameters only (graduates and staff per city and field come from the scenario). A member added to Universities stops the build here until it is saved below (or
// confirmed to be a parameter) and the size updated.
CITYSIM_CHECKPOINTED(Universities, 64);
void Universities::save_or_restore(checkpoint::Archive&) {}

}  // namespace citysim::models
