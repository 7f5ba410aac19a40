#include "models/founding.hpp"

#include "engine/checkpoint/archive.hpp"
#include "engine/parallel.hpp"
#include "models/logit.hpp"
#include "models/streams.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>

namespace citysim::models {

namespace sc = citysim::scenario;

const sc::Record<FoundingParams>& founding_schema() {
    static const auto schema = [] {
        using P = FoundingParams;
        sc::Record<P> r("Talent becoming founders, and where they found");
        r.boolean("enabled", &P::enabled, "let talent found start-ups", true);
        r.real("base_rate", &P::base_rate, "1/year",
               "founding rate of a skill-1 person with a year of runway (Q = 1), no peers, average pool and capital, "
               "tolerance 0, no research spillover and no employer effect",
               0.0008, sc::Range::closed(0, 1));
        r.real("max_rate", &P::max_rate, "1/year", "cap on any person's founding rate (also the thinning bound)", 0.05,
               sc::Range::closed(1e-6, 10));
        r.real("skill_elasticity", &P::skill_elasticity, "1", "elasticity of the rate to skill", 1.0,
               sc::Range::closed(0, 10));
        r.real("runway_elasticity", &P::runway_elasticity, "1",
               "exponent on the runway factor Q(runway); runway = savings over the household's annual housing cost in "
               "the city (the cost of living while unpaid)",
               1.0, sc::Range::closed(0, 10));
        r.real("runway_half_saturation_years", &P::runway_half_saturation_years, "years",
               "runway at which Q(runway) = r(1 + h)/(r + h) reaches half its ceiling 1 + h: more savings help less and "
               "less beyond it (smooth saturation instead of a cap)",
               1.5, sc::Range::closed(0.05, 100));
        r.real("peer_elasticity", &P::peer_elasticity, "1",
               "elasticity to 1 + founders per 1000 talent in the city (peers, role models)", 0.2,
               sc::Range::closed(0, 10));
        r.real("pool_elasticity", &P::pool_elasticity, "1",
               "elasticity to the city's same-field talent relative to the mean city", 0.3, sc::Range::closed(0, 10));
        r.real("capital_elasticity", &P::capital_elasticity, "1",
               "elasticity to venture capital within reach per talent person (+1 CNY) relative to the mean city", 0.2,
               sc::Range::closed(0, 10));
        r.real("tolerance_effect", &P::tolerance_effect, "1",
               "log-rate gained per unit of the city's failure tolerance (0..1)", 1.0, sc::Range::closed(0, 20));
        r.real("research_spillover", &P::research_spillover, "1",
               "log-rate gained per unit of basic-research share x field relatedness (knowledge spillover)", 3.0,
               sc::Range::closed(0, 100));
        r.real("refounding_stigma", &P::refounding_stigma, "1",
               "log-rate lost by a person whose start-up failed, where failure is not tolerated (tolerance 0)", 2.0,
               sc::Range::closed(0, 20));
        r.real("refounding_tolerance_effect", &P::refounding_tolerance_effect, "1",
               "log-rate a failed founder regains per unit of the city's failure tolerance", 2.5,
               sc::Range::closed(0, 20));
        r.real("incumbent_employee_factor", &P::incumbent_employee_factor, "1",
               "rate multiplier for people employed by an incumbent", 0.3, sc::Range::closed(0, 10));
        r.real("university_staff_factor", &P::university_staff_factor, "1",
               "rate multiplier for university staff (spin-outs)", 1.5, sc::Range::closed(0, 10));
        r.real("startup_employee_factor", &P::startup_employee_factor, "1",
               "rate multiplier for people employed by a start-up", 2.0, sc::Range::closed(0, 10));
        r.real("own_funds_share", &P::own_funds_share, "1", "share of the founder's savings put into the start-up",
               0.5, sc::Range::unit_interval());
        r.real("location_pool_weight", &P::location_pool_weight, "utility",
               "founder's utility per log point of a city's same-field talent (relative to the mean city)", 1.0,
               sc::Range::closed(0, 100));
        r.real("location_capital_weight", &P::location_capital_weight, "utility",
               "utility per log point of venture capital within reach per person", 0.3, sc::Range::closed(0, 100));
        r.real("location_cost_weight", &P::location_cost_weight, "utility",
               "disutility per log point of the city's rent (relative to the mean city)", 1.0,
               sc::Range::closed(0, 100));
        r.real("location_tolerance_weight", &P::location_tolerance_weight, "utility",
               "utility per unit of the city's failure tolerance", 1.0, sc::Range::closed(0, 100));
        r.real("location_home_preference", &P::location_home_preference, "utility",
               "utility of founding where the founder lives", 2.5, sc::Range::closed(0, 100));
        r.real("location_cost_per_hour", &P::location_cost_per_hour, "utility/hour",
               "disutility per hour of travel time from the founder's city", 0.2, sc::Range::closed(0, 100));
        return r;
    }();
    return schema;
}

Founding::Founding(const FoundingParams& params, std::vector<double> field_propensity, bool founders_may_move)
    : params_(params), field_propensity_(std::move(field_propensity)), founders_may_move_(founders_may_move) {}

namespace {
double mean_of(const std::vector<double>& v) {
    double s = 0.0;
    for (double x : v) s += x;
    return v.empty() ? 0.0 : s / static_cast<double>(v.size());
}
}  // namespace

void Founding::prepare(const CityState& state) {
    const auto& eco = state.ecosystem;
    cities_ = state.cities();
    fields_ = state.fields();
    log_rate_.assign(cities_ * fields_, 0.0);
    refounding_.assign(cities_, 0.0);
    housing_cost_.assign(cities_, 0.0);
    grant_expected_.assign(cities_, 0.0);
    location_support_.assign(cities_, 0.0);

    std::vector<double> pool(cities_ * fields_), field_mean(fields_, 0.0);
    for (std::size_t c = 0; c < cities_; ++c)
        for (std::size_t f = 0; f < fields_; ++f) {
            pool[c * fields_ + f] = static_cast<double>(state.talent_count[c * fields_ + f]) + 1.0;
            field_mean[f] += pool[c * fields_ + f] / static_cast<double>(cities_);
        }
    const double capital_mean = mean_of(eco.capital_access) + 1.0;
    const double rent_mean = mean_of(state.rent);

    for (std::size_t c = 0; c < cities_; ++c) {
        std::int64_t talent = 0, founders = 0;
        for (std::size_t f = 0; f < fields_; ++f) {
            talent += state.talent_count[c * fields_ + f];
            founders += eco.founders[c * fields_ + f];
        }
        const double founders_per_1000 = talent > 0 ? 1000.0 * static_cast<double>(founders) / static_cast<double>(talent) : 0.0;
        const double tolerance = eco.failure_tolerance[c];
        const double city_terms = params_.peer_elasticity * std::log1p(founders_per_1000) +
                                  params_.capital_elasticity * std::log((eco.capital_access[c] + 1.0) / capital_mean) +
                                  params_.tolerance_effect * tolerance;
        for (std::size_t f = 0; f < fields_; ++f)
            log_rate_[c * fields_ + f] =
                std::log(std::max(params_.base_rate, 1e-300)) + std::log(std::max(field_propensity_[f], 1e-300)) +
                city_terms + params_.pool_elasticity * std::log(pool[c * fields_ + f] / field_mean[f]) +
                params_.research_spillover * eco.basic_research[c] * eco.research_relatedness[f];
        refounding_[c] = -params_.refounding_stigma + params_.refounding_tolerance_effect * tolerance;
        housing_cost_[c] = state.annual_housing_cost(c);
        // Support founders expect from policies in force (policy.hpp): a grant lengthens the runway,
        // and a grant or a start-up rent subsidy makes the city a cheaper place to found.
        const auto& levers = state.policy;
        grant_expected_[c] = c < levers.founder_grant_expected.size() ? levers.founder_grant_expected[c] : 0.0;
        const double rent_relief = c < levers.startup_rent_expected.size() ? levers.startup_rent_expected[c] : 0.0;
        location_support_[c] =
            params_.location_cost_weight * (std::log1p(grant_expected_[c] / housing_cost_[c]) - std::log1p(-rent_relief));
    }
    unit_skill_elasticity_ = params_.skill_elasticity == 1.0;
    rate_bound_.assign(cities_ * fields_ * employer_slots, 0.0);
    const double longest_runway = params_.runway_elasticity * std::log1p(params_.runway_half_saturation_years);
    double employer_factor[employer_slots];
    for (std::size_t k = 0; k < employer_slots; ++k) employer_factor[k] = employer_log_factor(static_cast<EmployerKind>(k));

    // The part of a destination's utility that every origin shares, D[d,f], then its weight.
    destination_weight_.resize(fields_ * cities_);
    for (std::size_t d = 0; d < cities_; ++d)
        for (std::size_t f = 0; f < fields_; ++f)
            destination_weight_[f * cities_ + d] =
                params_.location_pool_weight * std::log(pool[d * fields_ + f] / field_mean[f]) +
                params_.location_capital_weight * std::log((eco.capital_access[d] + 1.0) / capital_mean) -
                params_.location_cost_weight * std::log(state.rent[d] / rent_mean) +
                params_.location_tolerance_weight * eco.failure_tolerance[d] + location_support_[d];
    for (std::size_t f = 0; f < fields_; ++f)
        weights_from_utilities(std::span(destination_weight_).subspan(f * cities_, cities_));
    auto& inputs = move_weight_inputs_;
    if (inputs.travel_hours != state.travel_hours || inputs.home_preference != params_.location_home_preference ||
        inputs.cost_per_hour != params_.location_cost_per_hour || move_weight_.empty()) {
        inputs = {state.travel_hours, params_.location_home_preference, params_.location_cost_per_hour};
        move_weight_.resize(cities_ * cities_);
        for (std::size_t o = 0; o < cities_; ++o)
            for (std::size_t d = 0; d < cities_; ++d)
                move_weight_[o * cities_ + d] =
                    d == o ? std::exp(inputs.home_preference)
                           : founders_may_move_ ? std::exp(-inputs.cost_per_hour * inputs.travel_hours[o * cities_ + d]) : 0.0;
    }
    for (std::size_t o = 0; o < cities_; ++o)
        for (std::size_t f = 0; f < fields_; ++f)
            for (std::size_t k = 0; k < employer_slots; ++k)
                rate_bound_[(o * fields_ + f) * employer_slots + k] =
                    std::exp(log_rate_[o * fields_ + f] + longest_runway + employer_factor[k] + std::max(0.0, refounding_[o])) *
                    (1.0 + 1e-6);
}

void Founding::location_row(std::size_t o, std::size_t f, double* cumulative) const {
    const double* destination = destination_weight_.data() + f * cities_;
    const double* move = move_weight_.data() + o * cities_;
    double running = 0.0;
    for (std::size_t d = 0; d < cities_; ++d) {
        running += destination[d] * move[d];
        cumulative[d] = running;
    }
}

double Founding::employer_log_factor(EmployerKind employer) const {
    switch (employer) {
        case EmployerKind::incumbent: return std::log(std::max(params_.incumbent_employee_factor, 1e-300));
        case EmployerKind::university: return std::log(std::max(params_.university_staff_factor, 1e-300));
        case EmployerKind::startup: return std::log(std::max(params_.startup_employee_factor, 1e-300));
        default: return 0.0;
    }
}

double Founding::rate(std::size_t city, std::size_t field, double skill, double savings, EmployerKind employer,
                      bool failed_before) const {
    if (employer == EmployerKind::founder) return 0.0;
    const double runway = std::max((savings + grant_expected_[city]) / housing_cost_[city], 0.05);
    double log_rate = log_rate_[city * fields_ + field] + params_.skill_elasticity * std::log(skill) +
                      params_.runway_elasticity * std::log(runway_factor(runway));
    log_rate += employer_log_factor(employer);
    if (failed_before) log_rate += refounding_[city];
    return std::min(params_.max_rate, std::exp(log_rate));
}

double Founding::runway_factor(double runway_years) const {
    const double half = params_.runway_half_saturation_years;
    return runway_years * (1.0 + half) / (runway_years + half);
}

std::vector<double> Founding::location_probabilities(std::size_t origin, std::size_t field) const {
    std::vector<double> row(cities_);
    location_row(origin, field, row.data());
    const double* cumulative = row.data();
    std::vector<double> p(cities_);
    for (std::size_t d = 0; d < cities_; ++d) p[d] = (cumulative[d] - (d ? cumulative[d - 1] : 0.0)) / cumulative[cities_ - 1];
    return p;
}

bool Founding::begin_step(CityState& state, const engine::StreamKey& streams, double years_per_step) {
    if (!params_.enabled) return false;
    prepare(state);
    auto& table = state.talent.table;
    scan_.streams = streams;
    scan_.years_per_step = years_per_step;
    scan_.candidate_p = 1.0 - std::exp(-params_.max_rate * years_per_step);
    scan_.ids = table.ids();
    scan_.city = std::as_const(table).column(state.talent.city);
    scan_.field = std::as_const(table).column(state.talent.field);
    scan_.skill = std::as_const(table).column(state.talent.skill);
    scan_.savings = std::as_const(table).column(state.talent.savings);
    scan_.failures = std::as_const(table).column(state.talent.failures);
    scan_.employer_kind = std::as_const(table).column(state.talent.employer_kind);
    scan_.next = table.column(state.talent.next_founding_step);
    block_founders_.resize(engine::block_count(table.size()));  // kept across steps
    for (auto& block : block_founders_) block.clear();
    return true;
}

void Founding::visit_block(std::size_t begin, std::size_t end, std::size_t block) {
    // About 0.4% of agents have a candidate event in a step: the block's due rows are listed first
    // (a branch that is almost never taken), then visited with the id and skill of the one a few
    // places on asked for (visit() would otherwise wait on those two cache misses).
    const std::uint32_t step = scan_.streams.step;
    const std::uint32_t* next = scan_.next.data();
    std::vector<std::uint32_t> due;
    due.reserve(64);
    for (std::size_t i = begin; i < end; ++i)
        if (next[i] <= step) due.push_back(static_cast<std::uint32_t>(i));
    const std::size_t count = due.size();
    constexpr std::size_t ahead = 4;
    for (std::size_t k = 0; k < count; ++k) {
        if (k + ahead < count) {
            __builtin_prefetch(scan_.ids.data() + due[k + ahead]);
            __builtin_prefetch(scan_.skill.data() + due[k + ahead]);
        }
        const std::uint32_t i = due[k];
        visit(i, block, static_cast<EmployerKind>(scan_.employer_kind[i]));
    }
}

void Founding::choose_locations(const CityState& state) {
    // Which (origin, field)s the step's founders come from; those rows of the location choice, in
    // parallel; then each founder's destination from its own draw.
    auto& founders = founders_;
    const auto city = state.talent.table.column(state.talent.city);
    const auto field = state.talent.table.column(state.talent.field);
    location_needed_.assign(cities_ * fields_, 0);
    for (const Founder& founder : founders) location_needed_[city[founder.row] * fields_ + field[founder.row]] = 1;
    std::vector<std::uint32_t> rows;
    for (std::size_t k = 0; k < location_needed_.size(); ++k)
        if (location_needed_[k]) rows.push_back(static_cast<std::uint32_t>(k));
    location_rows_.resize(cities_ * fields_ * cities_);
    engine::for_each_block(
        rows.size(),
        [&](std::size_t first, std::size_t last, std::size_t) {
            for (std::size_t k = first; k < last; ++k)
                location_row(rows[k] / fields_, rows[k] % fields_, location_rows_.data() + rows[k] * cities_);
        },
        std::max<std::size_t>(1, cities_ / 64));
    engine::for_each_block(
        founders.size(),
        [&](std::size_t first, std::size_t last, std::size_t) {
            for (std::size_t k = first; k < last; ++k) {
                Founder& founder = founders[k];
                const double* cumulative = location_rows_.data() + (city[founder.row] * fields_ + field[founder.row]) * cities_;
                const double target = engine::uniform_open(founder.location_word) * cumulative[cities_ - 1];
                const auto d = static_cast<std::size_t>(std::upper_bound(cumulative, cumulative + cities_, target) - cumulative);
                founder.destination = static_cast<CityIndex>(std::min(d, cities_ - 1));
            }
        },
        256);
}

std::vector<double> Founding::grants_paid(CityState& state, const std::vector<Founder>& founders) const {
    auto& levers = state.policy;
    std::vector<double> paid(cities_, 0.0);
    if (levers.founder_grant.size() != cities_) return paid;
    std::vector<double> founded(cities_, 0.0);
    for (const Founder& founder : founders) founded[founder.destination] += state.persons_per_agent;
    for (std::size_t c = 0; c < cities_; ++c) {
        if (levers.founder_grant[c] <= 0.0) continue;
        const double demand = founded[c] * levers.founder_grant[c];
        const double share = demand > levers.founder_grant_budget[c] ? levers.founder_grant_budget[c] / demand : 1.0;
        paid[c] = share * levers.founder_grant[c];
        levers.charge(c, PolicyInstrument::founder_grant, share * demand, share);
    }
    return paid;
}

void Founding::finish_step(CityState& state, const engine::StreamKey& streams) {
    auto& table = state.talent.table;
    const auto ids = table.ids();
    const auto field = std::as_const(table).column(state.talent.field);
    const auto skill = std::as_const(table).column(state.talent.skill);
    const auto failures = std::as_const(table).column(state.talent.failures);
    const auto step = streams.step;
    auto& eco = state.ecosystem;
    auto& firms = eco.firms;
    auto city = table.column(state.talent.city);
    auto arrival = table.column(state.talent.arrival_step);
    auto employer = table.column(state.talent.employer);
    auto employer_kind = table.column(state.talent.employer_kind);
    auto savings = table.column(state.talent.savings);
    auto pay = table.column(state.talent.pay);
    // The step's founders in block and row order; one append for all of their start-ups (rows and
    // ids as if appended one by one).
    auto& founders = founders_;
    founders.clear();
    for (const auto& block : block_founders_) founders.insert(founders.end(), block.begin(), block.end());
    choose_locations(state);
    const std::vector<double> grant = grants_paid(state, founders);
    if (founders.empty()) return;
    const std::size_t first_row = firms.table.append(founders.size());
    const auto firm_ids = firms.table.ids();
    auto& founded = founded_;
    founded.resize(founders.size());
    // Each founder's talent row and new firm row are its own: they are written in parallel (the
    // founders' rows are scattered over the talent table, and this hides their memory latency).
    // The team a founder leaves is shared with other founders: it is updated atomically (integer
    // updates, so the result does not depend on the order).
    auto kind_of = firms.table.column(firms.kind);
    auto status_of = firms.table.column(firms.status);
    auto firm_city = firms.table.column(firms.city);
    auto firm_field = firms.table.column(firms.field);
    auto origin_of = firms.table.column(firms.origin_city);
    auto founder_of = firms.table.column(firms.founder);
    auto birth_of = firms.table.column(firms.birth_step);
    auto represents_of = firms.table.column(firms.represents);
    auto cohort_firms_of = firms.table.column(firms.cohort_firms);
    auto cash_of = firms.table.column(firms.cash);
    auto team_of = firms.table.column(firms.team);
    auto team_skill_of = firms.table.column(firms.team_skill);
    auto peak_of = firms.table.column(firms.peak_team);
    auto present_of = firms.table.column(firms.founder_present);
    const auto persons_per_agent = static_cast<float>(state.persons_per_agent);
    constexpr std::size_t ahead = 4;
    engine::for_each_block(
        founders.size(),
        [&](std::size_t begin, std::size_t end, std::size_t) {
            for (std::size_t k = begin; k < end; ++k) {
                if (k + ahead < end) {
                    const std::size_t next = founders[k + ahead].row;
                    auto fetch = [next](const auto& column) { __builtin_prefetch(column.data() + next, 1); };
                    fetch(ids), fetch(city), fetch(field), fetch(skill), fetch(failures), fetch(employer),
                        fetch(employer_kind), fetch(savings), fetch(arrival), fetch(pay);
                }
                const Founder& founder = founders[k];
                const std::size_t i = founder.row, row = first_row + k;
                const CityIndex origin = city[i];
                const auto old_kind = static_cast<EmployerKind>(employer_kind[i]);
                if (employer[i] != no_firm) {  // leaves its employer: keep the team exact until the next census
                    std::atomic_ref<std::int32_t>(team_of[employer[i]]).fetch_sub(1, std::memory_order_relaxed);
                    std::atomic_ref<std::int64_t>(team_skill_of[employer[i]])
                        .fetch_sub(skill_units(skill[i]), std::memory_order_relaxed);
                }
                if (founder.destination != origin) {  // as state.move_talent(); its counts come below
                    city[i] = founder.destination;
                    arrival[i] = step;
                }
                kind_of[row] = static_cast<std::uint8_t>(FirmKind::startup);
                status_of[row] = static_cast<std::uint8_t>(FirmStatus::alive);
                firm_city[row] = founder.destination;
                firm_field[row] = field[i];
                origin_of[row] = origin;
                founder_of[row] = ids[i];
                birth_of[row] = step;
                represents_of[row] = persons_per_agent;
                cohort_firms_of[row] = persons_per_agent;
                const double own_funds = params_.own_funds_share * savings[i];
                cash_of[row] = own_funds + grant[founder.destination];
                savings[i] = static_cast<float>(savings[i] - own_funds);
                team_of[row] = 1;
                team_skill_of[row] = skill_units(skill[i]);
                peak_of[row] = 1;
                present_of[row] = 1;
                employer[i] = static_cast<std::uint32_t>(row);
                employer_kind[i] = static_cast<std::uint8_t>(EmployerKind::founder);
                pay[i] = 0.0f;
                founded[k] = {origin, field[i], old_kind, failures[i] > 0, own_funds};
            }
        },
        64);
    // The counts and the events, in founder order.
    for (std::size_t k = 0; k < founders.size(); ++k) {
        const Founder& founder = founders[k];
        const Founded& d = founded[k];
        const std::size_t old_cf = state.city_field(d.origin, d.field), cf = state.city_field(founder.destination, d.field);
        --eco.employment[old_cf * employer_kinds + employer_axis_index(d.old_kind)];
        if (d.old_kind == EmployerKind::other) --eco.free_talent[old_cf];
        if (founder.destination != d.origin) {
            ++state.departures[old_cf];
            ++state.arrivals[cf];
            --state.talent_count[old_cf];
            ++state.talent_count[cf];
            ++state.migration[d.origin * state.cities() + founder.destination];
        }
        ++eco.employment[cf * employer_kinds + employer_axis_index(EmployerKind::founder)];
        ++eco.founders[cf];
        const double founded_firms = static_cast<float>(state.persons_per_agent);
        eco.startups_alive[cf] += founded_firms;
        eco.births[cf] += founded_firms;
        if (d.failed_before) eco.refoundings[cf] += founded_firms;
        eco.events.add(static_cast<std::int64_t>(firm_ids[first_row + k]), step, founder.destination,
                       static_cast<std::int64_t>(d.field), FirmEvent::founded, d.own_funds * state.persons_per_agent,
                       d.origin);
    }
    for (auto& block : block_founders_) block.clear();
}

// Checkpoints: nothing that outlives a step: prepare() recomputes the rates and the location
// choice's parts each step (the move part when its inputs differ from those it was computed from),
// finish_step()'s lists are refilled, the due steps are a talent column.
// A member added to Founding stops the build here until it is saved below (or confirmed to be a
// parameter or scratch) and the size updated.
CITYSIM_CHECKPOINTED(Founding, 752);
void Founding::save_or_restore(checkpoint::Archive&) {}

}  // namespace citysim::models
