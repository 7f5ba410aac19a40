#include "models/incumbents.hpp"

#include "engine/checkpoint/archive.hpp"
#include "engine/parallel.hpp"

#include "models/firms.hpp"
#include "models/logit.hpp"
#include "models/streams.hpp"

#include <algorithm>
#include <cmath>

namespace citysim::models {

namespace sc = citysim::scenario;

const sc::Record<IncumbentsParams>& incumbents_schema() {
    static const auto schema = [] {
        using P = IncumbentsParams;
        sc::Record<P> r("Large incumbent firms: hiring, wage premium, projects");
        r.boolean("enabled", &P::enabled, "let the scenario's incumbents employ talent and grow", true);
        r.real("project_interval_years", &P::project_interval_years, "years", "time between an incumbent's projects",
               1.0, sc::Range::closed(0.01, 100));
        r.real("hiring_share_per_step", &P::hiring_share_per_step, "1",
               "largest share of a city's free same-field talent an establishment hires in one step", 0.05,
               sc::Range::unit_interval());
        r.real("location_home_preference", &P::location_home_preference, "utility",
               "utility of putting a project in the incumbent's home city", 3.0, sc::Range::closed(0, 100));
        r.real("location_cost_weight", &P::location_cost_weight, "utility",
               "disutility per log point of a city's rent over the home city's", 2.0, sc::Range::closed(0, 100));
        r.real("location_pool_weight", &P::location_pool_weight, "utility",
               "utility per log point of a city's free same-field talent over the home city's", 0.5,
               sc::Range::closed(0, 100));
        r.real("location_cost_per_hour", &P::location_cost_per_hour, "utility/hour",
               "disutility per hour of travel time from home", 0.1, sc::Range::closed(0, 100));
        return r;
    }();
    return schema;
}

const sc::Record<IncumbentParams>& incumbent_schema() {
    static const auto schema = [] {
        using P = IncumbentParams;
        sc::Record<P> r("A large incumbent firm based in the city");
        r.named_reals("employees", &P::employees, "field", "persons",
                      "talent it employs in the city at the start, per field", sc::Range::closed(0, 1e8));
        r.real("wage_premium", &P::wage_premium, "1", "multiplier on the market wage it pays", 1.2,
               sc::Range::closed(0.1, 10));
        r.real("growth_rate", &P::growth_rate, "1/year", "growth of its employment through projects", 0.03,
               sc::Range::closed(0, 1));
        return r;
    }();
    return schema;
}

Incumbents::Incumbents(const IncumbentsParams& params,
                       const std::vector<std::vector<sc::Named<IncumbentParams>>>& incumbents, CityState& state)
    : params_(params) {
    if (!params_.enabled) return;
    for (std::size_t c = 0; c < incumbents.size(); ++c)
        for (const auto& incumbent : incumbents[c]) {
            const auto index = static_cast<std::uint32_t>(growth_rate_.size());
            growth_rate_.push_back(incumbent.value.growth_rate);
            for (const auto& employees : incumbent.value.employees) {
                const auto f = static_cast<std::size_t>(
                    std::find(state.field_names.begin(), state.field_names.end(), employees.name) - state.field_names.begin());
                const auto row = open_establishment(state, index, no_firm, c, c, f, 0,
                                                    static_cast<float>(incumbent.value.wage_premium));
                state.ecosystem.firms.table.column(state.ecosystem.firms.target_team)[row] =
                    static_cast<std::int32_t>(std::llround(employees.value / state.persons_per_agent));
            }
        }
}

void Incumbents::retune(const IncumbentsParams& params,
                        const std::vector<std::vector<sc::Named<IncumbentParams>>>& incumbents) {
    const bool enabled = params_.enabled;
    params_ = params;
    params_.enabled = enabled;
    if (!enabled) return;
    std::size_t index = 0;
    for (const auto& city : incumbents)
        for (const auto& incumbent : city) growth_rate_[index++] = incumbent.value.growth_rate;
}

std::uint32_t Incumbents::open_establishment(CityState& state, std::uint32_t incumbent, std::uint32_t home_row,
                                             std::size_t city, std::size_t home, std::size_t field, std::uint32_t step,
                                             float wage_premium) {
    auto& firms = state.ecosystem.firms;
    auto& t = firms.table;
    const auto row = static_cast<std::uint32_t>(t.append(1));
    t.column(firms.kind)[row] = static_cast<std::uint8_t>(FirmKind::incumbent);
    t.column(firms.city)[row] = static_cast<CityIndex>(city);
    t.column(firms.origin_city)[row] = static_cast<CityIndex>(home);
    t.column(firms.field)[row] = static_cast<FieldIndex>(field);
    t.column(firms.birth_step)[row] = step;
    t.column(firms.wage_premium)[row] = wage_premium;
    t.column(firms.parent)[row] = home_row == no_firm ? row : home_row;
    establishments_.push_back({row, incumbent});
    return row;
}

std::vector<double> Incumbents::location_probabilities(const CityState& state, std::size_t home, std::size_t field) const {
    const std::size_t cities = state.cities();
    const auto& free = state.ecosystem.free_talent;
    std::vector<double> u(cities);
    // Land granted at a discount at home (policy.hpp, incumbent_land) makes home cheaper for projects.
    const double home_discount =
        home < state.policy.incumbent_rent_share.size() ? 1.0 - state.policy.incumbent_rent_share[home] : 1.0;
    for (std::size_t d = 0; d < cities; ++d)
        u[d] = (d == home ? params_.location_home_preference : 0.0) -
               params_.location_cost_weight * std::log(state.rent[d] / (state.rent[home] * home_discount)) +
               params_.location_pool_weight * std::log((static_cast<double>(free[state.city_field(d, field)]) + 1.0) /
                                                       (static_cast<double>(free[state.city_field(home, field)]) + 1.0)) -
               params_.location_cost_per_hour * state.travel_hours[home * cities + d];
    weights_from_utilities(u);
    double sum = 0.0;
    for (const double x : u) sum += x;
    for (double& x : u) x /= sum;
    return u;
}

void Incumbents::step(CityState& state, HiringPool& pool, const engine::StreamKey& streams, double years_per_step) {
    if (!params_.enabled || establishments_.empty()) return;
    auto& eco = state.ecosystem;
    auto& firms = eco.firms;
    auto& t = firms.table;
    const auto step = streams.step;
    const auto interval = std::max<std::int64_t>(1, std::llround(params_.project_interval_years / years_per_step));

    if (step % interval == 0) {
        const std::size_t homes = establishments_.size();  // projects may add establishments below
        for (std::size_t e = 0; e < homes; ++e) {
            // Columns are looked up afresh each time: opening an establishment appends a firm row,
            // which may move them.
            const auto city = std::as_const(t).column(firms.city);
            const auto field = std::as_const(t).column(firms.field);
            const auto parent = std::as_const(t).column(firms.parent);
            const auto [r, index] = establishments_[e];
            if (parent[r] != r) continue;
            const std::size_t home = city[r], f = field[r];
            std::int64_t target = 0;  // agents, all establishments of this incumbent and field
            for (const auto& other : establishments_)
                if (other.incumbent == index && field[other.row] == f) target += t.column(firms.target_team)[other.row];
            const auto w = engine::random_words(streams, t.ids()[r], streams::incumbent_project);
            const double expected =
                growth_rate_[index] * static_cast<double>(interval) * years_per_step * static_cast<double>(target);
            const auto size = engine::stochastic_round(expected, w[0]);
            if (size <= 0) continue;
            const auto p = location_probabilities(state, home, f);
            double u = engine::uniform_open(w[1]);
            std::size_t d = 0;
            while (d + 1 < p.size() && u >= p[d]) u -= p[d++];
            std::uint32_t target_row = r;
            if (d != home) {
                // (A copy: clang 14 cannot capture a structured binding.)
                const auto incumbent = index;
                const auto there = std::find_if(establishments_.begin(), establishments_.end(), [&](const auto& other) {
                    return other.incumbent == incumbent && field[other.row] == f && city[other.row] == d;
                });
                target_row = there != establishments_.end()
                                 ? there->row
                                 : open_establishment(state, index, r, d, home, f, step, t.column(firms.wage_premium)[r]);
            }
            t.column(firms.target_team)[target_row] += static_cast<std::int32_t>(size);
            eco.events.add(static_cast<std::int64_t>(t.ids()[target_row]), step, static_cast<std::int64_t>(d),
                           static_cast<std::int64_t>(f), FirmEvent::expanded, static_cast<double>(size) * state.persons_per_agent,
                           static_cast<std::int64_t>(home));
        }
    }
    hire(state, pool, streams);
}

void Incumbents::hire(CityState& state, HiringPool& pool, const engine::StreamKey& streams, bool unlimited) const {
    auto& firms = state.ecosystem.firms;
    auto& t = firms.table;
    // An establishment hires from its own city and field only, into itself: the establishments of
    // different (city, field)s hire in parallel, those of one (city, field) one after another in
    // firm-row order (each one's cap depends on what the ones before it left).
    const auto city = std::as_const(t).column(firms.city);
    const auto field = std::as_const(t).column(firms.field);
    std::vector<std::uint32_t> order(establishments_.size());
    std::vector<std::size_t> group_start(state.cities() * state.fields() + 1, 0);
    for (const auto& e : establishments_) ++group_start[state.city_field(city[e.row], field[e.row]) + 1];
    std::vector<std::size_t> groups;
    for (std::size_t cf = 0; cf + 1 < group_start.size(); ++cf) {
        if (group_start[cf + 1] > 0) groups.push_back(cf);
        group_start[cf + 1] += group_start[cf];
    }
    {
        std::vector<std::size_t> next(group_start.begin(), group_start.end() - 1);
        for (std::size_t e = 0; e < establishments_.size(); ++e)
            order[next[state.city_field(city[establishments_[e].row], field[establishments_[e].row])]++] =
                static_cast<std::uint32_t>(e);
    }
    engine::for_each_block(
        groups.size(),
        [&](std::size_t g, std::size_t, std::size_t) {
            const std::size_t cf = groups[g];
            for (std::size_t k = group_start[cf]; k < group_start[cf + 1]; ++k) {
                const std::uint32_t r = establishments_[order[k]].row;
                const std::int32_t missing = t.column(firms.target_team)[r] - t.column(firms.team)[r];
                if (missing <= 0) continue;
                const auto cap = unlimited ? missing : static_cast<std::int32_t>(std::max<double>(
                    1.0, std::floor(params_.hiring_share_per_step * static_cast<double>(pool.available(cf)))));
                // Hires beyond one step's 1024 draws wait for the next call.
                for (std::int32_t left = std::min(missing, cap); left > 0;) {
                    const auto got = pool.hire(state, r, EmployerKind::incumbent, cf, left, streams, streams::hiring, t.ids()[r]);
                    if (got == 0 || !unlimited) break;
                    left -= got;
                }
            }
        },
        1);
}


// Checkpoints: the establishments opened so far (growth rates are parameters). A member added to
// Incumbents stops the build here until it is saved below.
CITYSIM_CHECKPOINTED(Incumbents, 104);
void Incumbents::save_or_restore(checkpoint::Archive& archive) {
    auto scope = archive.section("incumbents");
    archive.records("establishments", establishments_);
}

}  // namespace citysim::models
