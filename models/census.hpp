// The census with a visitor: take_census(state, pool, visit) calls visit(begin, end, block) for
// every block of talent [begin, end) once the block's employees of ended firms are released, so
// that a mechanism that looks at every agent (founding) reads the block while it is in cache
// instead of in a pass of its own. visit runs in parallel over blocks and may write only the
// block's rows and its own data of the block.
#pragma once

#include "engine/parallel.hpp"
#include "models/city_state.hpp"
#include "models/firms.hpp"

#include <tbb/enumerable_thread_specific.h>

#include <algorithm>
#include <iterator>
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
    auto pay = talent.column(state.talent.pay);

    // Per thread: employment [cf * kinds + kind] and founders [cf] as tallies; per block, the free
    // rows of the block sorted by cf (a counting sort inside the block, while it is in cache).
    const std::size_t width = cf_count * employer_kinds + cf_count;
    const std::size_t blocks = engine::block_count(talent.size());
    pool.reset(blocks, cf_count);
    eco.alive.refresh(eco.firms);
    const auto firm_count = static_cast<std::uint32_t>(firms.size());
    const std::vector<std::uint8_t>& ended = eco.alive.ended;
    static constexpr std::uint8_t axis_of_kind[] = {3, 0, 1, 2, 0};  // EmployerKind -> employer_axis_index
    static_assert(std::size(axis_of_kind) == 5);
    // Each row gets a code cf * 8 + kind. Neighbouring rows mostly share a cf, so counters and
    // cursors indexed by cf would be updated one after another through memory (each waiting for the
    // store before it); the block is therefore cut into `lanes` equal parts, processed side by side,
    // each with its own counters and cursors (eight measured slightly faster than four). A lane's
    // counters cost cf_count x 8 to clear and sum per block, so with many cities there are fewer
    // lanes, as many as keep all lanes' counters within 80 KiB (so in the core's level-2 cache): at
    // 300 cities, two lanes took 5% less CPU in the census than one and four (rows of one city still
    // sit together, as the population is created city by city). The free rows come out in row order
    // whatever the lanes, so the lanes do not change results.
    constexpr std::size_t max_lanes = 8, kind_slots = 8, lane_counter_bytes = 80 * 1024;
    const std::size_t codes = cf_count * kind_slots;
    std::size_t lanes = max_lanes;
    while (lanes > 1 && lanes * codes * sizeof(std::uint32_t) > lane_counter_bytes) lanes /= 2;
    // Employment and founders are integer counts: summed per thread, in any order, they come out the
    // same; so there is no per-block partial to clear and add up.
    tbb::enumerable_thread_specific<std::vector<std::int64_t>> tallies([width] { return std::vector<std::int64_t>(width, 0); });
    engine::for_each_block(
        talent.size(), [&, city, field, kind, employer, failures, savings, status, payout, pay](
                           std::size_t begin, std::size_t end, std::size_t block) {
            // Everything the loop reads is copied to locals first: stores through the uint8 columns
            // could alias values held in the closure, which the compiler would then reload every time.
            const std::size_t n = end - begin;
            const std::size_t n_fields = fields, n_codes = codes, n_lanes = lanes;
            const std::uint32_t n_firms = firm_count;
            const std::uint8_t* ended_of = ended.data();
            const CityIndex* city_of = city.data();
            const FieldIndex* field_of = field.data();
            const std::uint32_t* employer_of = employer.data();
            const std::uint8_t* kind_of = kind.data();
            // Scratch of this thread, kept from block to block. The histogram is all zeros between
            // blocks (each block clears what it has read), so it is cleared here only when its size
            // changes (another model on this thread).
            thread_local std::vector<std::uint32_t> code, histogram, lane_free;
            thread_local std::vector<std::uint32_t*> cursor;
            code.resize(n);
            if (histogram.size() != n_lanes * n_codes) histogram.assign(n_lanes * n_codes, 0);
            std::uint32_t* code_of = code.data();
            for (std::size_t i = begin; i < end; ++i) {
                std::uint32_t k = kind_of[i];
                if (ended_of[std::min(employer_of[i], n_firms)]) {
                    const std::uint32_t firm = employer_of[i];
                    if (k == static_cast<std::uint8_t>(EmployerKind::founder)) {
                        // The firm it founded (the team row) failed: a failure. What exits of its
                        // cohort paid the founder is owed either way (nothing for an ordinary failure).
                        if (status[firm] == static_cast<std::uint8_t>(FirmStatus::failed) && failures[i] < 255) ++failures[i];
                        if (payout[firm] != 0.0) savings[i] = static_cast<float>(savings[i] + payout[firm]);
                    }
                    kind[i] = static_cast<std::uint8_t>(EmployerKind::other);
                    k = static_cast<std::uint8_t>(EmployerKind::other);
                    employer[i] = no_firm;
                    pay[i] = 1.0f;
                }
                code_of[i - begin] = static_cast<std::uint32_t>((city_of[i] * n_fields + field_of[i]) * kind_slots + k);
            }
            visit(begin, end, block);
            // Lane l holds rows [l * span, (l + 1) * span) of the block (the last may be shorter).
            const std::size_t span = (n + n_lanes - 1) / n_lanes;
            std::size_t lane_rows[max_lanes];
            for (std::size_t l = 0; l < n_lanes; ++l) lane_rows[l] = std::min(n, l * span + span) - std::min(n, l * span);
            std::uint32_t* histogram_of = histogram.data();
            for (std::size_t j = 0; j < span; ++j)
                for (std::size_t l = 0; l < n_lanes; ++l)
                    if (j < lane_rows[l]) ++histogram_of[l * n_codes + code_of[l * span + j]];
            std::int64_t* tally_of = tallies.local().data();
            std::int64_t* founders_of = tally_of + cf_count * employer_kinds;
            std::uint32_t* free_of = pool.free_counts(block);  // free_of[cf]
            // Per cf, the lanes' counts added up (and cleared), then added to the tallies once; each
            // lane's free rows kept for the cursors below.
            lane_free.resize(n_lanes * cf_count);
            std::uint32_t* lane_free_of = lane_free.data();
            constexpr std::size_t kinds = std::size(axis_of_kind);
            for (std::size_t cf = 0; cf < cf_count; ++cf) {
                std::uint32_t count[kinds] = {};
                for (std::size_t l = 0; l < n_lanes; ++l) {
                    std::uint32_t* h = histogram_of + l * n_codes + cf * kind_slots;
                    for (std::size_t k = 0; k < kinds; ++k) count[k] += h[k];
                    lane_free_of[l * cf_count + cf] = h[static_cast<std::size_t>(EmployerKind::other)];
                    std::fill(h, h + kind_slots, 0u);
                }
                for (std::size_t k = 0; k < kinds; ++k) tally_of[cf * employer_kinds + axis_of_kind[k]] += count[k];
                founders_of[cf] += count[static_cast<std::size_t>(EmployerKind::founder)];
                free_of[cf] = count[static_cast<std::size_t>(EmployerKind::other)];
            }
            // The free rows, sorted by cf: each lane writes after the lanes before it in each cf's
            // segment. A row that is not free is written to a scratch slot instead of being skipped
            // by a branch.
            std::uint32_t** slot = pool.start_block(block);
            cursor.resize(n_lanes * cf_count);
            for (std::size_t cf = 0; cf < cf_count; ++cf) {
                std::uint32_t* next = slot[cf];
                for (std::size_t l = 0; l < n_lanes; ++l) {
                    cursor[l * cf_count + cf] = next;
                    next += lane_free_of[l * cf_count + cf];
                }
            }
            std::uint32_t scratch[max_lanes];
            std::uint32_t** cursor_of = cursor.data();
            for (std::size_t j = 0; j < span; ++j)
                for (std::size_t l = 0; l < n_lanes; ++l) {
                    if (j >= lane_rows[l]) continue;
                    const std::uint32_t c = code_of[l * span + j];
                    const bool is_free = (c % kind_slots) == static_cast<std::uint32_t>(EmployerKind::other);
                    std::uint32_t*& next = cursor_of[l * cf_count + c / kind_slots];
                    *(is_free ? next : &scratch[l]) = static_cast<std::uint32_t>(begin + l * span + j);
                    next += is_free;
                }
        });
    std::vector<std::int64_t> counts(width, 0);
    for (const auto& tally : tallies)
        for (std::size_t k = 0; k < width; ++k) counts[k] += tally[k];
    std::copy(counts.begin(), counts.begin() + static_cast<std::ptrdiff_t>(cf_count * employer_kinds),
              eco.employment.begin());
    std::copy(counts.begin() + static_cast<std::ptrdiff_t>(cf_count * employer_kinds), counts.end(), eco.founders.begin());
    for (std::size_t cf = 0; cf < cf_count; ++cf)
        eco.free_talent[cf] = eco.employment[cf * employer_kinds + employer_axis_index(EmployerKind::other)];

    std::fill(eco.startups_alive.begin(), eco.startups_alive.end(), 0.0);
    const auto firm_kind = std::as_const(firms).column(eco.firms.kind);
    const auto firm_city = std::as_const(firms).column(eco.firms.city);
    const auto firm_field = std::as_const(firms).column(eco.firms.field);
    const auto represents = std::as_const(firms).column(eco.firms.represents);
    const auto team_row = std::as_const(firms).column(eco.firms.team_row);
    auto peak = firms.column(eco.firms.peak_team);
    const auto team = std::as_const(firms).column(eco.firms.team);
    // Serial, in row order: startups_alive sums doubles (`represents`), whose order the result
    // depends on, and members of a cohort share their team row's peak.
    for (const std::uint32_t r : eco.alive.rows) {
        const std::uint32_t t = team_of(team_row, r);
        peak[t] = std::max(peak[t], team[t]);
        if (firm_kind[r] == static_cast<std::uint8_t>(FirmKind::startup))
            eco.startups_alive[firm_city[r] * fields + firm_field[r]] += represents[r];
    }

    pool.sum_blocks();
}

}  // namespace citysim::models
