#include "models/policy.hpp"

#include "engine/checkpoint/archive.hpp"
#include "engine/parallel.hpp"
#include "models/firms.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace citysim::models {

namespace sc = citysim::scenario;

namespace {

const sc::Record<PolicyEligibility>& eligibility_schema() {
    static const auto schema = [] {
        sc::Record<PolicyEligibility> r("Who qualifies (talent_housing_subsidy, settlement_bonus)");
        r.text_list("fields", &PolicyEligibility::fields, "fields that qualify; empty = every field",
                    std::vector<std::string>{});
        r.real("min_skill", &PolicyEligibility::min_skill, "1", "lowest skill (wage multiplier, mean 1) that qualifies",
               0.0, sc::Range::closed(0, 100));
        r.real("max_years_in_city", &PolicyEligibility::max_years_in_city, "years",
               "longest time in the city that still qualifies (0 = any); new arrivals and new graduates have 0, "
               "talent there at the start of the run counts as established (beyond any limit)", 0.0,
               sc::Range::closed(0, 100));
        r.boolean("new_arrivals_only", &PolicyEligibility::new_arrivals_only,
                  "only talent that arrived in the city at or after start_step qualifies", false);
        return r;
    }();
    return schema;
}

}  // namespace

const sc::Record<PolicyParams>& policy_schema() {
    static const auto schema = [] {
        using P = PolicyParams;
        sc::Record<P> r("A policy: one instrument of one city, in force from start_step to end_step");
        r.choice("instrument", &P::instrument, policy_instrument_names(), "what the city does (docs/model.md, Policy)",
                 std::nullopt);
        r.text("city", &P::city, "the city that runs and pays for the policy (a name under cities)", std::nullopt);
        r.integer("start_step", &P::start_step, "steps", "first step in force", 0, sc::Range::closed(0, 100000));
        r.integer("end_step", &P::end_step, "steps", "first step no longer in force (0 = to the end of the run)", 0,
                  sc::Range::closed(0, 100000));
        r.real("budget_per_year", &P::budget_per_year, "CNY/year",
               "most the policy pays a year, spread evenly over the steps (0 = no cap); a cap that binds scales every "
               "payment of the step alike",
               0.0, sc::Range::closed(0, 1e13));
        r.real("rent_share", &P::rent_share, "1",
               "talent_housing_subsidy: share of the housing cost paid; startup_rent_subsidy: of the office rent; "
               "incumbent_land: discount on the home rent of incumbents' projects",
               0.0, sc::Range::closed(0, 0.9));
        r.real("amount_per_year", &P::amount_per_year, "CNY/person/year",
               "talent_housing_subsidy: a fixed amount a person-year, on top of rent_share (together at most 90% of the "
               "housing cost)",
               0.0, sc::Range::closed(0, 1e8));
        r.real("bonus", &P::bonus, "CNY/person", "settlement_bonus: paid once to each eligible person who moves in", 0.0,
               sc::Range::closed(0, 1e8));
        r.real("bonus_spread_years", &P::bonus_spread_years, "years",
               "settlement_bonus: years of income over which movers weigh the bonus", 5.0, sc::Range::closed(0.1, 100));
        r.real("grant", &P::grant, "CNY/firm", "founder_grant: paid as cash to each start-up founded in the city", 0.0,
               sc::Range::closed(0, 1e11));
        r.real("extra_floor_space_per_year", &P::extra_floor_space_per_year, "m2/year",
               "housing_supply: residential floor space built a year on land the city provides", 0.0,
               sc::Range::closed(0, 1e10));
        r.real("cost_per_m2", &P::cost_per_m2, "CNY/m2", "housing_supply: what the city pays per m2 built (land, subsidy)",
               0.0, sc::Range::closed(0, 1e7));
        r.real("floor_space_per_employee", &P::floor_space_per_employee, "m2/person",
               "incumbent_land: office space per employee on which the discount is granted", 10.0,
               sc::Range::closed(0, 1000));
        r.real("return_rebate_share", &P::return_rebate_share, "1",
               "vc_tax_incentive: share of the exit proceeds paid to the city's funds that the city rebates", 0.0,
               sc::Range::closed(0, 1));
        r.real("max_price_growth_per_year", &P::max_price_growth_per_year, "1/year",
               "price_cap: fastest growth of home prices allowed (0.05 = 5% a year)", 0.0, sc::Range::closed(0, 10));
        r.record("eligibility", &P::eligibility, eligibility_schema());
        return r;
    }();
    return schema;
}

std::optional<PolicyInstrument> find_instrument(const std::string& name) {
    const auto& names = policy_instrument_names();
    const auto it = std::find(names.begin(), names.end(), name);
    if (it == names.end()) return std::nullopt;
    return static_cast<PolicyInstrument>(it - names.begin());
}

PolicyInstrument instrument_of(const std::string& name) {
    if (const auto instrument = find_instrument(name)) return *instrument;
    throw std::invalid_argument("unknown policy instrument: " + name);
}

const std::vector<std::string>& instrument_keys(PolicyInstrument instrument) {
    static const std::vector<std::vector<std::string>> keys = {
        {"budget_per_year", "rent_share", "amount_per_year", "eligibility"},       // talent_housing_subsidy
        {"budget_per_year", "bonus", "bonus_spread_years", "eligibility"},         // settlement_bonus
        {"budget_per_year", "rent_share"},                                        // startup_rent_subsidy
        {"budget_per_year", "grant"},                                             // founder_grant
        {"budget_per_year", "extra_floor_space_per_year", "cost_per_m2"},         // housing_supply
        {"budget_per_year", "rent_share", "floor_space_per_employee"},            // incumbent_land
        {"budget_per_year", "return_rebate_share"},                               // vc_tax_incentive
        {"max_price_growth_per_year"},                                            // price_cap
    };
    return keys[static_cast<std::size_t>(instrument)];
}

Policies::Policies(const std::vector<scenario::Named<PolicyParams>>& policies, const PolicyRates& rates,
                   CityState& state)
    : rates_(rates) {
    state.policy.resize(state.cities());
    for (const auto& named : policies) {
        Active a;
        a.name = named.name;
        a.params = named.value;
        a.instrument = instrument_of(named.value.instrument);
        const auto c = std::find(state.city_names.begin(), state.city_names.end(), named.value.city);
        if (c == state.city_names.end()) throw std::invalid_argument("policy " + named.name + ": unknown city " + named.value.city);
        a.city = static_cast<CityIndex>(c - state.city_names.begin());
        a.field_eligible.assign(state.fields(), a.params.eligibility.fields.empty() ? 1 : 0);
        for (const auto& f : a.params.eligibility.fields) {
            const auto it = std::find(state.field_names.begin(), state.field_names.end(), f);
            if (it == state.field_names.end()) throw std::invalid_argument("policy " + named.name + ": unknown field " + f);
            a.field_eligible[static_cast<std::size_t>(it - state.field_names.begin())] = 1;
        }
        policies_.push_back(std::move(a));
    }
}

void Policies::retune(const std::vector<scenario::Named<PolicyParams>>& policies, const PolicyRates& rates) {
    rates_ = rates;
    for (std::size_t k = 0; k < policies_.size() && k < policies.size(); ++k) {
        auto& params = policies_[k].params;
        const auto eligibility = params.eligibility;
        const auto start = params.start_step, end = params.end_step;
        params = policies[k].value;
        params.eligibility = eligibility;
        params.start_step = start;
        params.end_step = end;
    }
}

double Policies::step_budget(const Active& policy, double years_per_step) const {
    return policy.params.budget_per_year > 0 ? policy.params.budget_per_year * years_per_step
                                             : std::numeric_limits<double>::infinity();
}

namespace {
double payout_share_of(double demand, double budget) { return demand > budget ? budget / demand : 1.0; }
// Two policies that each pay a share of the same rent pay 1 - (1 - a)(1 - b) of it together.
void add_share(double& combined, double share) { combined = 1.0 - (1.0 - combined) * (1.0 - share); }
}  // namespace

void Policies::begin_step(CityState& state, std::int64_t step, double years_per_step) {
    step_ = step;
    auto& levers = state.policy;
    const std::size_t fields = state.fields();
    levers.talent.clear();
    for (auto* v : {&levers.startup_rent_share, &levers.founder_grant, &levers.founder_grant_expected,
                    &levers.startup_rent_expected, &levers.incumbent_rent_share, &levers.vc_return_rebate})
        std::fill(v->begin(), v->end(), 0.0);
    std::fill(levers.founder_grant_budget.begin(), levers.founder_grant_budget.end(), 0.0);
    std::fill(levers.vc_rebate_budget.begin(), levers.vc_rebate_budget.end(), 0.0);
    std::fill(levers.max_price_growth.begin(), levers.max_price_growth.end(), std::numeric_limits<double>::infinity());

    for (std::size_t k = 0; k < policies_.size(); ++k) {
        Active& p = policies_[k];
        if (!in_force(p, step)) continue;
        const std::size_t c = p.city;
        const double budget = step_budget(p, years_per_step);
        const double expected = p.expected_payout_share;
        switch (p.instrument) {
            case PolicyInstrument::talent_housing_subsidy:
            case PolicyInstrument::settlement_bonus: {
                PolicyLevers::TalentRule rule;
                rule.city = p.city;
                rule.instrument = p.instrument;
                rule.field_eligible = p.field_eligible;
                rule.min_skill = static_cast<float>(p.params.eligibility.min_skill);
                if (p.params.eligibility.max_years_in_city > 0)
                    rule.max_steps_in_city =
                        static_cast<std::uint32_t>(std::floor(p.params.eligibility.max_years_in_city / years_per_step));
                if (p.params.eligibility.new_arrivals_only) rule.arrived_since = static_cast<std::uint32_t>(p.params.start_step);
                rule.arrival_gain.assign(fields, 0.0);
                rule.stay_gain.assign(fields, 0.0);
                rule.policy = k;
                const double housing_gain =
                    p.instrument == PolicyInstrument::talent_housing_subsidy
                        ? rates_.income_weight * rates_.housing_cost_share * -std::log(1.0 - expected * relief_share(p, state))
                        : 0.0;
                for (std::size_t f = 0; f < fields; ++f) {
                    if (!p.field_eligible[f]) continue;
                    if (p.instrument == PolicyInstrument::talent_housing_subsidy) {
                        rule.arrival_gain[f] = housing_gain;
                        rule.stay_gain[f] = housing_gain;
                    } else {
                        const double wage = state.wage[state.city_field(c, f)];
                        rule.arrival_gain[f] =
                            wage > 0 ? rates_.income_weight * std::log1p(expected * p.params.bonus / (p.params.bonus_spread_years * wage)) : 0.0;
                    }
                }
                levers.talent.push_back(std::move(rule));
                break;
            }
            case PolicyInstrument::startup_rent_subsidy:
                add_share(levers.startup_rent_expected[c], expected * p.params.rent_share);
                break;
            case PolicyInstrument::founder_grant:
                levers.founder_grant[c] += p.params.grant;
                levers.founder_grant_budget[c] += budget;
                levers.founder_grant_expected[c] += expected * p.params.grant;
                break;
            case PolicyInstrument::housing_supply: {
                const double space = p.params.extra_floor_space_per_year * years_per_step;
                const double demand = space * p.params.cost_per_m2;
                const double share = payout_share_of(demand, budget);
                levers.added_floor_space[c] += share * space;
                state.housing_stock[c] += share * space;
                state.policy.charge(p.city, p.instrument, share * demand, share);
                break;
            }
            case PolicyInstrument::incumbent_land:
                add_share(levers.incumbent_rent_share[c], expected * p.params.rent_share);
                break;
            case PolicyInstrument::vc_tax_incentive:
                levers.vc_return_rebate[c] += p.params.return_rebate_share;
                levers.vc_rebate_budget[c] += budget;
                break;
            case PolicyInstrument::price_cap:
                levers.max_price_growth[c] = std::min(levers.max_price_growth[c], p.params.max_price_growth_per_year);
                break;
        }
    }
}

double Policies::relief_share(const Active& policy, const CityState& state) const {
    const double housing_cost = state.annual_housing_cost(policy.city);
    const double from_amount = housing_cost > 0 ? policy.params.amount_per_year / housing_cost : 0.0;
    return std::min(0.9, policy.params.rent_share + from_amount);
}

void Policies::pay_talent(CityState& state, std::int64_t step, double years_per_step) {
    auto& rules = state.policy.talent;
    if (rules.empty()) return;
    auto& table = state.talent.table;
    const auto city = std::as_const(table).column(state.talent.city);
    const auto field = std::as_const(table).column(state.talent.field);
    const auto skill = std::as_const(table).column(state.talent.skill);
    const auto arrival = std::as_const(table).column(state.talent.arrival_step);
    const auto now = static_cast<std::uint32_t>(step);
    const std::size_t n_rules = rules.size();

    // What each rule pays a person in full this step. A rule that pays nothing (a subsidy set to 0,
    // as the classroom's sliders start) costs nothing and moves no savings whoever qualifies, so
    // when no rule pays the agents are not visited at all (the results are the same either way).
    std::vector<double> full(n_rules, 0.0);  // per person this step
    for (std::size_t r = 0; r < n_rules; ++r) {
        const Active& p = policies_[rules[r].policy];
        full[r] = rules[r].instrument == PolicyInstrument::talent_housing_subsidy
                      ? relief_share(p, state) * state.annual_housing_cost(p.city) * years_per_step
                      : p.params.bonus;
    }
    const bool any_pays = std::any_of(full.begin(), full.end(), [](double f) { return f != 0.0; });

    // Who qualifies: integer counts (exact in any order), then each rule's payout share.
    const auto counts = !any_pays ? std::vector<double>(n_rules, 0.0) : engine::reduce_blocks<double>(
        table.size(), n_rules, [&](std::size_t begin, std::size_t end, std::span<double> tally) {
            for (std::size_t i = begin; i < end; ++i)
                for (std::size_t r = 0; r < n_rules; ++r) {
                    const auto& rule = rules[r];
                    if (!rule.covers(city[i], field[i], skill[i], arrival[i], now)) continue;
                    if (rule.instrument == PolicyInstrument::settlement_bonus && arrival[i] != now) continue;
                    tally[r] += 1.0;
                }
        });
    for (std::size_t r = 0; r < n_rules; ++r) {
        auto& rule = rules[r];
        Active& p = policies_[rule.policy];
        const double persons = counts[r] * state.persons_per_agent;
        const double share = payout_share_of(persons * full[r], step_budget(p, years_per_step));
        if (rule.instrument == PolicyInstrument::talent_housing_subsidy)
            rule.relief_share = share * relief_share(p, state);
        else
            rule.bonus = share * p.params.bonus;
        p.expected_payout_share = share;
        state.policy.charge(p.city, p.instrument, share * persons * full[r], share);
    }
    if (!any_pays) return;

    // The payments: a subsidised person saves part of what is relieved; a bonus is saved whole.
    auto savings = table.column(state.talent.savings);
    std::vector<double> housing_saving(n_rules, 0.0);
    for (std::size_t r = 0; r < n_rules; ++r)
        housing_saving[r] = rules[r].instrument == PolicyInstrument::talent_housing_subsidy
                                ? rates_.saving_rate * years_per_step * rules[r].relief_share * state.annual_housing_cost(rules[r].city)
                                : 0.0;
    engine::for_each_block(table.size(), [&](std::size_t begin, std::size_t end, std::size_t) {
        for (std::size_t i = begin; i < end; ++i)
            for (std::size_t r = 0; r < n_rules; ++r) {
                const auto& rule = rules[r];
                if (!rule.covers(city[i], field[i], skill[i], arrival[i], now)) continue;
                if (rule.instrument == PolicyInstrument::talent_housing_subsidy)
                    savings[i] = static_cast<float>(savings[i] + housing_saving[r]);
                else if (arrival[i] == now)
                    savings[i] = static_cast<float>(savings[i] + rule.bonus);
            }
    });
}

void Policies::price_startup_rent(CityState& state, double years_per_step) {
    auto& levers = state.policy;
    bool any = false;
    for (const auto& p : policies_)
        any = any || (p.instrument == PolicyInstrument::startup_rent_subsidy && in_force(p, step_));
    if (!any) return;
    // The office rent the city's start-ups pay this step, before any subsidy (CNY).
    const std::size_t cities = state.cities();
    std::vector<double> rent_bill(cities, 0.0);
    const auto& firms = state.ecosystem.firms;
    const auto& t = firms.table;
    const auto kind = t.column(firms.kind);
    const auto status = t.column(firms.status);
    const auto city = t.column(firms.city);
    const auto team = t.column(firms.team);
    const auto represents = t.column(firms.represents);
    for (std::size_t r = 0; r < t.size(); ++r) {
        if (kind[r] != static_cast<std::uint8_t>(FirmKind::startup) || status[r] != static_cast<std::uint8_t>(FirmStatus::alive))
            continue;
        rent_bill[city[r]] += represents[r] * static_cast<float>(team[r]) * rates_.office_m2_per_person * 12.0 * rates_.office_rent_ratio *
                              state.rent[city[r]] * years_per_step;
    }
    for (auto& p : policies_) {
        if (p.instrument != PolicyInstrument::startup_rent_subsidy || !in_force(p, step_)) continue;
        const double demand = rent_bill[p.city] * p.params.rent_share;
        const double share = payout_share_of(demand, step_budget(p, years_per_step));
        add_share(levers.startup_rent_share[p.city], share * p.params.rent_share);
        p.expected_payout_share = share;
        state.policy.charge(p.city, p.instrument, share * demand, share);
    }
}

void Policies::end_step(CityState& state, double years_per_step) {
    for (auto& p : policies_) {
        if (!in_force(p, step_)) continue;
        if (p.instrument == PolicyInstrument::incumbent_land) {
            const std::size_t c = p.city;
            std::int64_t employed = 0;
            for (std::size_t f = 0; f < state.fields(); ++f)
                employed += state.ecosystem.employment[state.city_field(c, f) * employer_kinds +
                                                       employer_axis_index(EmployerKind::incumbent)];
            const double demand = p.params.rent_share * 12.0 * rates_.office_rent_ratio * state.rent[c] *
                                  p.params.floor_space_per_employee * static_cast<double>(employed) *
                                  state.persons_per_agent * years_per_step;
            const double share = payout_share_of(demand, step_budget(p, years_per_step));
            p.expected_payout_share = share;
            state.policy.charge(p.city, p.instrument, share * demand, share);
        } else if (p.instrument == PolicyInstrument::founder_grant || p.instrument == PolicyInstrument::vc_tax_incentive) {
            // Paid where the firms are founded and the funds are paid (founding.cpp, venture_capital.cpp);
            // founders and funds expect the share the ledger shows.
            const auto k = p.city * policy_instruments + static_cast<std::size_t>(p.instrument);
            p.expected_payout_share = state.policy.payout_share[k];
        }
    }
}


// Checkpoints: what each policy's recipients expect it to pay, by policy name. A fork may add policies
// that start after its checkpoint (models/fork.cpp checks): they keep their starting expectation.
// A member added to Policies stops the build here until it is saved below.
CITYSIM_CHECKPOINTED(Policies, 72);
void Policies::save_or_restore(checkpoint::Archive& archive) {
    auto scope = archive.section("policies");
    std::vector<std::string> names;
    std::vector<double> expected;
    for (const auto& p : policies_) {
        names.push_back(p.name);
        expected.push_back(p.expected_payout_share);
    }
    archive.texts("names", names);
    archive.values("expected_payout_share", expected);
    if (archive.saving()) return;
    if (names.size() != expected.size()) throw checkpoint::CheckpointError("checkpoint: policies and their expectations differ in number");
    for (auto& p : policies_)
        for (std::size_t k = 0; k < names.size(); ++k)
            if (names[k] == p.name) p.expected_payout_share = expected[k];
}

}  // namespace citysim::models
