// Structure-of-arrays storage for one kind of agent.
//
// Each attribute is a contiguous column; an agent is a row index plus a stable id. New agents get
// ids from a counter, and removal compacts the columns *stably*, so rows are always sorted by id:
// lookup by id is a binary search with no index to keep, and iteration order (and hence every
// fixed-order reduction) does not depend on how many threads ran the step.
//
// Ids are stored in 32 bits (AgentId is the 64-bit type the rest of the code passes around, so a
// stored id widens to the same value): a table hands out at most 2^32 - 1 ids over a run, and
// append() says so rather than wrap.
//
// The columns can be listed (column_count(), column_name(), column_bytes()) without knowing their
// types, for code that saves and restores a table as it is.
#pragma once

#include "engine/parallel.hpp"

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace citysim::engine {

using AgentId = std::uint64_t;
using StoredId = std::uint32_t;  // how a table stores its ids
inline constexpr AgentId max_agent_id = std::numeric_limits<StoredId>::max() - 1;

// A short name of a plain element type, stored with saved columns so that a reader refuses a
// column of another type instead of reinterpreting its bytes.
template <class T>
constexpr std::string_view element_type_name() {
    if constexpr (std::is_same_v<T, bool>) return "bool";
    else if constexpr (std::is_floating_point_v<T> && sizeof(T) == 4) return "f32";
    else if constexpr (std::is_floating_point_v<T> && sizeof(T) == 8) return "f64";
    else if constexpr (std::is_enum_v<T>) return element_type_name<std::underlying_type_t<T>>();
    else if constexpr (std::is_integral_v<T>) {
        constexpr bool is_signed = std::is_signed_v<T>;
        if constexpr (sizeof(T) == 1) return is_signed ? "i8" : "u8";
        else if constexpr (sizeof(T) == 2) return is_signed ? "i16" : "u16";
        else if constexpr (sizeof(T) == 4) return is_signed ? "i32" : "u32";
        else if constexpr (sizeof(T) == 8) return is_signed ? "i64" : "u64";
        else return "bytes";
    } else return "bytes";
}

template <class T>
struct ColumnHandle {
    std::size_t index = static_cast<std::size_t>(-1);
};

// How append grows the columns when they are full. by_quarter keeps memory per agent near the
// columns' size where entries keep replacing exits (people); doubling copies each row about once,
// not about four times, and suits an append-only table (a ledger of firms) whose growth would
// otherwise pay for dozens of reallocations.
enum class Growth { by_quarter, doubling };

class AgentTable {
public:
    explicit AgentTable(std::string kind, Growth growth = Growth::by_quarter) : kind_(std::move(kind)), growth_(growth) {}

    const std::string& kind() const { return kind_; }
    std::size_t size() const { return ids_.size(); }
    AgentId next_id() const { return next_id_; }

    template <class T>
    ColumnHandle<T> add_column(std::string name, T initial_value = T{}) {
        static_assert(std::is_trivially_copyable_v<T>, "columns hold plain values");
        if (size() != 0) throw std::logic_error("add columns to '" + kind_ + "' before adding agents");
        for (const auto& c : columns_)
            if (c->name == name) throw std::logic_error("column '" + name + "' defined twice in '" + kind_ + "'");
        columns_.push_back(std::make_unique<Column<T>>(std::move(name), initial_value));
        return ColumnHandle<T>{columns_.size() - 1};
    }

    template <class T>
    std::span<T> column(ColumnHandle<T> handle) {
        return std::span<T>(typed<T>(handle).values);
    }
    template <class T>
    std::span<const T> column(ColumnHandle<T> handle) const {
        return std::span<const T>(typed<T>(handle).values);
    }
    std::span<const StoredId> ids() const { return ids_; }

    // The columns without their types, in the order they were added (ids not included).
    std::size_t column_count() const { return columns_.size(); }
    const std::string& column_name(std::size_t c) const { return columns_.at(c)->name; }
    std::size_t column_element_size(std::size_t c) const { return columns_.at(c)->element_size(); }
    std::span<const std::byte> column_bytes(std::size_t c) const {
        return {columns_.at(c)->bytes(), size() * columns_[c]->element_size()};
    }
    std::span<std::byte> column_bytes(std::size_t c) { return {columns_.at(c)->bytes(), size() * columns_[c]->element_size()}; }

    void reserve(std::size_t capacity) {
        ids_.reserve(capacity);
        // Column by column in parallel: growing copies every row, and faults in the new pages.
        for_each_block(columns_.size(), [&](std::size_t c, std::size_t, std::size_t) { columns_[c]->reserve(capacity); }, 1);
    }

    // Appends `count` agents with fresh ids and every column at its initial value; returns the row
    // of the first.
    std::size_t append(std::size_t count) {
        if (count > max_agent_id + 1 - next_id_)
            throw std::overflow_error("table '" + kind_ + "': more than " + std::to_string(max_agent_id + 1) +
                                      " agents over a run; ids are stored in 32 bits");
        const std::size_t first = ids_.size();
        if (first + count > ids_.capacity()) {
            const std::size_t grown = growth_ == Growth::doubling ? 2 * ids_.capacity() : ids_.capacity() + ids_.capacity() / 4;
            reserve(std::max(first + count, grown));
        }
        ids_.resize(first + count);
        for (std::size_t i = 0; i < count; ++i) ids_[first + i] = static_cast<StoredId>(next_id_++);
        // The new rows often lie on pages never touched before, and faulting a page in costs far more
        // than filling it: many rows are filled column by column in parallel.
        if (count * bytes_per_agent() >= 65536)
            for_each_block(columns_.size(), [&](std::size_t c, std::size_t, std::size_t) { columns_[c]->resize(first + count); }, 1);
        else
            for (auto& c : columns_) c->resize(first + count);
        return first;
    }

    // Copies every column of row `from` into row `to` (ids stay).
    void copy_row(std::size_t from, std::size_t to) {
        if (from >= size() || to >= size()) throw std::out_of_range("copy_row: row out of range in '" + kind_ + "'");
        for (auto& c : columns_) {
            const std::size_t width = c->element_size();
            std::memmove(c->bytes() + to * width, c->bytes() + from * width, width);
        }
    }

    // Removes every row whose flag is non-zero, keeping the order of the others.
    void remove_flagged(std::span<const std::uint8_t> flags) {
        if (flags.size() != size()) throw std::invalid_argument("remove_flagged: one flag per agent expected");
        std::vector<std::uint32_t> rows;
        for (std::size_t i = 0; i < flags.size(); ++i)
            if (flags[i]) rows.push_back(static_cast<std::uint32_t>(i));
        remove_rows(rows);
    }

    // Removes the rows listed (ascending, no repeats), keeping the order of the others.
    //
    // In parallel: the table is cut into groups of consecutive rows, and each group moves its kept
    // rows down to where they belong. A group's rows only move down, and no further than the number
    // of rows removed before them, so a group's destination can overlap only the tail of the groups
    // before it: each group first saves the kept rows that later groups will write over (at most
    // as many as were removed before its end), then all groups move their rows at once. The
    // result is the same whatever the groups; fewer groups save fewer rows, so there are about 16
    // times fewer groups than rows removed per row kept (a scratch column of at most 1/16 of the
    // table), and none smaller than 16384 rows (a smaller table is compacted in one group, without
    // the cost of a parallel loop per column).
    void remove_rows(std::span<const std::uint32_t> rows) {
        if (rows.empty()) return;
        const std::size_t n = size(), removed = rows.size();
        if (rows.back() >= n) throw std::invalid_argument("remove_rows: row out of range");
        const std::size_t groups = std::clamp<std::size_t>(std::min(n / 16384, n / (16 * removed)), 1, 256);
        const std::size_t group_rows = (n + groups - 1) / groups;
        // Per group g: its source rows [start, end), the first of its removed rows, where its kept
        // rows go (dest), and from where on its kept rows are written over by later groups (saved_from).
        auto& plan = compaction_;
        plan.assign(groups + 1, {});
        for (std::size_t g = 0; g <= groups; ++g) {
            Group& p = plan[g];
            p.start = std::min(n, g * group_rows);
            p.first_removed = static_cast<std::size_t>(std::lower_bound(rows.begin(), rows.end(), p.start) - rows.begin());
            p.dest = p.start - p.first_removed;
        }
        std::size_t saved_total = 0;
        for (std::size_t g = 0; g < groups; ++g) {
            Group& p = plan[g];
            const std::size_t end = plan[g + 1].start;
            p.saved_from = std::clamp(plan[g + 1].dest, p.start, end);
            const std::size_t removed_after = plan[g + 1].first_removed -
                static_cast<std::size_t>(std::lower_bound(rows.begin(), rows.end(), p.saved_from) - rows.begin());
            p.saved_at = saved_total;
            saved_total += (end - p.saved_from) - removed_after;
        }
        // The kept rows of group g within [from, to), as ranges, in order.
        auto kept_ranges = [&](std::size_t g, std::size_t from, std::size_t to, auto&& visit) {
            std::size_t r = static_cast<std::size_t>(std::lower_bound(rows.begin() + static_cast<std::ptrdiff_t>(plan[g].first_removed),
                                                                      rows.begin() + static_cast<std::ptrdiff_t>(plan[g + 1].first_removed), from) -
                                                     rows.begin());
            std::size_t at = from;
            for (; at < to; ++r) {
                const std::size_t next_removed = r < removed ? std::min<std::size_t>(rows[r], to) : to;
                if (next_removed > at) visit(at, next_removed - at);
                at = next_removed + 1;
            }
        };
        // One pass per column, in which each group also saves the next column's rows: the pass for
        // column k moves column k - 1 and saves column k (two scratch buffers, used in turn).
        const std::size_t count = columns_.size() + 1;  // the ids, then the columns
        auto bytes_of = [&](std::size_t k) { return k == 0 ? reinterpret_cast<std::byte*>(ids_.data()) : columns_[k - 1]->bytes(); };
        auto size_of = [&](std::size_t k) { return k == 0 ? sizeof(StoredId) : columns_[k - 1]->element_size(); };
        std::size_t widest = 0;
        for (std::size_t k = 0; k < count; ++k) widest = std::max(widest, size_of(k));
        for (auto& s : scratch_) s.resize(saved_total * widest);
        for (std::size_t k = 0; k <= count; ++k) {
            auto pass = [&](std::size_t g) {
                if (k > 0) {  // move column k - 1
                    std::byte* data = bytes_of(k - 1);
                    const std::size_t size = size_of(k - 1);
                    std::size_t to = plan[g].dest;
                    kept_ranges(g, plan[g].start, plan[g].saved_from, [&](std::size_t from, std::size_t length) {
                        if (to != from) std::memmove(data + to * size, data + from * size, length * size);
                        to += length;
                    });
                    const std::size_t saved = plan[g + 1].dest - to;
                    if (saved > 0) std::memcpy(data + to * size, scratch_[(k - 1) % 2].data() + plan[g].saved_at * size, saved * size);
                }
                if (k < count) {  // save column k
                    const std::byte* data = bytes_of(k);
                    const std::size_t size = size_of(k);
                    std::byte* out = scratch_[k % 2].data() + plan[g].saved_at * size;
                    kept_ranges(g, plan[g].saved_from, plan[g + 1].start, [&](std::size_t from, std::size_t length) {
                        std::memcpy(out, data + from * size, length * size);
                        out += length * size;
                    });
                }
            };
            if (groups == 1) pass(0);
            else for_each_block(groups, [&](std::size_t g, std::size_t, std::size_t) { pass(g); }, 1);
        }
        const std::size_t kept = n - removed;
        ids_.resize(kept);
        for (auto& c : columns_) c->resize(kept);
        // The scratch is kept for the next removal, unless an unusual one made it large.
        for (auto& s : scratch_)
            if (s.capacity() > kept * widest / 8 + 65536) std::vector<std::byte>().swap(s);
    }

    std::optional<std::size_t> find(AgentId id) const {
        if (id > max_agent_id) return std::nullopt;
        const auto it = std::lower_bound(ids_.begin(), ids_.end(), static_cast<StoredId>(id));
        if (it == ids_.end() || *it != id) return std::nullopt;
        return static_cast<std::size_t>(it - ids_.begin());
    }

    // Bytes held per agent by the columns and ids (capacity, not just size).
    std::size_t bytes_per_agent() const {
        std::size_t bytes = sizeof(StoredId);
        for (const auto& c : columns_) bytes += c->element_size();
        return bytes;
    }
    std::size_t allocated_bytes() const {
        std::size_t bytes = ids_.capacity() * sizeof(StoredId);
        for (const auto& c : columns_) bytes += c->allocated_bytes();
        for (const auto& s : scratch_) bytes += s.capacity();
        return bytes;
    }

    // Every column by position, as raw bytes: how checkpoints (engine/checkpoint) save and restore a
    // table without knowing its columns, so that a column a model adds is saved with the others.
    // `type` names the element type ("u8", "i32", "f64", ...; "bytesN" for other plain types).
    struct ColumnInfo {
        std::string_view name;
        std::string_view type;
        std::size_t element_size;
    };
    ColumnInfo column_info(std::size_t i) const {
        return {columns_[i]->name, columns_[i]->type_name(), columns_[i]->element_size()};
    }
    // Replaces every row: the given ids (ascending) with each column at its initial value, to be
    // overwritten through column_bytes(); `next_id` is the id the next appended agent gets.
    void assign_rows(std::span<const AgentId> ids, AgentId next_id) {
        if (!std::is_sorted(ids.begin(), ids.end()) || (!ids.empty() && ids.back() >= next_id))
            throw std::invalid_argument("assign_rows: ids of '" + kind_ + "' must ascend and lie below the next id");
        if (next_id > max_agent_id + 1)
            throw std::invalid_argument("assign_rows: the next id of '" + kind_ + "' exceeds what 32 bits store");
        ids_.resize(ids.size());
        std::transform(ids.begin(), ids.end(), ids_.begin(), [](AgentId id) { return static_cast<StoredId>(id); });
        for (auto& c : columns_) {
            c->resize(0);
            c->resize(ids_.size());
        }
        next_id_ = next_id;
    }

private:
    struct ColumnBase {
        explicit ColumnBase(std::string n) : name(std::move(n)) {}
        virtual ~ColumnBase() = default;
        virtual void resize(std::size_t n) = 0;
        virtual void reserve(std::size_t n) = 0;
        virtual std::byte* bytes() = 0;
        virtual std::size_t element_size() const = 0;
        virtual std::size_t allocated_bytes() const = 0;
        virtual std::string_view type_name() const = 0;
        std::string name;
    };
    template <class T>
    struct Column final : ColumnBase {
        Column(std::string n, T init) : ColumnBase(std::move(n)), initial(init) {}
        void resize(std::size_t n) override { values.resize(n, initial); }
        void reserve(std::size_t n) override { values.reserve(n); }
        std::byte* bytes() override { return reinterpret_cast<std::byte*>(values.data()); }
        std::size_t element_size() const override { return sizeof(T); }
        std::size_t allocated_bytes() const override { return values.capacity() * sizeof(T); }
        std::string_view type_name() const override { return element_type_name<T>(); }
        std::vector<T> values;
        T initial;
    };

    template <class T>
    Column<T>& typed(ColumnHandle<T> handle) const {
        assert(handle.index < columns_.size());
        return static_cast<Column<T>&>(*columns_[handle.index]);
    }

    struct Group {
        std::size_t start = 0, first_removed = 0, dest = 0, saved_from = 0, saved_at = 0;
    };

    std::string kind_;
    Growth growth_;
    std::vector<StoredId> ids_;
    std::vector<std::unique_ptr<ColumnBase>> columns_;
    AgentId next_id_ = 0;
    // Kept across removals: the groups' plan and the two scratch columns.
    std::vector<Group> compaction_;
    std::vector<std::byte> scratch_[2];
};

}  // namespace citysim::engine
