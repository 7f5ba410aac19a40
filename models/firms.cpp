#include "models/firms.hpp"

#include "engine/checkpoint/archive.hpp"
#include "engine/parallel.hpp"
#include "models/census.hpp"
#include "models/city_state.hpp"

#include <algorithm>
#include <array>
#include <atomic>

namespace citysim::models {

FirmAgents::FirmAgents()
    : table("firm", engine::Growth::doubling),
      kind(table.add_column<std::uint8_t>("kind")),
      status(table.add_column<std::uint8_t>("status")),
      city(table.add_column<CityIndex>("city")),
      field(table.add_column<FieldIndex>("field")),
      origin_city(table.add_column<CityIndex>("origin_city")),
      founder(table.add_column<engine::AgentId>("founder", std::numeric_limits<engine::AgentId>::max())),
      birth_step(table.add_column<std::uint32_t>("birth_step")),
      end_step(table.add_column<std::uint32_t>("end_step")),
      represents(table.add_column<float>("represents", 1.0f)),
      cash(table.add_column<double>("cash")),
      raised(table.add_column<double>("raised")),
      progress(table.add_column<double>("progress")),
      rounds(table.add_column<std::uint8_t>("rounds")),
      breakthroughs(table.add_column<std::uint8_t>("breakthroughs")),
      team(table.add_column<std::int32_t>("team")),
      team_skill(table.add_column<std::int64_t>("team_skill")),
      peak_team(table.add_column<std::int32_t>("peak_team")),
      target_team(table.add_column<std::int32_t>("target_team")),
      wage_premium(table.add_column<float>("wage_premium", 1.0f)),
      parent(table.add_column<std::uint32_t>("parent", no_firm)),
      last_investment(table.add_column<std::int64_t>("last_investment", no_investment)),
      founder_payout(table.add_column<double>("founder_payout")),
      founder_present(table.add_column<std::uint8_t>("founder_present")),
      team_row(table.add_column<std::uint32_t>("team_row", no_firm)),
      cohort_members(table.add_column<std::int32_t>("cohort_members", 1)),
      cohort_firms(table.add_column<float>("cohort_firms", 1.0f)),
      team_lead(table.add_column<std::uint32_t>("team_lead", no_firm)) {}

void Ecosystem::resize(std::size_t cities, std::size_t fields) {
    const std::size_t cf = cities * fields;
    for (auto* v : {&founders, &free_talent, &breakthroughs, &graduates}) v->assign(cf, 0);
    for (auto* v : {&startups_alive, &births, &refoundings, &failures, &acquisitions, &listings}) v->assign(cf, 0.0);
    employment.assign(cf * employer_kinds, 0);
    for (auto* v : {&vc_invested, &vc_returned, &vc_written_off}) v->assign(cf, 0.0);
    for (auto* v : {&vc_raised, &fund_invested, &fund_returned, &fund_written_off, &fund_exited_cost, &vc_dry_powder,
                    &vc_portfolio, &capital_access})
        v->assign(cities, 0.0);
    funding_seekers.assign(cities, 0.0);
    fund_count.assign(cities, 0);
    failure_tolerance.assign(cities, 0.0);
    basic_research.assign(cities, 0.0);
    research_relatedness.assign(fields, 0.0);
}

void Ecosystem::reset_flows() {
    for (auto* v : {&breakthroughs, &graduates}) std::fill(v->begin(), v->end(), 0);
    for (auto* v : {&births, &refoundings, &failures, &acquisitions, &listings}) std::fill(v->begin(), v->end(), 0.0);
    for (auto* v : {&vc_invested, &vc_returned, &vc_written_off, &vc_raised, &fund_invested, &fund_returned,
                    &fund_written_off, &fund_exited_cost})
        std::fill(v->begin(), v->end(), 0.0);
    std::fill(funding_seekers.begin(), funding_seekers.end(), 0.0);
    events.clear();
}

void AliveFirms::refresh(const FirmAgents& firms) {
    const auto status = firms.table.column(firms.status);
    const auto team_row = firms.table.column(firms.team_row);
    const auto members = firms.table.column(firms.cohort_members);
    const auto known = static_cast<std::uint32_t>(ended.size() - 1), count = static_cast<std::uint32_t>(status.size());
    constexpr auto alive = static_cast<std::uint8_t>(FirmStatus::alive);
    ended.resize(count + 1);
    // A firm that ended releases its team only if it was the cohort's last (talent agents are
    // employed by the team row). Members of a cohort that end in the same pass mark its team row
    // with the same value (it depends on the row alone), through atomic_ref as they may run side by side.
    auto mark_ended = [&](std::uint32_t r) {
        const std::uint32_t team = team_of(team_row, r);
        if (team != r) std::atomic_ref<std::uint8_t>(ended[r]).store(1, std::memory_order_relaxed);
        std::atomic_ref<std::uint8_t>(ended[team]).store(members[team] <= 0 ? 1 : 0, std::memory_order_relaxed);
    };
    // The rows still alive, in order, and those that ended marked (in parallel: there are tens of
    // thousands of firms alive, and this runs twice a step).
    engine::for_each_block(
        rows.size(),
        [&](std::size_t begin, std::size_t end, std::size_t) {
            for (std::size_t k = begin; k < end; ++k)
                if (status[rows[k]] != alive) mark_ended(rows[k]);
        },
        4096);
    engine::filter_blocks(
        rows.size(), next_, [&](std::size_t k) { return status[rows[k]] == alive; }, [&](std::size_t k) { return rows[k]; });
    rows.swap(next_);
    for (std::uint32_t r = known; r < count; ++r) {
        ended[r] = 0;
        if (status[r] == alive) rows.push_back(r);
    }
    for (std::uint32_t r = known; r < count; ++r)
        if (status[r] != alive) mark_ended(r);
    ended[count] = 0;
}

void take_census(CityState& state, HiringPool& pool) {
    take_census(state, pool, [](std::size_t, std::size_t, std::size_t) {});
}

void TeamLeavers::apply(FirmAgents& firms) const {
    auto team = firms.table.column(firms.team);
    auto team_skill = firms.table.column(firms.team_skill);
    auto present = firms.table.column(firms.founder_present);
    for (std::size_t k = 0; k < firm.size(); ++k) {
        --team[firm[k]];
        team_skill[firm[k]] -= skill_units[k];
        if (founder[k]) present[firm[k]] = 0;
    }
}

void HiringPool::reset(std::size_t blocks, std::size_t city_fields) {
    city_fields_ = city_fields;
    blocks_ = blocks;
    rows_.resize(blocks);
    // Every entry is written before it is read (start_block, sum_blocks): nothing to clear.
    offsets_.resize(blocks * (city_fields + 1));
    counts_.resize(city_fields * blocks);
    block_counts_.resize(blocks * city_fields);
    totals_.resize(city_fields);
    cursors_.resize(blocks);
}

std::uint32_t** HiringPool::start_block(std::size_t block) {
    std::uint32_t* offsets = offsets_.data() + block * (city_fields_ + 1);
    offsets[0] = 0;
    const std::uint32_t* counts = block_counts_.data() + block * city_fields_;
    for (std::size_t cf = 0; cf < city_fields_; ++cf) offsets[cf + 1] = offsets[cf] + counts[cf];
    auto& rows = rows_[block];
    rows.resize(offsets[city_fields_]);
    auto& cursor = cursors_[block];
    cursor.resize(city_fields_);
    for (std::size_t cf = 0; cf < city_fields_; ++cf) cursor[cf] = rows.data() + offsets[cf];
    return cursor.data();
}

void HiringPool::sum_blocks() {
    groups_ = (blocks_ + group_size - 1) / group_size;
    group_counts_.resize(city_fields_ * groups_);
    // Per city_field (in parallel): its counts block by block, their groups and total.
    engine::for_each_block(
        city_fields_,
        [&](std::size_t first, std::size_t last, std::size_t) {
            for (std::size_t cf = first; cf < last; ++cf) {
                std::uint64_t total = 0;
                std::uint32_t* counts = counts_.data() + cf * blocks_;
                std::uint32_t* groups = group_counts_.data() + cf * groups_;
                std::fill(groups, groups + groups_, 0);
                for (std::size_t b = 0; b < blocks_; ++b) {
                    counts[b] = block_counts_[b * city_fields_ + cf];
                    total += counts[b];
                    groups[b / group_size] += counts[b];
                }
                totals_[cf] = total;
            }
        },
        64);
}

std::uint32_t HiringPool::take(std::size_t city_field, std::uint32_t word) {
    const auto total = totals_[city_field];
    std::uint64_t pick =
        std::min<std::uint64_t>(static_cast<std::uint64_t>(engine::uniform_open(word) * static_cast<double>(total)), total - 1);
    // The pick-th free agent of the city and field, counting group by group of blocks, then block
    // by block; it is swapped to the end of its block's segment and the segment shortened
    // (drawing without replacement).
    std::uint32_t* groups = group_counts_.data() + city_field * groups_;
    std::size_t group = 0;
    while (pick >= groups[group]) pick -= groups[group++];
    --groups[group];
    const std::uint32_t* counts = counts_.data() + city_field * blocks_;
    std::size_t block = group * group_size;
    while (pick >= counts[block]) pick -= counts[block++];
    std::uint32_t& count = counts_[city_field * blocks_ + block];
    std::uint32_t* segment = rows_[block].data() + offsets_[block * (city_fields_ + 1) + city_field];
    const std::uint32_t row = segment[pick];
    segment[pick] = segment[count - 1];
    --count;
    --totals_[city_field];
    return row;
}

bool HiringPool::assign(CityState& state, std::uint32_t row, std::uint32_t firm_row, EmployerKind employer_kind,
                        std::size_t city_field) {
    auto& eco = state.ecosystem;
    auto& talent = state.talent.table;
    auto kind = talent.column(state.talent.employer_kind);
    // A free agent may have founded a firm since the census.
    if (kind[row] != static_cast<std::uint8_t>(EmployerKind::other)) return false;
    kind[row] = static_cast<std::uint8_t>(employer_kind);
    talent.column(state.talent.pay)[row] =
        firm_row != no_firm ? std::as_const(eco.firms.table).column(eco.firms.wage_premium)[firm_row] : 1.0f;
    talent.column(state.talent.employer)[row] = firm_row;
    if (firm_row != no_firm) {
        ++eco.firms.table.column(eco.firms.team)[firm_row];
        eco.firms.table.column(eco.firms.team_skill)[firm_row] +=
            skill_units(std::as_const(talent).column(state.talent.skill)[row]);
    }
    --eco.employment[city_field * employer_kinds + employer_axis_index(EmployerKind::other)];
    ++eco.employment[city_field * employer_kinds + employer_axis_index(employer_kind)];
    --eco.free_talent[city_field];
    return true;
}

std::int32_t HiringPool::hire(CityState& state, std::uint32_t firm_row, EmployerKind employer_kind, std::size_t city_field,
                              std::int32_t wanted, const engine::StreamKey& streams, engine::Purpose purpose,
                              std::uint64_t stream_entity, std::size_t first_draw) {
    std::int32_t hired = 0;
    std::array<std::uint32_t, 4> words{};
    // At most 1024 draws a firm and step (256 blocks of four words): hires beyond wait a step.
    for (std::size_t draw = first_draw; hired < wanted && totals_[city_field] > 0 && draw < max_draws; ++draw) {
        if (draw == first_draw || draw % 4 == 0)
            words = engine::random_words(streams, stream_entity, purpose, static_cast<std::uint8_t>(draw / 4));
        if (assign(state, take(city_field, words[draw % 4]), firm_row, employer_kind, city_field)) ++hired;
    }
    return hired;
}

void HiringPool::hire_batch(CityState& state, const std::vector<HireRequest>& requests, EmployerKind employer_kind,
                            const engine::StreamKey& streams, engine::Purpose purpose) {
    // A request draws only from the free talent of its own city and field, and hires into a firm
    // there, so the requests of different (city, field)s touch different entries of everything they
    // change: they are grouped by city and field, and the groups are hired in parallel, each in
    // request order (what each request hires is what hiring them all in order would give).
    auto& by_group = batch_order_;
    auto& group_start = batch_group_start_;
    auto& groups = batch_groups_;
    group_start.assign(city_fields_ + 1, 0);
    for (const auto& q : requests) ++group_start[q.city_field + 1];
    groups.clear();
    for (std::size_t cf = 0; cf < city_fields_; ++cf) {
        if (group_start[cf + 1] > 0) groups.push_back(static_cast<std::uint32_t>(cf));
        group_start[cf + 1] += group_start[cf];
    }
    by_group.resize(requests.size());
    {
        auto& next = batch_cursor_;
        next.assign(group_start.begin(), group_start.end() - 1);
        for (std::size_t r = 0; r < requests.size(); ++r) by_group[next[requests[r].city_field]++] = static_cast<std::uint32_t>(r);
    }
    auto& draws = batch_draws_;
    auto& hired = batch_hired_;
    draws.assign(requests.size(), 0);
    hired.assign(requests.size(), 0);
    const auto& talent = state.talent.table;
    const std::uint8_t* kind = talent.column(state.talent.employer_kind).data();
    const std::uint32_t* employer = talent.column(state.talent.employer).data();
    const float* pay = talent.column(state.talent.pay).data();
    const float* skill = talent.column(state.talent.skill).data();
    auto hire_group = [&](std::size_t cf) {
        // Every request's rows are drawn first and their talent rows prefetched, then assigned: the
        // rows are scattered over the talent table, and fetching them together hides most of the
        // memory latency that one hire after another would pay in full.
        struct Pick {
            std::uint32_t request, row;
        };
        thread_local std::vector<Pick> picks;
        picks.clear();
        const std::uint32_t* group = by_group.data() + group_start[cf];
        const std::size_t size = group_start[cf + 1] - group_start[cf];
        for (std::size_t k = 0; k < size; ++k) {
            const std::uint32_t r = group[k];
            const auto& q = requests[r];
            std::array<std::uint32_t, 4> words{};
            std::size_t& draw = draws[r];
            for (; static_cast<std::int32_t>(draw) < q.wanted && totals_[cf] > 0 && draw < max_draws; ++draw) {
                if (draw % 4 == 0) words = engine::random_words(streams, q.stream_entity, purpose, static_cast<std::uint8_t>(draw / 4));
                const std::uint32_t row = take(cf, words[draw % 4]);
                __builtin_prefetch(kind + row, 1);
                __builtin_prefetch(employer + row, 1);
                __builtin_prefetch(pay + row, 1);
                __builtin_prefetch(skill + row, 0);
                picks.push_back({r, row});
            }
        }
        for (const Pick& p : picks)
            if (assign(state, p.row, requests[p.request].firm_row, employer_kind, cf)) ++hired[p.request];
        // Picks that had founded since the census leave a shortfall: more draws, one request at a time.
        for (std::size_t k = 0; k < size; ++k) {
            const std::uint32_t r = group[k];
            if (hired[r] < requests[r].wanted)
                hire(state, requests[r].firm_row, employer_kind, cf, requests[r].wanted - hired[r], streams, purpose,
                     requests[r].stream_entity, draws[r]);
        }
    };
    engine::for_each_block(
        groups.size(), [&](std::size_t g, std::size_t, std::size_t) { hire_group(groups[g]); }, 1);
}

// Checkpoints (engine/checkpoint/archive.hpp): every member of the ecosystem. A member added to one
// of these structs stops the build (CITYSIM_CHECKPOINTED) until it is saved below.
CITYSIM_CHECKPOINTED(Ecosystem, 1448);
CITYSIM_CHECKPOINTED(InvestmentLedger, 96);
CITYSIM_CHECKPOINTED(Funds, 48);
CITYSIM_CHECKPOINTED(EventLog, 168);
CITYSIM_CHECKPOINTED(AliveFirms, 72);

void Ecosystem::save_or_restore(checkpoint::Archive& archive) {
    auto scope = archive.section("ecosystem");
    archive.value("enabled", enabled);
    archive.table("firms", firms.table);
    archive.values("alive_rows", alive.rows);
    archive.values("alive_ended", alive.ended);
    archive.values("investment_fund", investments.fund);
    archive.values("investment_firm", investments.firm);
    archive.values("investment_amount", investments.amount);
    archive.values("investment_previous", investments.previous);
    archive.values("fund_home_city", funds.home_city);
    archive.values("fund_dry_powder", funds.dry_powder);
    archive.values("event_firm", events.firm);
    archive.values("event_step", events.step);
    archive.values("event_city", events.city);
    archive.values("event_field", events.field);
    archive.values("event_kind", events.event);
    archive.values("event_counterpart_city", events.counterpart_city);
    archive.values("event_amount", events.amount);
    archive.values("failure_tolerance", failure_tolerance);
    archive.values("basic_research", basic_research);
    archive.values("research_relatedness", research_relatedness);
    archive.values("capital_access", capital_access);
    archive.values("startups_alive", startups_alive);
    archive.values("founders", founders);
    archive.values("employment", employment);
    archive.values("free_talent", free_talent);
    // Firm counts (Float64: a start-up agent stands for several firms) and talent-agent counts.
    for (auto [name, firms_flow] : {std::pair{"births", &births}, {"refoundings", &refoundings}, {"failures", &failures},
                                    {"acquisitions", &acquisitions}, {"listings", &listings},
                                    {"funding_seekers", &funding_seekers}})
        archive.values(name, *firms_flow);
    for (auto [name, flow] : {std::pair{"breakthroughs", &breakthroughs}, {"graduates", &graduates}, {"fund_count", &fund_count}})
        archive.values(name, *flow);
    archive.values("split_rows", split_rows);
    for (auto [name, money] : {std::pair{"vc_invested", &vc_invested}, {"vc_returned", &vc_returned},
                               {"vc_written_off", &vc_written_off}, {"vc_raised", &vc_raised}, {"fund_invested", &fund_invested},
                               {"fund_returned", &fund_returned}, {"fund_written_off", &fund_written_off},
                               {"fund_exited_cost", &fund_exited_cost}, {"vc_dry_powder", &vc_dry_powder},
                               {"vc_portfolio", &vc_portfolio}})
        archive.values(name, *money);
}

}  // namespace citysim::models
