// The census with a visitor: take_census(state, pool, visit) calls visit(row, block, employer
// kind after release) for every talent agent during the pass, so that a mechanism that looks at
// every agent (founding) reads it while it is in cache instead of in a pass of its own. visit runs
// in parallel over blocks of talent and may write only the agent's own row and its block's data.
#pragma once

#include "engine/parallel.hpp"
#include "models/city_state.hpp"
#include "models/firms.hpp"

#include <tbb/enumerable_thread_specific.h>

#include <span>

namespace citysim::models {

template <class Visitor>
void take_census(CityState& state, HiringPool& pool, Visitor&& visit) {
    auto& eco = state.ecosystem;
    auto& firms = eco.firms.table;
    const std::size_t fields = state.fields(), cf_count = state.cities() * fields;
    const auto status = std::as_const(firms).column(eco.firms.status);
    const auto payout = std::as_const(firms).column(eco.firms.founder_payout);

    auto& talent = state.talent.table;
    const auto city = std::as_const(talent).column(state.talent.city);
    const auto field = std::as_const(talent).column(state.talent.field);
    auto kind = talent.column(state.talent.employer_kind);
    auto employer = talent.column(state.talent.employer);
    auto failures = talent.column(state.talent.failures);
    auto savings = talent.column(state.talent.savings);

    // Per block: employment [cf * kinds + kind] and founders [cf] as tallies; the free rows of the
    // block sorted by cf (a counting sort inside the block, while it is in cache).
    const std::size_t width = cf_count * employer_kinds + cf_count;
    const std::size_t blocks = engine::block_count(talent.size());
    pool.reset(blocks, cf_count);
    const auto counts = engine::reduce_blocks<std::int64_t>(
        talent.size(), width, [&, city, field, kind, employer, failures, savings, status,
                               payout](std::size_t begin, std::size_t end, std::span<std::int64_t> tally) {
            const std::size_t block = begin / engine::agent_block_size;
            for (std::size_t i = begin; i < end; ++i) {
                std::uint32_t firm = employer[i];
                std::uint8_t k = kind[i];
                if (firm != no_firm && status[firm] != static_cast<std::uint8_t>(FirmStatus::alive)) {
                    if (k == static_cast<std::uint8_t>(EmployerKind::founder)) {
                        if (status[firm] == static_cast<std::uint8_t>(FirmStatus::failed)) {
                            if (failures[i] < 255) ++failures[i];
                        } else {
                            savings[i] = static_cast<float>(savings[i] + payout[firm]);
                        }
                    }
                    kind[i] = k = static_cast<std::uint8_t>(EmployerKind::other);
                    employer[i] = firm = no_firm;
                }
                const std::uint32_t cf = static_cast<std::uint32_t>(city[i] * fields + field[i]);
                const auto as_kind = static_cast<EmployerKind>(k);
                visit(i, block, as_kind);
                ++tally[cf * employer_kinds + employer_axis_index(as_kind)];
                if (as_kind == EmployerKind::other) {
                    pool.count_free(block, cf);
                } else if (as_kind == EmployerKind::founder) {
                    ++tally[cf_count * employer_kinds + cf];
                }
            }
            // Second pass over the block, still in cache: the free rows, sorted by cf.
            auto* slot = pool.start_block(block);
            for (std::size_t i = begin; i < end; ++i)
                if (kind[i] == static_cast<std::uint8_t>(EmployerKind::other))
                    *slot[city[i] * fields + field[i]]++ = static_cast<std::uint32_t>(i);
        });
    std::copy(counts.begin(), counts.begin() + static_cast<std::ptrdiff_t>(cf_count * employer_kinds),
              eco.employment.begin());
    std::copy(counts.begin() + static_cast<std::ptrdiff_t>(cf_count * employer_kinds), counts.end(), eco.founders.begin());
    for (std::size_t cf = 0; cf < cf_count; ++cf)
        eco.free_talent[cf] = eco.employment[cf * employer_kinds + employer_axis_index(EmployerKind::other)];

    std::fill(eco.startups_alive.begin(), eco.startups_alive.end(), 0);
    const auto firm_kind = std::as_const(firms).column(eco.firms.kind);
    const auto firm_city = std::as_const(firms).column(eco.firms.city);
    const auto firm_field = std::as_const(firms).column(eco.firms.field);
    auto peak = firms.column(eco.firms.peak_team);
    const auto team = std::as_const(firms).column(eco.firms.team);
    for (std::size_t r = 0; r < firms.size(); ++r) {
        if (status[r] != static_cast<std::uint8_t>(FirmStatus::alive)) continue;
        peak[r] = std::max(peak[r], team[r]);
        if (firm_kind[r] == static_cast<std::uint8_t>(FirmKind::startup))
            ++eco.startups_alive[firm_city[r] * fields + firm_field[r]];
    }

    pool.sum_blocks();
}

}  // namespace citysim::models
