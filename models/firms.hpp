// Firms, venture funds, investments and the firm event log: the state that founding, start-ups,
// incumbents, universities and venture capital share, and the census that keeps it current.
//
// Scale. A firm agent stands for `represents` identical firms. A start-up founded by a talent agent
// (who stands for persons_per_agent people) stands for persons_per_agent start-ups of one founder
// each, so counts and amounts scale exactly like the talent's; an incumbent establishment stands for
// one firm. A firm's team is counted in talent agents, which is persons per represented firm for a
// start-up and agents (x persons_per_agent persons) for an incumbent. Cash, rounds and burn are per
// represented firm; flows recorded per city are totals (x represents), and firm counts are firms.
//
// One firm per breakthrough. Each of a start-up agent's firms breaks through on its own; the one
// that does splits off as a firm agent of its own (represents 1), with a copy of the cohort's cash,
// rounds, progress and its share of the investments, and the row it split from stands for one firm
// fewer. A talent agent cannot be split, so the firms founded together (the cohort) keep working
// with one team: the talent agents stay employed by the row the cohort was founded as (`team_row`),
// each being one person in each firm of the cohort. A firm's team in persons is therefore
// team[team_row] x scale, scale = persons_per_agent / firms of the cohort still alive (1 until a
// firm of the cohort ends): when the firms it split from fail or exit, a breakthrough firm takes on
// their people (an acqui-hire) and pays for them. The team is released when the last firm of the
// cohort ends; until then the first alive of the cohort's firms (the founding row, then its
// split-offs in row order) decides whom the cohort hires.
//
// Firm rows are never removed: the final firm table lists every firm, and a firm's row is how talent
// agents refer to their employer. A firm's employees all live in its city and work in its field:
// hiring draws from there, and an employee who moves away quits.
//
// Teams are kept current as people join and leave: hiring and founding add, and an employee who
// moves away, leaves the pool or founds a start-up is taken off (skill sums in fixed point, so the
// updates are exact integers in any order). The census (once a step, after demography) releases
// the employees of firms that ended, counts employment by employer type and founders, and lists
// the talent free to be hired per (city, field), in parallel over blocks of talent.
#pragma once

#include "engine/agent_table.hpp"
#include "engine/rng.hpp"
#include "models/talent.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <limits>
#include <vector>

namespace citysim::checkpoint {
class Archive;  // engine/checkpoint/archive.hpp: how each mechanism saves and restores its state
}

namespace citysim::models {

struct CityState;

// What a talent agent works for. Founders run their own start-up and count as start-up employment.
enum class EmployerKind : std::uint8_t { other = 0, startup = 1, incumbent = 2, university = 3, founder = 4 };
// The employer axis of the output, in this order; founders are counted under start-up.
inline const std::vector<std::string>& employer_labels() {
    static const std::vector<std::string> labels = {"startup", "incumbent", "university", "other"};
    return labels;
}
inline constexpr std::size_t employer_kinds = 4;
inline std::size_t employer_axis_index(EmployerKind kind) {
    switch (kind) {
        case EmployerKind::startup:
        case EmployerKind::founder: return 0;
        case EmployerKind::incumbent: return 1;
        case EmployerKind::university: return 2;
        case EmployerKind::other: break;
    }
    return 3;
}

enum class FirmKind : std::uint8_t { startup = 0, incumbent = 1 };
enum class FirmStatus : std::uint8_t { alive = 0, failed = 1, acquired = 2, listed = 3 };
// Event codes of the event table (flag_values / flag_meanings in the output).
enum class FirmEvent : std::int64_t { founded = 0, funded = 1, failed = 2, acquired = 3, listed = 4, breakthrough = 5, expanded = 6 };
inline const std::vector<std::string>& firm_event_names() {
    static const std::vector<std::string> names = {"founded", "funded", "failed", "acquired", "listed", "breakthrough", "expanded"};
    return names;
}
inline const std::vector<std::string>& firm_status_names() {
    static const std::vector<std::string> names = {"alive", "failed", "acquired", "listed"};
    return names;
}

inline constexpr std::uint32_t no_firm = std::numeric_limits<std::uint32_t>::max();
inline constexpr std::int64_t no_investment = -1;
// Team skill sums are kept in fixed point so that parallel sums are exact and order-free.
inline constexpr double skill_fixed_point = 1048576.0;  // 2^20
inline std::int64_t skill_units(float skill) { return static_cast<std::int64_t>(skill * skill_fixed_point + 0.5); }

struct FirmAgents {
    FirmAgents();
    engine::AgentTable table;
    engine::ColumnHandle<std::uint8_t> kind;          // FirmKind
    engine::ColumnHandle<std::uint8_t> status;        // FirmStatus
    engine::ColumnHandle<CityIndex> city;
    engine::ColumnHandle<FieldIndex> field;
    engine::ColumnHandle<CityIndex> origin_city;      // where the founder lived when founding (incumbents: home city)
    engine::ColumnHandle<engine::AgentId> founder;    // talent id of the founder (incumbents: none)
    engine::ColumnHandle<std::uint32_t> birth_step;
    engine::ColumnHandle<std::uint32_t> end_step;     // step the firm failed or exited; 0 while alive
    engine::ColumnHandle<float> represents;           // identical firms this agent stands for
    engine::ColumnHandle<double> cash;                // CNY per firm
    engine::ColumnHandle<double> raised;              // CNY per firm, all rounds together
    engine::ColumnHandle<double> progress;            // product progress (a stochastic index, starts at 0)
    engine::ColumnHandle<std::uint8_t> rounds;        // funding rounds raised
    engine::ColumnHandle<std::uint8_t> breakthroughs;
    engine::ColumnHandle<std::int32_t> team;          // talent agents employed, founder included
    engine::ColumnHandle<std::int64_t> team_skill;    // sum of their skills x skill_fixed_point
    engine::ColumnHandle<std::int32_t> peak_team;
    engine::ColumnHandle<std::int32_t> target_team;   // incumbents: agents they aim to employ
    engine::ColumnHandle<float> wage_premium;         // multiplier on the wage paid
    engine::ColumnHandle<std::uint32_t> parent;       // incumbents: the home establishment (itself there)
    engine::ColumnHandle<std::int64_t> last_investment;  // newest row of the investment ledger, or no_investment
    engine::ColumnHandle<double> founder_payout;      // CNY per firm owed to the founder at an exit
    engine::ColumnHandle<std::uint8_t> founder_present;  // the founder still works here (set by the census)
    // The cohort (start-ups founded together; see "One firm per breakthrough" above). Read on the team row.
    engine::ColumnHandle<std::uint32_t> team_row;        // the row whose team this firm works with; no_firm: itself
    engine::ColumnHandle<std::int32_t> cohort_members;   // team row: firm agents of the cohort still alive
    engine::ColumnHandle<float> cohort_firms;            // team row: firms of the cohort still alive
    engine::ColumnHandle<std::uint32_t> team_lead;       // team row: the alive member that decides hiring; no_firm: itself
};

// The row whose team firm `row` works with.
inline std::uint32_t team_of(std::span<const std::uint32_t> team_row, std::uint32_t row) {
    return team_row[row] == no_firm ? row : team_row[row];
}

// persons_per_agent / firms of a start-up cohort alive, 1 while none of them has ended.
inline double cohort_scale(float firms_alive, double persons_per_agent) {
    const float founded = static_cast<float>(persons_per_agent);
    return firms_alive >= founded || firms_alive <= 0.0f ? 1.0 : static_cast<double>(founded) / firms_alive;
}

// Persons per team agent of the firms working with team row `team_row`: persons_per_agent / firms
// of the cohort alive for start-ups (1 until one of them ends), 1 for incumbents.
inline double team_scale(const FirmAgents& firms, std::uint32_t team_row, double persons_per_agent) {
    const auto& t = firms.table;
    if (t.column(firms.kind)[team_row] != static_cast<std::uint8_t>(FirmKind::startup)) return 1.0;
    return cohort_scale(t.column(firms.cohort_firms)[team_row], persons_per_agent);
}

// Every investment, in order; each row links to the same firm's previous one, so that a firm's
// investors are found without a list per firm.
struct InvestmentLedger {
    std::vector<std::uint32_t> fund;
    std::vector<std::uint32_t> firm;
    std::vector<double> amount;            // CNY, all represented firms together
    std::vector<std::int64_t> previous;    // the firm's previous investment, or no_investment
    std::size_t size() const { return fund.size(); }
};

struct Funds {
    std::vector<CityIndex> home_city;
    std::vector<double> dry_powder;        // CNY not yet invested
    std::size_t size() const { return home_city.size(); }
};

// The step's events, handed to the recorder and cleared.
struct EventLog {
    std::vector<std::int64_t> firm, step, city, field, event, counterpart_city;
    std::vector<double> amount;
    void add(std::int64_t firm_id, std::int64_t at_step, std::int64_t in_city, std::int64_t in_field, FirmEvent what,
             double value, std::int64_t other_city = -1) {
        firm.push_back(firm_id);
        step.push_back(at_step);
        city.push_back(in_city);
        field.push_back(in_field);
        event.push_back(static_cast<std::int64_t>(what));
        amount.push_back(value);
        counterpart_city.push_back(other_city);
    }
    std::size_t size() const { return firm.size(); }
    void clear() {
        for (auto* v : {&firm, &step, &city, &field, &event, &counterpart_city}) v->clear();
        amount.clear();
    }
};

// The firms alive, kept across steps: firm rows are never removed, so after some years most rows are
// firms that ended, and the loops over firms (the census, start-ups) walk only these. refresh()
// brings it up to date with the firm table: it drops the rows that have ended since and adds the
// rows appended since, so it costs the firms alive plus the new ones, not every row.
struct AliveFirms {
    std::vector<std::uint32_t> rows;  // ascending
    // Per firm row, whether its team is released (for a start-up cohort: every firm of it has ended),
    // with one more entry (0) that agents without an employer read (their employer is no_firm,
    // clamped to the row count), so a loop needs no branch for them.
    std::vector<std::uint8_t> ended{0};
    void refresh(const FirmAgents& firms);

private:
    std::vector<std::uint32_t> next_;  // refresh()'s second buffer, kept across steps
};

struct Ecosystem {
    bool enabled = false;  // any of founding, incumbents, universities on
    FirmAgents firms;
    AliveFirms alive;
    InvestmentLedger investments;
    Funds funds;
    EventLog events;

    // City and field attributes the mechanisms share.
    std::vector<double> failure_tolerance;     // per city, 0..1
    std::vector<double> basic_research;        // per city: basic research share of R&D (0..1), 0 when universities are off
    std::vector<double> research_relatedness;  // per field, 0..1
    std::vector<double> capital_access;        // per city: dry powder within reach per talent person (CNY/person)

    // Stocks at the end of the step, per [city * fields + field]: firms (start-ups alive) and talent agents.
    std::vector<double> startups_alive;
    std::vector<std::int64_t> founders;
    std::vector<std::int64_t> employment;      // [(city * fields + field) * employer_kinds + employer]
    std::vector<std::int64_t> free_talent;     // talent with employer `other` after the census

    // Flows of the step per [city * fields + field]: firms (births..) or talent agents (graduates).
    std::vector<double> births, refoundings, failures, acquisitions, listings;
    std::vector<std::int64_t> breakthroughs;   // firms: one per breakthrough
    std::vector<std::int64_t> graduates;
    std::vector<double> vc_invested, vc_returned, vc_written_off;  // CNY, by the firm's city and field

    // Venture capital per fund home city (CNY): flows of the step and stocks at its end.
    std::vector<double> vc_raised, fund_invested, fund_returned, fund_written_off, fund_exited_cost;
    std::vector<double> vc_dry_powder, vc_portfolio;
    std::vector<double> funding_seekers;        // start-ups (firms) that sought a round, per firm city
    // Rows that split off at a breakthrough, in row order (few: the hiring lead passes among them).
    std::vector<std::uint32_t> split_rows;
    std::vector<std::int64_t> fund_count;       // funds per home city

    void resize(std::size_t cities, std::size_t fields);
    void reset_flows();
    // Saves or restores every member (checkpoints).
    void save_or_restore(checkpoint::Archive& archive);
};

// People who left their firm during a parallel pass (moved away, left the pool), gathered per thread
// and taken off their teams afterwards; integer updates, so the order does not matter.
struct TeamLeavers {
    std::vector<std::uint32_t> firm;
    std::vector<std::int64_t> skill_units;
    std::vector<std::uint8_t> founder;
    void add(std::uint32_t firm_row, float skill, bool was_founder) {
        firm.push_back(firm_row);
        skill_units.push_back(models::skill_units(skill));
        founder.push_back(was_founder ? 1 : 0);
    }
    void apply(FirmAgents& firms) const;
    void clear() {
        firm.clear();
        skill_units.clear();
        founder.clear();
    }
};

// Free talent per (city, field) from the census, in row order, from which firms hire.
class HiringPool {
public:
    // Filled by the census: reset(); for every block of talent (any order, any thread: a block
    // writes only its own entries) its free counts per city_field in free_counts(block) (zeroed
    // first), then start_block()
    // and a write through the returned cursor per city_field for each free row in row order; then
    // sum_blocks().
    void reset(std::size_t blocks, std::size_t city_fields);
    // The block's free counts per city_field (contiguous; sum_blocks() turns them city_field-major).
    std::uint32_t* free_counts(std::size_t block) { return block_counts_.data() + block * city_fields_; }
    std::uint32_t** start_block(std::size_t block);
    void sum_blocks();
    // Hires up to `wanted` free agents of (city, field) as `kind` for firm `firm_row` (or no firm, for
    // universities), chosen at random with the stream of (purpose, stream_entity), starting at its
    // draw `first_draw`; returns how many were hired. Updates employment and the firm's team.
    std::int32_t hire(CityState& state, std::uint32_t firm_row, EmployerKind kind, std::size_t city_field,
                      std::int32_t wanted, const engine::StreamKey& streams, engine::Purpose purpose,
                      std::uint64_t stream_entity, std::size_t first_draw = 0);
    struct HireRequest {
        std::uint32_t firm_row;
        std::size_t city_field;
        std::int32_t wanted;
        std::uint64_t stream_entity;
    };
    // The same for many firms at once, in request order (the draws of each request are those that
    // hire() would make, so a request's hires do not depend on batching); the requests of different
    // (city, field)s are hired in parallel (they draw from, and hire into, different places).
    void hire_batch(CityState& state, const std::vector<HireRequest>& requests, EmployerKind kind,
                    const engine::StreamKey& streams, engine::Purpose purpose);
    std::int64_t available(std::size_t city_field) const { return static_cast<std::int64_t>(totals_[city_field]); }

private:
    static constexpr std::size_t max_draws = 1024;  // per firm and step (256 blocks of four words)
    std::uint32_t take(std::size_t city_field, std::uint32_t word);
    bool assign(CityState& state, std::uint32_t row, std::uint32_t firm_row, EmployerKind kind, std::size_t city_field);
    // Per block of talent: its free rows sorted by city_field; the segment of city_field starts at
    // offsets_[block * (city_fields + 1) + city_field] and holds counts_[city_field * blocks + block]
    // rows still free (city_field-major, so that a draw scans one contiguous row of counts).
    std::size_t city_fields_ = 0, blocks_ = 0;
    std::vector<std::vector<std::uint32_t>> rows_;
    std::vector<std::uint32_t> offsets_, counts_;
    std::vector<std::uint32_t> block_counts_;  // as the census writes them: [block * city_fields + city_field]
    std::vector<std::vector<std::uint32_t*>> cursors_;
    std::vector<std::uint64_t> totals_;  // per city_field
    // Free rows per city_field and group of group_size blocks, so that a draw skips whole groups.
    static constexpr std::size_t group_size = 16;
    std::size_t groups_ = 0;
    std::vector<std::uint32_t> group_counts_;
    // hire_batch's work lists, kept across steps: request indices grouped by city_field, where each
    // group starts, the city_fields with requests, and per request its draws and hires.
    std::vector<std::uint32_t> batch_order_, batch_groups_;
    std::vector<std::size_t> batch_group_start_, batch_cursor_, batch_draws_;
    std::vector<std::int32_t> batch_hired_;
};

// Releases employees of firms that are no longer alive (founders of failed firms count a failure
// and founders of exited firms receive their payout), recounts teams, founders, start-ups alive and
// employment, and lists the free talent.
void take_census(CityState& state, HiringPool& pool);
// (models/census.hpp has the same with a visitor of every agent.)

}  // namespace citysim::models
