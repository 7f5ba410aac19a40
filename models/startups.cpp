#include "models/startups.hpp"

#include "engine/checkpoint/archive.hpp"
#include "engine/parallel.hpp"
#include "models/firms.hpp"
#include "models/streams.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

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
                        double investor_proceeds, double founder_payout, std::uint32_t step) const {
    auto& eco = state.ecosystem;
    auto& t = eco.firms.table;
    const auto& firms = eco.firms;
    const std::size_t c = t.column(firms.city)[row], f = t.column(firms.field)[row];
    const std::size_t cf = state.city_field(c, f);
    t.column(firms.status)[row] = static_cast<std::uint8_t>(how);
    t.column(firms.end_step)[row] = step;
    const double represents = t.column(firms.represents)[row];
    const std::uint32_t team_row = team_of(std::as_const(t).column(firms.team_row), row);
    // The cohort loses this firm; the last firm of it releases the team (at the next census).
    auto members = t.column(firms.cohort_members);
    auto cohort_firms = t.column(firms.cohort_firms);
    --members[team_row];
    cohort_firms[team_row] = members[team_row] > 0 ? cohort_firms[team_row] - static_cast<float>(represents) : 0.0f;
    if (members[team_row] == 0) {
        const auto team = t.column(firms.team)[team_row];
        eco.employment[cf * employer_kinds + employer_axis_index(EmployerKind::startup)] -= team;
        eco.employment[cf * employer_kinds + employer_axis_index(EmployerKind::other)] += team;
        eco.founders[cf] -= t.column(firms.founder_present)[team_row];
    } else if (t.column(firms.team_lead)[team_row] == row || (t.column(firms.team_lead)[team_row] == no_firm && row == team_row)) {
        // The hiring passes to the first alive firm of the cohort.
        const auto status = std::as_const(t).column(firms.status);
        const auto rows_team = std::as_const(t).column(firms.team_row);
        std::uint32_t lead = no_firm;
        if (status[team_row] == static_cast<std::uint8_t>(FirmStatus::alive)) lead = team_row;
        for (std::size_t k = 0; lead == no_firm && k < eco.split_rows.size(); ++k) {
            const std::uint32_t r = eco.split_rows[k];
            if (rows_team[r] == team_row && status[r] == static_cast<std::uint8_t>(FirmStatus::alive)) lead = r;
        }
        t.column(firms.team_lead)[team_row] = lead;
    }
    eco.startups_alive[cf] -= represents;
    const auto id = static_cast<std::int64_t>(t.ids()[row]);
    if (how == FirmStatus::failed) {
        eco.failures[cf] += represents;
        venture_capital.write_off(state, row);
        eco.events.add(id, step, c, f, FirmEvent::failed, t.column(firms.raised)[row] * represents);
    } else {
        (how == FirmStatus::listed ? eco.listings : eco.acquisitions)[cf] += represents;
        venture_capital.pay_out(state, row, investor_proceeds);
        // Owed to the founder agent (savings per person, at the census): this firm's share of its
        // persons, whose cohort is represents of the firms founded together.
        t.column(firms.founder_payout)[team_row] +=
            founder_payout * represents / static_cast<float>(state.persons_per_agent);
        eco.events.add(id, step, c, f, how == FirmStatus::listed ? FirmEvent::listed : FirmEvent::acquired,
                       investor_proceeds + founder_payout * represents);
    }
}

std::uint32_t Startups::split_off(CityState& state, std::uint32_t row, const VentureCapital& venture_capital,
                                  std::uint32_t step) const {
    auto& eco = state.ecosystem;
    auto& t = eco.firms.table;
    const auto& firms = eco.firms;
    const std::uint32_t split = static_cast<std::uint32_t>(t.append(1));
    t.copy_row(row, split);
    const std::uint32_t team_row = team_of(std::as_const(t).column(firms.team_row), row);
    const double share = 1.0 / t.column(firms.represents)[row];
    t.column(firms.represents)[row] -= 1.0f;
    t.column(firms.represents)[split] = 1.0f;
    t.column(firms.team_row)[split] = team_row;
    t.column(firms.breakthroughs)[split] = 1;
    t.column(firms.progress)[split] += params_.breakthrough_progress;
    // The cohort's team and payout live on its team row; the split row's own copies are not used.
    t.column(firms.team)[split] = 0;
    t.column(firms.team_skill)[split] = 0;
    t.column(firms.peak_team)[split] = 0;
    t.column(firms.founder_payout)[split] = 0.0;
    t.column(firms.cohort_members)[split] = 0;
    t.column(firms.cohort_firms)[split] = 0.0f;
    t.column(firms.team_lead)[split] = no_firm;
    ++t.column(firms.cohort_members)[team_row];
    venture_capital.split_investments(state, row, split, share);
    eco.split_rows.push_back(split);
    const std::size_t c = t.column(firms.city)[split], f = t.column(firms.field)[split];
    ++eco.breakthroughs[state.city_field(c, f)];
    eco.events.add(static_cast<std::int64_t>(t.ids()[split]), step, static_cast<std::int64_t>(c), static_cast<std::int64_t>(f),
                   FirmEvent::breakthrough, t.column(firms.raised)[split], static_cast<std::int64_t>(t.ids()[row]));
    return split;
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
    const double persons_per_agent = state.persons_per_agent;

    // Per (city, field): the parts of the drift and of the breakthrough rate that all firms there share.
    std::vector<double> spill(cf_count), research(cf_count), drift(cf_count), breakthrough_base(cf_count);
    for (std::size_t c = 0; c < cities; ++c)
        for (std::size_t f = 0; f < fields; ++f) {
            const std::size_t cf = c * fields + f;
            const double talent = std::max<double>(1.0, static_cast<double>(state.talent_count[cf]) * persons_per_agent);
            spill[cf] = std::pow(1.0 + 1000.0 * eco.startups_alive[cf] / talent, params_.spillover_elasticity);
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
    const auto team_row = std::as_const(t).column(firms.team_row);
    const auto cohort_firms = std::as_const(t).column(firms.cohort_firms);
    const auto team_lead = std::as_const(t).column(firms.team_lead);
    const auto represents = std::as_const(t).column(firms.represents);
    const auto birth = std::as_const(t).column(firms.birth_step);
    const auto raised = std::as_const(t).column(firms.raised);
    auto cash = t.column(firms.cash);
    auto progress = t.column(firms.progress);
    auto breakthroughs = t.column(firms.breakthroughs);

    auto mean_skill = [&](std::size_t t_row, std::int32_t n) {
        return n > 0 ? static_cast<double>(team_skill[t_row]) / (skill_fixed_point * n) : 1.0;
    };
    auto scale_of = [&](std::uint32_t t_row) {
        return kind[t_row] == static_cast<std::uint8_t>(FirmKind::startup) ? cohort_scale(cohort_firms[t_row], persons_per_agent)
                                                                           : 1.0;
    };
    // The live start-ups in row order, which the serial loop below keeps.
    eco.alive.refresh(firms);
    auto& live = scratch_.live;
    const auto& alive = eco.alive.rows;
    engine::filter_blocks(
        alive.size(), live, [&](std::size_t k) { return kind[alive[k]] == static_cast<std::uint8_t>(FirmKind::startup); },
        [&](std::size_t k) { return alive[k]; });
    // Most start-ups neither raise, fail nor exit in a step: what they want to hire is worked out
    // in the parallel pass (cash and team do not change for them before hiring).
    auto& outcome = scratch_.outcome;
    auto& request = scratch_.request;  // by position in `live`; wanted -1: not worked out there
    auto& broke_through = scratch_.broke_through;  // firms of the row that broke through this step
    // Sized without being filled (the parallel pass sets every entry); capacity grows geometrically,
    // since resizing to exactly the new size whenever the start-ups alive grow (almost every step)
    // would reallocate, and fault in the new pages, each time.
    if (live.size() > request.capacity()) {
        request.reserve(2 * live.size());
        outcome.reserve(2 * live.size());
        broke_through.reserve(2 * live.size());
    }
    outcome.resize(live.size());
    broke_through.resize(live.size());
    request.resize(live.size());
    constexpr std::size_t prefetch_ahead = 8;
    constexpr std::size_t live_block = 1024;
    // Per block of `live`: the positions whose outcome is more than hiring what the parallel pass
    // worked out (a breakthrough, a round, an exit, a failure, or a request still to work out).
    auto& special_of = scratch_.special;
    special_of.resize(engine::block_count(live.size(), live_block));
    auto& lead_sum = scratch_.lead_sum;
    if (live.size() > lead_sum.capacity()) lead_sum.reserve(2 * live.size());
    lead_sum.resize(live.size());
    venture_capital.begin_rounds(state);

    engine::for_each_block(
        live.size(),
        [&, ids, city, field, team, team_skill, founder_present, team_row, birth, raised, cash, progress,
         breakthroughs](std::size_t begin, std::size_t end, std::size_t block) {
            auto& special = special_of[block];
            special.clear();
            for (std::size_t j = begin; j < end; ++j) {
                outcome[j] = 0;
                broke_through[j] = 0;
                request[j] = HiringPool::HireRequest{0, 0, -1, 0};  // wanted -1: not worked out here
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
                    __builtin_prefetch(&team_row[next]);
                    __builtin_prefetch(&birth[next]);
                    __builtin_prefetch(&raised[next]);
                    __builtin_prefetch(&cash[next], 1);
                    __builtin_prefetch(&progress[next], 1);
                    __builtin_prefetch(&breakthroughs[next], 1);
                }
                const std::uint32_t r = live[j];
                const std::uint32_t tr = team_of(team_row, r);
                const std::size_t cf = city[r] * fields + field[r];
                const std::int32_t n = team[tr];
                const double scale = scale_of(tr);
                auto work_out_request = [&](double quality) {
                    if (!leads(team_lead, r, tr)) return;
                    request[j] = {tr, cf,
                                  hires_wanted(state, city[r], field[r], n, scale, cash[r], founder_present[tr] != 0, quality),
                                  ids[r]};
                };
                if (birth[r] == step) {  // founded this step: it only hires (if its cash is not negative)
                    if (cash[r] >= 0.0) work_out_request(mean_skill(tr, n));
                    if (request[j].wanted < 0) special.push_back(static_cast<std::uint32_t>(j));
                    continue;
                }
                if (n <= 0) {
                    outcome[j] = fail;
                    special.push_back(static_cast<std::uint32_t>(j));
                    continue;
                }
                const double quality = mean_skill(tr, n);
                const double burn = burn_per_year(state, city[r], field[r], n, founder_present[tr] != 0, quality, scale);
                cash[r] -= burn * years_per_step;
                const auto w = engine::random_words(streams, ids[r], streams::startup_fate);
                const double age = static_cast<double>(step - birth[r]) * years_per_step;
                progress[r] += drift[cf] * power(quality, params_.quality_elasticity) +
                               params_.progress_volatility * sqrt_dt * engine::standard_normal(w[0], w[1]);
                std::uint8_t out = 0;
                if (breakthroughs[r] == 0) {
                    // Each of the row's whole firms breaks through with the per-step probability
                    // p = 1 - exp(-x), x = rate * dt; at least one does with 1 - exp(-firms x), and
                    // 1 - exp(-firms x) <= firms x <= the bound with (1 + y) for (1 + y)^e (e <= 1), so
                    // most rows are ruled out without a pow or exp.
                    const double u = engine::uniform_open(w[2]);
                    const double eligible = std::max(1.0, std::floor(static_cast<double>(represents[r]) + 1e-6));
                    const double maturity = params_.breakthrough_maturity_years > 0
                                                ? std::min(1.0, age / params_.breakthrough_maturity_years)
                                                : 1.0;
                    const double common = breakthrough_base[cf] *
                                          power(quality, params_.breakthrough_quality_elasticity) * maturity;
                    const double capital = 1.0 + raised[r] / seed_round;
                    if (!capital_bound_holds || u < eligible * common * capital) {
                        const double x = common * std::pow(capital, params_.breakthrough_capital_elasticity);
                        broke_through[j] = breakthroughs_drawn(u, eligible, -std::expm1(-x));
                        if (broke_through[j] > 0) out |= breakthrough;
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
                    // The weights of the funds that could lead its round (seek_round checks that they
                    // still can, and otherwise works the sum out again).
                    lead_sum[j] = venture_capital.lead_weight_sum(state, city[r], venture_capital.round_total(state, r));
                }
                outcome[j] = out;
                if ((out & ~breakthrough) == 0 && cash[r] >= 0.0) work_out_request(quality);
                if (out != 0 || request[j].wanted < 0) special.push_back(static_cast<std::uint32_t>(j));
            }
        },
        live_block);
    auto& settle = scratch_.settle;
    settle.clear();
    for (const auto& special : special_of) settle.insert(settle.end(), special.begin(), special.end());

    // Each firm that broke through becomes a firm agent of its own, before the step's rounds, exits
    // and failures (which then concern the firms that did not); a row of one firm (or less) breaks
    // through itself. Splitting grows the firm table, so no column span is held across this.
    // (Every position that broke through is in `settle`, in order.)
    for (const std::uint32_t j : settle) {
        if (broke_through[j] == 0) continue;
        const std::uint32_t r = live[j];
        for (std::uint8_t k = 0; k < broke_through[j]; ++k) {
            if (t.column(firms.represents)[r] > 1.0f) {
                split_off(state, r, venture_capital, step);
                // Its round is now for fewer firms: the lead sum worked out ahead no longer holds.
                lead_sum[j] = std::numeric_limits<double>::quiet_NaN();
                continue;
            }
            const std::size_t c = t.column(firms.city)[r], f = t.column(firms.field)[r];
            ++eco.breakthroughs[state.city_field(c, f)];
            t.column(firms.breakthroughs)[r] = 1;
            t.column(firms.progress)[r] += params_.breakthrough_progress;
            eco.events.add(static_cast<std::int64_t>(t.ids()[r]), step, static_cast<std::int64_t>(c),
                           static_cast<std::int64_t>(f), FirmEvent::breakthrough,
                           t.column(firms.raised)[r] * t.column(firms.represents)[r]);
            break;
        }
    }
    finish_step(state, pool, venture_capital, streams, years_per_step);
}

void Startups::finish_step(CityState& state, HiringPool& pool, const VentureCapital& venture_capital,
                           const engine::StreamKey& streams, double years_per_step) const {
    auto& t = state.ecosystem.firms.table;
    const auto& firms = state.ecosystem.firms;
    const std::size_t fields = state.fields();
    const auto step = streams.step;
    const double seed_round = venture_capital.params().seed_round;
    const auto& live = scratch_.live;
    const auto& outcome = scratch_.outcome;
    auto& request = scratch_.request;
    const auto& lead_sum = scratch_.lead_sum;
    const auto ids = t.ids();
    const auto kind = std::as_const(t).column(firms.kind);
    const auto city = std::as_const(t).column(firms.city);
    const auto field = std::as_const(t).column(firms.field);
    const auto team = std::as_const(t).column(firms.team);
    const auto team_skill = std::as_const(t).column(firms.team_skill);
    const auto founder_present = std::as_const(t).column(firms.founder_present);
    const auto team_row = std::as_const(t).column(firms.team_row);
    const auto cohort_firms = std::as_const(t).column(firms.cohort_firms);
    const auto team_lead = std::as_const(t).column(firms.team_lead);
    const auto represents = std::as_const(t).column(firms.represents);
    const auto raised = std::as_const(t).column(firms.raised);
    const auto status = std::as_const(t).column(firms.status);
    const auto breakthroughs = std::as_const(t).column(firms.breakthroughs);
    const auto cash = std::as_const(t).column(firms.cash);
    const auto progress = std::as_const(t).column(firms.progress);
    const auto rounds = std::as_const(t).column(firms.rounds);
    // Most start-ups only hire, with what the parallel pass worked out. The others (`settle`, in
    // firm order) are settled one after another, as their rounds draw on the funds; what each then
    // wants to hire goes to its request, and the requests are collected in firm order.
    const auto& settle = scratch_.settle;
    const auto last_investment = std::as_const(t).column(firms.last_investment);
    const auto& investments = state.ecosystem.investments;
    // The firms to settle are scattered over the firm table, and so are their investments (which a
    // failure or an exit walks): the columns of the firm `ahead` places on, and the newest
    // investment of the one half as far, are fetched while this one is settled.
    constexpr std::size_t ahead = 8;
    for (std::size_t k = 0; k < settle.size(); ++k) {
        if (k + ahead < settle.size()) {
            const std::size_t next = live[settle[k + ahead]];
            auto fetch = [next](const auto& column) { __builtin_prefetch(column.data() + next); };
            fetch(ids), fetch(city), fetch(field), fetch(status), fetch(rounds), fetch(progress), fetch(cash), fetch(raised),
                fetch(represents), fetch(team_row), fetch(team_lead), fetch(breakthroughs), fetch(last_investment);
        }
        if (k + ahead / 2 < settle.size()) {
            const auto newest = last_investment[live[settle[k + ahead / 2]]];
            if (newest != no_investment) {
                const auto i = static_cast<std::size_t>(newest);
                __builtin_prefetch(investments.amount.data() + i);
                __builtin_prefetch(investments.fund.data() + i);
                __builtin_prefetch(investments.previous.data() + i);
            }
        }
        const std::uint32_t j = settle[k];
        const std::uint8_t out = outcome[j];
        if (request[j].wanted >= 0 && (out & ~breakthrough) == 0) continue;  // only broke through: hires as worked out
        const std::int32_t worked_out = request[j].wanted;
        request[j].wanted = 0;
        const std::uint32_t r = live[j];
        const std::size_t cf = city[r] * fields + field[r];
        const std::uint32_t tr = team_of(team_row, r);
        if (out & (list | acquire)) {
            const double value = params_.exit_multiple * std::max(raised[r], seed_round) *
                                 std::exp(params_.exit_progress_premium * (progress[r] - params_.exit_progress)) *
                                 (breakthroughs[r] ? params_.breakthrough_value_multiple : 1.0);
            const double investor_share = rounds[r] ? 1.0 - std::pow(1.0 - params_.round_dilution, rounds[r]) : 0.0;
            const double founder_payout = value * (1.0 - investor_share) + std::max(0.0, cash[r]);
            end_firm(state, r, (out & list) ? FirmStatus::listed : FirmStatus::acquired, venture_capital,
                     value * investor_share * represents[r], founder_payout, step);
            continue;
        }
        if (out & seek)
            venture_capital.seek_round(state, r, streams, years_per_step, std::isnan(lead_sum[j]) ? nullptr : &lead_sum[j]);
        if ((out & fail) || cash[r] < 0.0) {
            end_firm(state, r, FirmStatus::failed, venture_capital, 0.0, 0.0, step);
            continue;
        }
        if (status[r] != static_cast<std::uint8_t>(FirmStatus::alive) || !leads(team_lead, r, tr)) continue;
        std::int32_t more = worked_out;
        if ((out & seek) || more < 0) {  // a round may have added cash, or the firm is new
            const double quality = team[tr] > 0 ? static_cast<double>(team_skill[tr]) / (skill_fixed_point * team[tr]) : 1.0;
            const double scale = kind[tr] == static_cast<std::uint8_t>(FirmKind::startup)
                                     ? cohort_scale(cohort_firms[tr], state.persons_per_agent)
                                     : 1.0;
            more = hires_wanted(state, city[r], field[r], team[tr], scale, cash[r], founder_present[tr] != 0, quality);
        }
        request[j] = {tr, cf, std::max(0, more), ids[r]};
    }
    auto& hires = scratch_.hires;
    engine::filter_blocks(
        live.size(), hires, [&](std::size_t j) { return request[j].wanted > 0; }, [&](std::size_t j) { return request[j]; });
    pool.hire_batch(state, hires, EmployerKind::startup, streams, streams::hiring);
}

std::int32_t Startups::hires_wanted(const CityState& state, std::size_t city, std::size_t field, std::int32_t n,
                                    double scale, double cash, bool founder_present, double quality) const {
    const double cost_of_one_more = burn_per_year(state, city, field, n + 1, founder_present, quality, scale) -
                                    burn_per_year(state, city, field, n, founder_present, quality, scale);
    if (cost_of_one_more <= 0.0 || cash <= 0.0) return 0;
    const double affordable = 1.0 + std::floor(cash / (params_.hire_runway_years * cost_of_one_more));
    const double growth_cap = n + 1.0 + std::floor(params_.hiring_growth_per_step * n);
    const auto desired = static_cast<std::int32_t>(
        std::min({affordable, growth_cap, std::floor(static_cast<double>(params_.max_team) / scale)}));
    return std::max(0, desired - n);
}

std::uint8_t Startups::breakthroughs_drawn(double u, double firms, double p) {
    // Binomial(firms, p) by inversion from the top: u below P(K >= 1) = 1 - (1 - p)^firms is a
    // breakthrough, below P(K >= 2) two, and so on.
    const auto n = static_cast<std::int64_t>(firms);
    double tail = -std::expm1(firms * std::log1p(-p));  // P(K >= 1)
    double point = std::exp(firms * std::log1p(-p));     // P(K = 0)
    std::uint8_t k = 0;
    while (k < 255 && k < n && u < tail) {
        ++k;
        point *= static_cast<double>(n - k + 1) / k * p / (1.0 - p);  // P(K = k)
        tail -= point;                                                 // P(K >= k + 1)
    }
    return k;
}

// Checkpoints: nothing that outlives a step: the tightness premiums and work lists (breakthroughs
// drawn included) are refilled each step; cohorts and split-offs are firm columns and
// Ecosystem::split_rows. A member added to Startups stops the build here until it is saved below (or
// confirmed to be a parameter) and the size updated.
CITYSIM_CHECKPOINTED(Startups, 448);
void Startups::save_or_restore(checkpoint::Archive&) {}

}  // namespace citysim::models
