// Firms: the census and the bookkeeping that keeps employment, teams, founders and start-up counts
// equal to what the talent agents and the firm table say, at the end of every step; and results
// that do not depend on the number of threads.
#include "engine/parallel.hpp"
#include "fixtures.hpp"
#include "models/city_model.hpp"

#include <catch2/catch.hpp>
#include <tbb/task_arena.h>

#include <cmath>
#include <cstring>

using namespace citysim;

namespace {

constexpr auto startup_axis = 0, incumbent_axis = 1, university_axis = 2, other_axis = 3;

bool alive(const models::Ecosystem& eco, std::size_t row) {
    return eco.firms.table.column(eco.firms.status)[row] == static_cast<std::uint8_t>(models::FirmStatus::alive);
}

// Whether the team of row `row` still works: some firm of its cohort is alive (talent agents are
// employed by team rows only; a firm that split off at a breakthrough has no team of its own).
bool team_working(const models::Ecosystem& eco, std::size_t row) {
    return eco.firms.table.column(eco.firms.cohort_members)[row] > 0;
}

// What the agents and the firm table say, recounted from scratch.
struct Recount {
    std::vector<std::int64_t> talent, employment, founders, team_sum, startup_team_sum, incumbent_team_sum,
        founders_present;
    std::vector<double> startups_alive;  // firms
    std::vector<std::int32_t> team;  // per firm row: agents employed there (alive firms only)
    std::vector<std::int64_t> team_skill;
    std::int64_t misplaced = 0;       // employees living outside their firm's city or field
    std::int64_t inconsistent = 0;    // employer kind and employer row that do not go together
    std::int64_t founder_mismatch = 0;  // founder_present that disagrees with the founder agents
};

Recount recount(const models::CityState& st) {
    const auto& eco = st.ecosystem;
    const auto& firms = eco.firms;
    const auto& ft = firms.table;
    const std::size_t cf_count = st.cities() * st.fields();
    Recount r;
    r.talent.assign(cf_count, 0);
    r.employment.assign(cf_count * models::employer_kinds, 0);
    for (auto* v : {&r.founders, &r.team_sum, &r.startup_team_sum, &r.incumbent_team_sum, &r.founders_present})
        v->assign(cf_count, 0);
    r.startups_alive.assign(cf_count, 0.0);
    r.team.assign(ft.size(), 0);
    r.team_skill.assign(ft.size(), 0);
    std::vector<std::uint8_t> has_founder(ft.size(), 0);

    const auto& t = st.talent.table;
    const auto city = t.column(st.talent.city);
    const auto field = t.column(st.talent.field);
    const auto skill = t.column(st.talent.skill);
    const auto kind = t.column(st.talent.employer_kind);
    const auto employer = t.column(st.talent.employer);
    const auto firm_city = ft.column(firms.city);
    const auto firm_field = ft.column(firms.field);
    for (std::size_t i = 0; i < t.size(); ++i) {
        const std::size_t cf = st.city_field(city[i], field[i]);
        ++r.talent[cf];
        auto k = static_cast<models::EmployerKind>(kind[i]);
        const std::uint32_t e = employer[i];
        const bool needs_firm = k == models::EmployerKind::startup || k == models::EmployerKind::founder ||
                                k == models::EmployerKind::incumbent;
        if (needs_firm != (e != models::no_firm)) ++r.inconsistent;
        // Employees of a firm that ended this step are released at the next census, but already
        // count as `other`.
        if (e != models::no_firm && !team_working(eco, e)) k = models::EmployerKind::other;
        ++r.employment[cf * models::employer_kinds + models::employer_axis_index(k)];
        if (k == models::EmployerKind::other || e == models::no_firm) continue;
        ++r.team[e];
        r.team_skill[e] += std::llround(skill[i] * models::skill_fixed_point);
        if (firm_city[e] != city[i] || firm_field[e] != field[i]) ++r.misplaced;
        if (k == models::EmployerKind::founder) {
            ++r.founders[cf];
            has_founder[e] = 1;
        }
    }
    const auto kinds = ft.column(firms.kind);
    const auto present = ft.column(firms.founder_present);
    const auto represents = ft.column(firms.represents);
    for (std::size_t row = 0; row < ft.size(); ++row) {
        const std::size_t cf = st.city_field(firm_city[row], firm_field[row]);
        const bool startup = kinds[row] == static_cast<std::uint8_t>(models::FirmKind::startup);
        if (startup && alive(eco, row)) r.startups_alive[cf] += represents[row];
        if (!team_working(eco, row)) continue;
        const std::int32_t team = ft.column(firms.team)[row];
        r.team_sum[cf] += team;
        if (startup) {
            r.startup_team_sum[cf] += team;
            r.founders_present[cf] += present[row];
            if (present[row] != has_founder[row]) ++r.founder_mismatch;
        } else {
            r.incumbent_team_sum[cf] += team;
        }
    }
    return r;
}

std::vector<std::int64_t> axis(const std::vector<std::int64_t>& employment, int which) {
    std::vector<std::int64_t> out(employment.size() / models::employer_kinds);
    for (std::size_t cf = 0; cf < out.size(); ++cf) out[cf] = employment[cf * models::employer_kinds + which];
    return out;
}

std::vector<std::int64_t> plus(std::vector<std::int64_t> a, const std::vector<std::int64_t>& b) {
    for (std::size_t k = 0; k < a.size(); ++k) a[k] += b[k];
    return a;
}

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

template <class T>
std::vector<T> column(const models::FirmAgents& firms, engine::ColumnHandle<T> handle) {
    const auto c = firms.table.column(handle);
    return std::vector<T>(c.begin(), c.end());
}

}  // namespace

TEST_CASE("firms: at the end of every step employment, teams, founders and start-ups agree with the agents",
          "[ecosystem][firms]") {
    models::CityModel model(testing::load(testing::ecosystem_yaml()));
    const auto& st = model.state();
    const auto& eco = st.ecosystem;
    REQUIRE(eco.enabled);
    std::int64_t births = 0, ends = 0, released = 0;
    // The starting state (after the census of setup_ecosystem) already agrees.
    for (int step = 0; step <= 60; ++step) {
        if (step > 0) model.step();
        INFO("step " << step);
        const auto r = recount(st);
        CHECK(r.talent == st.talent_count);
        // Every agent is counted under exactly one employer type.
        std::vector<std::int64_t> total(st.talent_count.size(), 0);
        for (int k = 0; k < static_cast<int>(models::employer_kinds); ++k) total = plus(total, axis(eco.employment, k));
        CHECK(total == st.talent_count);
        CHECK(eco.employment == r.employment);
        // Teams of alive firms are exactly the agents employed there, skills included.
        std::int64_t wrong_teams = 0, wrong_skills = 0;
        const auto team = eco.firms.table.column(eco.firms.team);
        const auto team_skill = eco.firms.table.column(eco.firms.team_skill);
        for (std::size_t row = 0; row < eco.firms.table.size(); ++row) {
            if (!team_working(eco, row)) continue;
            wrong_teams += team[row] != r.team[row];
            wrong_skills += team_skill[row] != r.team_skill[row];
        }
        CHECK(wrong_teams == 0);
        CHECK(wrong_skills == 0);
        // Teams of alive firms add up to the employment by firms (start-ups with their founders, and
        // incumbents); university staff work for no firm.
        CHECK(r.team_sum == plus(axis(eco.employment, startup_axis), axis(eco.employment, incumbent_axis)));
        CHECK(r.startup_team_sum == axis(eco.employment, startup_axis));
        CHECK(r.incumbent_team_sum == axis(eco.employment, incumbent_axis));
        // Founders: the agents running an alive start-up, one per start-up whose founder is present.
        CHECK(eco.founders == r.founders);
        CHECK(eco.founders == r.founders_present);
        CHECK(r.founder_mismatch == 0);
        for (std::size_t cf = 0; cf < r.startups_alive.size(); ++cf)
            CHECK(eco.startups_alive[cf] == Approx(r.startups_alive[cf]).margin(1e-6));
        CHECK(r.misplaced == 0);
        CHECK(r.inconsistent == 0);
        // Free talent (the census's list, less those hired or founding since) is never more than
        // the talent employed by nobody.
        const auto other = axis(eco.employment, other_axis);
        for (std::size_t cf = 0; cf < other.size(); ++cf) {
            CHECK(eco.free_talent[cf] >= 0);
            CHECK(eco.free_talent[cf] <= other[cf]);
        }
        if (step == 0) continue;
        for (std::size_t row = 0; row < eco.firms.table.size(); ++row)
            if (!alive(eco, row) && eco.firms.table.column(eco.firms.end_step)[row] == static_cast<std::uint32_t>(step)) {
                ++ends;
                released += team[row];
            }
        for (auto b : eco.births) births += static_cast<std::int64_t>(b / st.persons_per_agent + 0.5);
    }
    // The run exercised what the invariants are about: foundings, firms ending with employees.
    CHECK(births > 1000);
    CHECK(ends > 500);
    CHECK(released > ends);
    std::int64_t incumbent = 0, university = 0;
    for (auto v : axis(eco.employment, incumbent_axis)) incumbent += v;
    for (auto v : axis(eco.employment, university_axis)) university += v;
    CHECK(incumbent > 3000);
    CHECK(university > 500);
}

TEST_CASE("firms: the step's flows match its event log and the firm table", "[ecosystem][firms]") {
    models::CityModel model(testing::load(testing::ecosystem_yaml()));
    const auto& st = model.state();
    const auto& eco = st.ecosystem;
    const auto& ft = eco.firms.table;
    std::int64_t total_events = 0, total_funded = 0;
    for (int step = 1; step <= 60; ++step) {
        const std::size_t firms_before = ft.size(), investments_before = eco.investments.size();
        model.step();
        INFO("step " << step);
        const std::size_t cf_count = st.cities() * st.fields();
        // Events are per firm agent; flows count firms (each agent's represented firms), breakthroughs
        // one firm each.
        std::vector<double> founded(cf_count, 0), failed(cf_count, 0), acquired(cf_count, 0), listed(cf_count, 0);
        std::vector<std::int64_t> breakthroughs(cf_count, 0), founded_agents(cf_count, 0);
        std::int64_t funded = 0, wrong_step = 0;
        double funded_amount = 0.0;
        for (std::size_t e = 0; e < eco.events.size(); ++e) {
            const auto cf = st.city_field(static_cast<std::size_t>(eco.events.city[e]),
                                          static_cast<std::size_t>(eco.events.field[e]));
            wrong_step += eco.events.step[e] != step;
            const auto row = ft.find(static_cast<engine::AgentId>(eco.events.firm[e]));
            REQUIRE(row);
            const double firms_of_row = ft.column(eco.firms.represents)[*row];
            switch (static_cast<models::FirmEvent>(eco.events.event[e])) {
                case models::FirmEvent::founded:
                    founded[cf] += st.persons_per_agent;
                    ++founded_agents[cf];
                    break;
                case models::FirmEvent::failed: failed[cf] += firms_of_row; break;
                case models::FirmEvent::acquired: acquired[cf] += firms_of_row; break;
                case models::FirmEvent::listed: listed[cf] += firms_of_row; break;
                case models::FirmEvent::breakthrough: ++breakthroughs[cf]; break;
                case models::FirmEvent::funded:
                    ++funded;
                    funded_amount += eco.events.amount[e];
                    break;
                case models::FirmEvent::expanded: break;
            }
        }
        CHECK(wrong_step == 0);
        for (std::size_t cf = 0; cf < cf_count; ++cf) {
            CHECK(founded[cf] == Approx(eco.births[cf]));
            CHECK(failed[cf] == Approx(eco.failures[cf]));
            CHECK(acquired[cf] == Approx(eco.acquisitions[cf]));
            CHECK(listed[cf] == Approx(eco.listings[cf]));
        }
        CHECK(breakthroughs == eco.breakthroughs);
        // New ledger rows: the step's rounds, and the stakes copied to firms that split off.
        std::int64_t copied = 0;
        for (std::size_t k = investments_before; k < eco.investments.size(); ++k) {
            const auto firm = eco.investments.firm[k];
            copied += ft.column(eco.firms.team_row)[firm] != models::no_firm &&
                      ft.column(eco.firms.birth_step)[firm] != static_cast<std::uint32_t>(step) &&
                      firm >= firms_before;
        }
        CHECK(funded + copied == static_cast<std::int64_t>(eco.investments.size() - investments_before));
        double invested = 0.0;
        for (double v : eco.fund_invested) invested += v;
        CHECK(funded_amount == Approx(invested).epsilon(1e-9));

        // The start-ups born this step are the rows appended, with this step's birth; the firms
        // that ended this step carry this step as their end and a status that says how.
        std::int64_t born = 0, split = 0;
        double ended_failed = 0, ended_exit = 0;
        for (auto v : founded_agents) born += v;
        for (auto v : eco.breakthroughs) split += v;
        std::int64_t new_startups = 0, new_wrong = 0, new_split = 0;
        for (std::size_t row = firms_before; row < ft.size(); ++row) {
            if (ft.column(eco.firms.kind)[row] != static_cast<std::uint8_t>(models::FirmKind::startup)) continue;
            // Firms that split off at a breakthrough keep the birth of the firm they split from.
            if (ft.column(eco.firms.team_row)[row] != models::no_firm) {
                ++new_split;
                continue;
            }
            ++new_startups;
            new_wrong += ft.column(eco.firms.birth_step)[row] != static_cast<std::uint32_t>(step);
        }
        CHECK(new_startups == born);
        CHECK(new_wrong == 0);
        CHECK(new_split <= split);
        for (std::size_t row = 0; row < ft.size(); ++row) {
            if (ft.column(eco.firms.end_step)[row] != static_cast<std::uint32_t>(step) || alive(eco, row)) continue;
            const auto status = static_cast<models::FirmStatus>(ft.column(eco.firms.status)[row]);
            (status == models::FirmStatus::failed ? ended_failed : ended_exit) += ft.column(eco.firms.represents)[row];
        }
        double failures = 0, exits = 0;
        for (std::size_t cf = 0; cf < cf_count; ++cf) {
            failures += eco.failures[cf];
            exits += eco.acquisitions[cf] + eco.listings[cf];
        }
        CHECK(ended_failed == Approx(failures));
        CHECK(ended_exit == Approx(exits));
        total_events += static_cast<std::int64_t>(eco.events.size());
        total_funded += funded;
    }
    CHECK(total_events > 2000);
    CHECK(total_funded > 500);
}

namespace {
struct EcosystemRun {
    std::vector<std::uint8_t> kind, status, rounds, breakthroughs, founder_present;
    std::vector<models::CityIndex> city;
    std::vector<engine::AgentId> founder;
    std::vector<std::uint32_t> birth, end, parent;
    std::vector<double> cash, raised, progress, payout, dry_powder, amounts;
    std::vector<std::int32_t> team, peak, target;
    std::vector<std::int64_t> team_skill, event_firm, event_kind, event_city, event_counterpart, employment, founders;
    std::vector<double> event_amount, vc_flows;
    std::vector<std::uint32_t> investment_fund, investment_firm, talent_employer;
    std::vector<std::uint8_t> talent_kind;
    int threads = 0;  // concurrency the run had
};

EcosystemRun run_ecosystem() {
    models::CityModel model(testing::load(testing::ecosystem_yaml()));
    const auto& eco = model.state().ecosystem;
    EcosystemRun r;
    auto append = [](auto& to, const auto& from) { to.insert(to.end(), from.begin(), from.end()); };
    for (int step = 0; step < 60; ++step) {
        model.step();
        append(r.event_firm, eco.events.firm);
        append(r.event_kind, eco.events.event);
        append(r.event_city, eco.events.city);
        append(r.event_counterpart, eco.events.counterpart_city);
        append(r.event_amount, eco.events.amount);
        append(r.employment, eco.employment);
        append(r.founders, eco.founders);
        for (const auto* v : {&eco.vc_invested, &eco.vc_returned, &eco.vc_written_off, &eco.fund_invested,
                              &eco.fund_returned, &eco.vc_dry_powder, &eco.vc_portfolio, &eco.capital_access})
            append(r.vc_flows, *v);
    }
    const auto& f = eco.firms;
    r.kind = column(f, f.kind);
    r.status = column(f, f.status);
    r.rounds = column(f, f.rounds);
    r.breakthroughs = column(f, f.breakthroughs);
    r.founder_present = column(f, f.founder_present);
    r.city = column(f, f.city);
    r.founder = column(f, f.founder);
    r.birth = column(f, f.birth_step);
    r.end = column(f, f.end_step);
    r.parent = column(f, f.parent);
    r.cash = column(f, f.cash);
    r.raised = column(f, f.raised);
    r.progress = column(f, f.progress);
    r.payout = column(f, f.founder_payout);
    r.team = column(f, f.team);
    r.peak = column(f, f.peak_team);
    r.target = column(f, f.target_team);
    r.team_skill = column(f, f.team_skill);
    r.dry_powder = eco.funds.dry_powder;
    r.amounts = eco.investments.amount;
    r.investment_fund = eco.investments.fund;
    r.investment_firm = eco.investments.firm;
    const auto& talent = model.state().talent;
    const auto employer = talent.table.column(talent.employer);
    const auto kind = talent.table.column(talent.employer_kind);
    r.talent_employer.assign(employer.begin(), employer.end());
    r.talent_kind.assign(kind.begin(), kind.end());
    return r;
}

// Runs 60 steps with `threads` worker threads: the limit, and an arena of that many threads even on
// a machine with fewer cores (so that 4 threads really interleave on a 2-core runner).
EcosystemRun run_with_threads(int threads) {
    engine::ThreadLimit limit(threads);
    tbb::task_arena arena(threads);
    EcosystemRun r;
    arena.execute([&] {
        r = run_ecosystem();
        r.threads = engine::current_concurrency();
    });
    return r;
}
}  // namespace

TEST_CASE("firms: the ecosystem is bit-identical with 1 and 4 threads", "[ecosystem][firms][determinism]") {
    const auto one = run_with_threads(1);
    const auto four = run_with_threads(4);
    CHECK(one.threads == 1);
    CHECK(four.threads == 4);
    REQUIRE(one.kind.size() > 1000);
    REQUIRE(one.event_firm.size() > 1000);
    CHECK(same_bits(one.kind, four.kind));
    CHECK(same_bits(one.status, four.status));
    CHECK(same_bits(one.rounds, four.rounds));
    CHECK(same_bits(one.breakthroughs, four.breakthroughs));
    CHECK(same_bits(one.founder_present, four.founder_present));
    CHECK(same_bits(one.city, four.city));
    CHECK(same_bits(one.founder, four.founder));
    CHECK(same_bits(one.birth, four.birth));
    CHECK(same_bits(one.end, four.end));
    CHECK(same_bits(one.parent, four.parent));
    CHECK(same_bits(one.cash, four.cash));
    CHECK(same_bits(one.raised, four.raised));
    CHECK(same_bits(one.progress, four.progress));
    CHECK(same_bits(one.payout, four.payout));
    CHECK(same_bits(one.team, four.team));
    CHECK(same_bits(one.peak, four.peak));
    CHECK(same_bits(one.target, four.target));
    CHECK(same_bits(one.team_skill, four.team_skill));
    CHECK(same_bits(one.dry_powder, four.dry_powder));
    CHECK(same_bits(one.amounts, four.amounts));
    CHECK(same_bits(one.investment_fund, four.investment_fund));
    CHECK(same_bits(one.investment_firm, four.investment_firm));
    CHECK(same_bits(one.event_firm, four.event_firm));
    CHECK(same_bits(one.event_kind, four.event_kind));
    CHECK(same_bits(one.event_city, four.event_city));
    CHECK(same_bits(one.event_counterpart, four.event_counterpart));
    CHECK(same_bits(one.event_amount, four.event_amount));
    CHECK(same_bits(one.employment, four.employment));
    CHECK(same_bits(one.founders, four.founders));
    CHECK(same_bits(one.vc_flows, four.vc_flows));
    CHECK(same_bits(one.talent_employer, four.talent_employer));
    CHECK(same_bits(one.talent_kind, four.talent_kind));
}

TEST_CASE("firms: the list of firms alive follows ends and appends without rescanning ended rows", "[ecosystem][firms]") {
    models::FirmAgents firms;
    models::AliveFirms alive;
    auto& table = firms.table;
    // As Startups::end_firm does: the cohort of an ordinary firm is the firm alone.
    auto set_status = [&](std::size_t row, models::FirmStatus s) {
        table.column(firms.status)[row] = static_cast<std::uint8_t>(s);
        table.column(firms.cohort_members)[row] = s == models::FirmStatus::alive ? 1 : 0;
    };
    auto expect_matches_table = [&] {
        std::vector<std::uint32_t> rows;
        for (std::uint32_t r = 0; r < table.size(); ++r)
            if (table.column(firms.status)[r] == static_cast<std::uint8_t>(models::FirmStatus::alive)) rows.push_back(r);
        CHECK(alive.rows == rows);
        REQUIRE(alive.ended.size() == table.size() + 1);
        // Rows of this test are ordinary firms (no split-offs): a firm's team is released when it ends.
        for (std::uint32_t r = 0; r < table.size(); ++r) CHECK(alive.ended[r] == (table.column(firms.status)[r] != 0));
        CHECK(alive.ended.back() == 0);  // read by agents without an employer
    };
    alive.refresh(firms);
    expect_matches_table();
    table.append(6);
    set_status(4, models::FirmStatus::failed);  // ends in the step it was founded
    alive.refresh(firms);
    expect_matches_table();
    CHECK(alive.rows == std::vector<std::uint32_t>{0, 1, 2, 3, 5});
    set_status(1, models::FirmStatus::acquired);
    set_status(5, models::FirmStatus::listed);
    table.append(3);
    set_status(7, models::FirmStatus::failed);
    alive.refresh(firms);
    expect_matches_table();
    CHECK(alive.rows == std::vector<std::uint32_t>{0, 2, 3, 6, 8});
    alive.refresh(firms);  // nothing changed
    expect_matches_table();

    // A breakthrough firm split off row 2 (row 9 shares row 2's team): the team is released only
    // when both have ended, whichever ends first.
    table.append(1);
    table.column(firms.team_row)[9] = 2;
    table.column(firms.cohort_members)[2] = 2;
    alive.refresh(firms);
    table.column(firms.status)[2] = static_cast<std::uint8_t>(models::FirmStatus::failed);
    --table.column(firms.cohort_members)[2];
    alive.refresh(firms);
    CHECK(alive.rows == std::vector<std::uint32_t>{0, 3, 6, 8, 9});
    CHECK(alive.ended[2] == 0);  // its people still work for row 9
    table.column(firms.status)[9] = static_cast<std::uint8_t>(models::FirmStatus::acquired);
    --table.column(firms.cohort_members)[2];
    alive.refresh(firms);
    CHECK(alive.rows == std::vector<std::uint32_t>{0, 3, 6, 8});
    CHECK(alive.ended[2] == 1);
    CHECK(alive.ended[9] == 1);
}
