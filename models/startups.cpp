#include "models/startups.hpp"

#include "engine/checkpoint/archive.hpp"
#include "engine/parallel.hpp"
#include "models/firms.hpp"
#include "models/streams.hpp"

#include <algorithm>
#include <cmath>

namespace citysim::models {

namespace sc = citysim::scenario;

const sc::Record<StartupParams>& startup_schema() {
    static const auto schema = [] {
        using P = StartupParams;
        sc::Record<P> r("Start-ups: burn, progress, failure, exits, breakthroughs, hiring");
        r.boolean("enabled", &P::enabled, "let start-ups burn cash, progress, raise, hire, fail and exit (off: held as founded)",
                  true);
        r.real("salary_share", &P::salary_share, "1", "share of the market wage a start-up pays in cash (the rest in equity)",
               0.8, sc::Range::closed(0, 2));
        r.real("tightness_elasticity", &P::tightness_elasticity, "1",
               "elasticity of a start-up's pay to the city's talent over its free talent (recruiting in a tight market)",
               1.0, sc::Range::closed(0, 10));
        r.real("office_m2_per_person", &P::office_m2_per_person, "m2/person", "office space per team member", 8.0,
               sc::Range::closed(0, 100));
        r.real("office_rent_ratio", &P::office_rent_ratio, "1",
               "office rent per m2 over the city's residential rent per m2 (ties office costs to the housing market)",
               1.5, sc::Range::closed(0, 20));
        r.real("progress_drift", &P::progress_drift, "progress/year", "expected progress per year of a skill-1 team", 0.05,
               sc::Range::closed(-10, 10));
        r.real("progress_volatility", &P::progress_volatility, "progress/sqrt(year)", "volatility of progress", 0.5,
               sc::Range::closed(0, 10));
        r.real("quality_elasticity", &P::quality_elasticity, "1", "elasticity of the drift to the team's mean skill",
               1.0, sc::Range::closed(0, 10));
        r.real("spillover_elasticity", &P::spillover_elasticity, "1",
               "elasticity of the drift to 1 + same-field start-ups per 1000 same-field talent in the city", 0.15,
               sc::Range::closed(0, 10));
        r.real("research_spillover", &P::research_spillover, "1",
               "log-drift and log-breakthrough rate gained per unit of basic-research share x field relatedness", 2.0,
               sc::Range::closed(0, 100));
        r.real("abandon_progress", &P::abandon_progress, "progress", "the founder gives up when progress falls below this",
               -0.75, sc::Range::closed(-100, 0));
        r.real("expected_progress_per_year", &P::expected_progress_per_year, "progress/year",
               "the give-up line rises by this much per year of age", 0.2, sc::Range::closed(0, 10));
        r.real("exit_progress", &P::exit_progress, "progress", "progress from which a start-up can be acquired", 2.5,
               sc::Range::closed(0, 100));
        r.real("listing_progress", &P::listing_progress, "progress", "progress from which it can list", 4.0,
               sc::Range::closed(0, 100));
        r.real("acquisition_rate", &P::acquisition_rate, "1/year", "rate of acquisition once possible", 0.3,
               sc::Range::closed(0, 100));
        r.real("listing_rate", &P::listing_rate, "1/year", "rate of listing once possible", 0.3, sc::Range::closed(0, 100));
        r.real("exit_multiple", &P::exit_multiple, "1", "exit value over the capital raised at exit_progress", 2.0,
               sc::Range::closed(0, 1000));
        r.real("exit_progress_premium", &P::exit_progress_premium, "1/progress",
               "log exit value gained per unit of progress beyond exit_progress", 0.3, sc::Range::closed(0, 10));
        r.real("round_dilution", &P::round_dilution, "1", "share of the firm each round sells to investors", 0.2,
               sc::Range::closed(0, 0.99));
        r.real("hire_runway_years", &P::hire_runway_years, "years",
               "a start-up hires only people its cash can pay for this long", 1.5, sc::Range::closed(0.01, 100));
        r.real("hiring_growth_per_step", &P::hiring_growth_per_step, "1",
               "largest growth of a team in one step, as a share of the team (plus one person)", 0.25,
               sc::Range::closed(0, 100));
        r.integer("max_team", &P::max_team, "persons", "largest start-up team", 1000, sc::Range::closed(1, 1000000));
        r.real("breakthrough_rate", &P::breakthrough_rate, "1/year",
               "breakthrough rate of a mature skill-1 team with no spillovers, research or capital", 5e-05,
               sc::Range::closed(0, 10));
        r.real("breakthrough_quality_elasticity", &P::breakthrough_quality_elasticity, "1",
               "elasticity of the breakthrough rate to the team's mean skill", 3.0, sc::Range::closed(0, 20));
        r.real("breakthrough_spillover_ratio", &P::breakthrough_spillover_ratio, "1",
               "power of the drift's same-field spillover factor in the breakthrough rate", 2.0, sc::Range::closed(0, 20));
        r.real("breakthrough_capital_elasticity", &P::breakthrough_capital_elasticity, "1",
               "elasticity of the breakthrough rate to 1 + capital raised / seed_round", 0.3, sc::Range::closed(0, 10));
        r.real("breakthrough_maturity_years", &P::breakthrough_maturity_years, "years",
               "age until which the breakthrough rate grows linearly", 3.0, sc::Range::closed(0, 100));
        r.real("breakthrough_progress", &P::breakthrough_progress, "progress", "progress a breakthrough adds", 2.0,
               sc::Range::closed(0, 100));
        r.real("breakthrough_value_multiple", &P::breakthrough_value_multiple, "1",
               "exit value multiplier of a firm that made a breakthrough", 10.0, sc::Range::closed(1, 10000));
        return r;
    }();
    return schema;
}

double Startups::tightness_premium(const CityState& state, std::size_t city_field) const {
    if (params_.tightness_elasticity == 0.0 || !state.ecosystem.enabled) return 1.0;
    const double talent = std::max<double>(1.0, static_cast<double>(state.talent_count[city_field]));
    const double free = std::max<double>(1.0, static_cast<double>(state.ecosystem.free_talent[city_field]));
    return std::pow(std::max(1.0, talent / free), params_.tightness_elasticity);
}

void Startups::update_tightness(const CityState& state) const {
    tightness_.resize(state.cities() * state.fields());
    for (std::size_t cf = 0; cf < tightness_.size(); ++cf) tightness_[cf] = tightness_premium(state, cf);
}

namespace {
enum Outcome : std::uint8_t { seek = 1, fail = 2, acquire = 4, list = 8, breakthrough = 16 };
}

void Startups::end_firm(CityState& state, std::uint32_t row, FirmStatus how, const VentureCapital& venture_capital,
                        double investor_proceeds, std::uint32_t step) const {
    auto& eco = state.ecosystem;
    auto& t = eco.firms.table;
    const auto& firms = eco.firms;
    const std::size_t c = t.column(firms.city)[row], f = t.column(firms.field)[row];
    const std::size_t cf = state.city_field(c, f);
    t.column(firms.status)[row] = static_cast<std::uint8_t>(how);
    t.column(firms.end_step)[row] = step;
    const auto team = t.column(firms.team)[row];
    eco.employment[cf * employer_kinds + employer_axis_index(EmployerKind::startup)] -= team;
    eco.employment[cf * employer_kinds + employer_axis_index(EmployerKind::other)] += team;
    eco.founders[cf] -= t.column(firms.founder_present)[row];
    --eco.startups_alive[cf];
    const auto id = static_cast<std::int64_t>(t.ids()[row]);
    const double represents = t.column(firms.represents)[row];
    if (how == FirmStatus::failed) {
        ++eco.failures[cf];
        venture_capital.write_off(state, row);
        eco.events.add(id, step, c, f, FirmEvent::failed, t.column(firms.raised)[row] * represents);
    } else {
        ++(how == FirmStatus::listed ? eco.listings : eco.acquisitions)[cf];
        venture_capital.pay_out(state, row, investor_proceeds);
        eco.events.add(id, step, c, f, how == FirmStatus::listed ? FirmEvent::listed : FirmEvent::acquired,
                       investor_proceeds + t.column(firms.founder_payout)[row] * represents);
    }
}

void Startups::step(CityState& state, HiringPool& pool, const VentureCapital& venture_capital,
                    const engine::StreamKey& streams, double years_per_step) const {
    auto& eco = state.ecosystem;
    auto& t = eco.firms.table;
    const auto& firms = eco.firms;
    if (t.size() == 0 || !params_.enabled) return;
    update_tightness(state);
    const std::size_t cities = state.cities(), fields = state.fields(), cf_count = cities * fields;
    const auto step = streams.step;

    // Per (city, field): the parts of the drift and of the breakthrough rate that all firms there share.
    std::vector<double> spill(cf_count), research(cf_count), drift(cf_count), breakthrough_base(cf_count);
    for (std::size_t c = 0; c < cities; ++c)
        for (std::size_t f = 0; f < fields; ++f) {
            const std::size_t cf = c * fields + f;
            const double talent = std::max<double>(1.0, static_cast<double>(state.talent_count[cf]));
            spill[cf] = std::pow(1.0 + 1000.0 * static_cast<double>(eco.startups_alive[cf]) / talent,
                                 params_.spillover_elasticity);
            research[cf] = std::exp(params_.research_spillover * eco.basic_research[c] * eco.research_relatedness[f]);
            drift[cf] = years_per_step * params_.progress_drift * spill[cf] * research[cf];
            breakthrough_base[cf] = years_per_step * params_.breakthrough_rate *
                                    std::pow(spill[cf], params_.breakthrough_spillover_ratio) * research[cf];
        }
    const double listing_p = 1.0 - std::exp(-params_.listing_rate * years_per_step);
    const double acquisition_p = 1.0 - std::exp(-params_.acquisition_rate * years_per_step);
    // Powers with the common small integer exponents done by multiplication.
    auto power = [](double x, double e) {
        if (e == 1.0) return x;
        if (e == 2.0) return x * x;
        if (e == 3.0) return x * x * x;
        return std::pow(x, e);
    };
    const bool capital_bound_holds = params_.breakthrough_capital_elasticity <= 1.0;
    const double sqrt_dt = std::sqrt(years_per_step);
    const double seek_years = venture_capital.params().seek_runway_months / 12.0;
    const double seed_round = venture_capital.params().seed_round;

    const auto ids = t.ids();
    const auto kind = std::as_const(t).column(firms.kind);
    const auto status = std::as_const(t).column(firms.status);
    const auto city = std::as_const(t).column(firms.city);
    const auto field = std::as_const(t).column(firms.field);
    const auto team = std::as_const(t).column(firms.team);
    const auto team_skill = std::as_const(t).column(firms.team_skill);
    const auto founder_present = std::as_const(t).column(firms.founder_present);
    const auto birth = std::as_const(t).column(firms.birth_step);
    const auto raised = std::as_const(t).column(firms.raised);
    auto cash = t.column(firms.cash);
    auto progress = t.column(firms.progress);
    auto breakthroughs = t.column(firms.breakthroughs);

    // Agents a start-up wants to add this step: as many as its cash pays for over hire_runway_years,
    // within its growth cap.
    auto hires_wanted = [&](std::size_t r, std::int32_t n, double cash_now, bool founder_here, double quality) {
        const double cost_of_one_more = burn_per_year(state, city[r], field[r], n + 1, founder_here, quality) -
                                        burn_per_year(state, city[r], field[r], n, founder_here, quality);
        if (cost_of_one_more <= 0.0 || cash_now <= 0.0) return std::int32_t{0};
        const double affordable = 1.0 + std::floor(cash_now / (params_.hire_runway_years * cost_of_one_more));
        const double growth_cap = n + 1.0 + std::floor(params_.hiring_growth_per_step * n);
        const auto desired = static_cast<std::int32_t>(
            std::min({affordable, growth_cap, static_cast<double>(params_.max_team)}));
        return std::max(0, desired - n);
    };
    auto mean_skill = [&](std::size_t r, std::int32_t n) {
        return n > 0 ? static_cast<double>(team_skill[r]) / (skill_fixed_point * n) : 1.0;
    };
    // The live start-ups in row order, which the serial loop below keeps.
    eco.alive.refresh(firms);
    auto& live = scratch_.live;
    live.clear();
    for (const std::uint32_t r : eco.alive.rows)
        if (kind[r] == static_cast<std::uint8_t>(FirmKind::startup)) live.push_back(r);
    // Most start-ups neither raise, fail nor exit in a step: what they want to hire is worked out
    // in the parallel pass (cash and team do not change for them before hiring).
    auto& outcome = scratch_.outcome;
    auto& request = scratch_.request;  // by position in `live`; wanted -1: not worked out there
    outcome.assign(live.size(), 0);
    request.assign(live.size(), HiringPool::HireRequest{0, 0, -1, 0});
    constexpr std::size_t prefetch_ahead = 8;

    engine::for_each_block(
        live.size(),
        [&, ids, city, field, team, team_skill, founder_present, birth, raised, cash, progress,
         breakthroughs](std::size_t begin, std::size_t end, std::size_t) {
            for (std::size_t j = begin; j < end; ++j) {
                // Live rows are scattered over the firm table: fetch a later firm's columns while
                // this one is worked out.
                if (j + prefetch_ahead < end) {
                    const std::size_t next = live[j + prefetch_ahead];
                    __builtin_prefetch(&ids[next]);
                    __builtin_prefetch(&city[next]);
                    __builtin_prefetch(&field[next]);
                    __builtin_prefetch(&team[next]);
                    __builtin_prefetch(&team_skill[next]);
                    __builtin_prefetch(&founder_present[next]);
                    __builtin_prefetch(&birth[next]);
                    __builtin_prefetch(&raised[next]);
                    __builtin_prefetch(&cash[next], 1);
                    __builtin_prefetch(&progress[next], 1);
                    __builtin_prefetch(&breakthroughs[next], 1);
                }
                const std::size_t r = live[j];
                const std::size_t cf = city[r] * fields + field[r];
                const std::int32_t n = team[r];
                auto work_out_request = [&](double quality) {
                    request[j] = {static_cast<std::uint32_t>(r), cf,
                                  hires_wanted(r, n, cash[r], founder_present[r] != 0, quality), ids[r]};
                };
                if (birth[r] == step) {  // founded this step: it only hires (if its cash is not negative)
                    if (cash[r] >= 0.0) work_out_request(mean_skill(r, n));
                    continue;
                }
                if (n <= 0) {
                    outcome[j] = fail;
                    continue;
                }
                const double quality = mean_skill(r, n);
                const double burn = burn_per_year(state, city[r], field[r], n, founder_present[r] != 0, quality);
                cash[r] -= burn * years_per_step;
                const auto w = engine::random_words(streams, ids[r], streams::startup_fate);
                const double age = static_cast<double>(step - birth[r]) * years_per_step;
                progress[r] += drift[cf] * power(quality, params_.quality_elasticity) +
                               params_.progress_volatility * sqrt_dt * engine::standard_normal(w[0], w[1]);
                std::uint8_t out = 0;
                if (breakthroughs[r] == 0) {
                    // x = rate * dt; the probability 1 - exp(-x) <= x <= the bound with (1 + y)
                    // for (1 + y)^e (e <= 1), so most firms are ruled out without a pow or exp.
                    const double u = engine::uniform_open(w[2]);
                    const double maturity = params_.breakthrough_maturity_years > 0
                                                ? std::min(1.0, age / params_.breakthrough_maturity_years)
                                                : 1.0;
                    const double common = breakthrough_base[cf] *
                                          power(quality, params_.breakthrough_quality_elasticity) * maturity;
                    const double capital = 1.0 + raised[r] / seed_round;
                    if ((!capital_bound_holds || u < common * capital) &&
                        u < -std::expm1(-common * std::pow(capital, params_.breakthrough_capital_elasticity))) {
                        out |= breakthrough;
                        breakthroughs[r] = 1;
                        progress[r] += params_.breakthrough_progress;
                    }
                }
                const double u = engine::uniform_open(w[3]);
                if (progress[r] < params_.abandon_progress + params_.expected_progress_per_year * age) {
                    out |= fail;
                } else if (progress[r] >= params_.listing_progress && u < listing_p) {
                    out |= list;
                } else if (progress[r] >= params_.exit_progress && u < acquisition_p) {
                    out |= acquire;
                } else if (cash[r] < seek_years * burn) {
                    out |= seek;
                }
                outcome[j] = out;
                if ((out & ~breakthrough) == 0 && cash[r] >= 0.0) work_out_request(quality);
            }
        },
        1024);

    auto& hires = scratch_.hires;
    hires.clear();
    auto rounds = t.column(firms.rounds);
    auto payout = t.column(firms.founder_payout);
    const auto represents = std::as_const(t).column(firms.represents);
    for (std::size_t j = 0; j < live.size(); ++j) {
        const std::uint8_t out = outcome[j];
        // Most start-ups only hire, with what the parallel pass worked out; this loop then reads
        // nothing of the firm table.
        if (request[j].wanted >= 0 && out == 0) {
            if (request[j].wanted > 0) hires.push_back(request[j]);
            continue;
        }
        const std::uint32_t r = live[j];
        const std::size_t cf = city[r] * fields + field[r];
        if (out & breakthrough) {
            ++eco.breakthroughs[cf];
            eco.events.add(static_cast<std::int64_t>(ids[r]), step, city[r], field[r], FirmEvent::breakthrough,
                           raised[r] * represents[r]);
        }
        if (out & (list | acquire)) {
            const double value = params_.exit_multiple * std::max(raised[r], seed_round) *
                                 std::exp(params_.exit_progress_premium * (progress[r] - params_.exit_progress)) *
                                 (breakthroughs[r] ? params_.breakthrough_value_multiple : 1.0);
            const double investor_share = rounds[r] ? 1.0 - std::pow(1.0 - params_.round_dilution, rounds[r]) : 0.0;
            payout[r] = value * (1.0 - investor_share) + std::max(0.0, cash[r]);
            end_firm(state, r, (out & list) ? FirmStatus::listed : FirmStatus::acquired, venture_capital,
                     value * investor_share * represents[r], step);
            continue;
        }
        if (out & seek) venture_capital.seek_round(state, r, streams, years_per_step);
        if ((out & fail) || cash[r] < 0.0) {
            end_firm(state, r, FirmStatus::failed, venture_capital, 0.0, step);
            continue;
        }
        if (status[r] != static_cast<std::uint8_t>(FirmStatus::alive)) continue;
        std::int32_t more = request[j].wanted;
        if ((out & seek) || more < 0)  // a round may have added cash, or the firm is new
            more = hires_wanted(r, team[r], cash[r], founder_present[r] != 0, mean_skill(r, team[r]));
        if (more > 0) hires.push_back({r, cf, more, ids[r]});
    }
    pool.hire_batch(state, hires, EmployerKind::startup, streams, streams::hiring);
}


// Checkpoints: nothing that outlives a step: the tightness premiums and work lists are refilled each step. A member added to Startups stops the build here until it is saved below (or
// confirmed to be a parameter) and the size updated.
CITYSIM_CHECKPOINTED(Startups, 352);
void Startups::save_or_restore(checkpoint::Archive&) {}

}  // namespace citysim::models
