// Structure-of-arrays storage for one kind of agent.
//
// Each attribute is a contiguous column; an agent is a row index plus a stable 64-bit id. New agents
// get ids from a counter, and removal compacts the columns *stably*, so rows are always sorted by id:
// lookup by id is a binary search with no index to keep, and iteration order (and hence every
// fixed-order reduction) does not depend on how many threads ran the step.
#pragma once

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <cstring>
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
    std::span<const AgentId> ids() const { return ids_; }

    void reserve(std::size_t capacity) {
        ids_.reserve(capacity);
        for (auto& c : columns_) c->reserve(capacity);
    }

    // Appends `count` agents with fresh ids and every column at its initial value; returns the row
    // of the first.
    std::size_t append(std::size_t count) {
        const std::size_t first = ids_.size();
        if (first + count > ids_.capacity()) {
            const std::size_t grown = growth_ == Growth::doubling ? 2 * ids_.capacity() : ids_.capacity() + ids_.capacity() / 4;
            reserve(std::max(first + count, grown));
        }
        ids_.resize(first + count);
        for (std::size_t i = 0; i < count; ++i) ids_[first + i] = next_id_++;
        for (auto& c : columns_) c->resize(first + count);
        return first;
    }

    // Copies every column of row `from` into row `to` (ids stay).
    void copy_row(std::size_t from, std::size_t to) {
        if (from >= size() || to >= size()) throw std::out_of_range("copy_row: row out of range in '" + kind_ + "'");
        for (auto& c : columns_) c->move_block(to, from, 1);
    }

    // Removes every row whose flag is non-zero, keeping the order of the others.
    void remove_flagged(std::span<const std::uint8_t> flags) {
        if (flags.size() != size()) throw std::invalid_argument("remove_flagged: one flag per agent expected");
        std::vector<std::size_t> kept_ranges;  // [begin, end) pairs of kept rows, moved as blocks
        for (std::size_t read = 0; read < flags.size();) {
            while (read < flags.size() && flags[read]) ++read;
            const std::size_t begin = read;
            while (read < flags.size() && !flags[read]) ++read;
            if (read > begin) {
                kept_ranges.push_back(begin);
                kept_ranges.push_back(read);
            }
        }
        auto move_ranges = [&](auto&& move_block) {
            std::size_t out = 0;
            for (std::size_t r = 0; r < kept_ranges.size(); r += 2) {
                const std::size_t n = kept_ranges[r + 1] - kept_ranges[r];
                if (out != kept_ranges[r]) move_block(out, kept_ranges[r], n);
                out += n;
            }
            return out;
        };
        const std::size_t write = move_ranges([&](std::size_t to, std::size_t from, std::size_t n) {
            std::memmove(ids_.data() + to, ids_.data() + from, n * sizeof(AgentId));
        });
        for (auto& c : columns_) {
            move_ranges([&](std::size_t to, std::size_t from, std::size_t n) { c->move_block(to, from, n); });
            c->resize(write);
        }
        ids_.resize(write);
    }

    std::optional<std::size_t> find(AgentId id) const {
        const auto it = std::lower_bound(ids_.begin(), ids_.end(), id);
        if (it == ids_.end() || *it != id) return std::nullopt;
        return static_cast<std::size_t>(it - ids_.begin());
    }

    // Bytes held per agent by the columns and ids (capacity, not just size).
    std::size_t bytes_per_agent() const {
        std::size_t bytes = sizeof(AgentId);
        for (const auto& c : columns_) bytes += c->element_size();
        return bytes;
    }
    std::size_t allocated_bytes() const {
        std::size_t bytes = ids_.capacity() * sizeof(AgentId);
        for (const auto& c : columns_) bytes += c->allocated_bytes();
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
    std::size_t column_count() const { return columns_.size(); }
    ColumnInfo column_info(std::size_t i) const {
        return {columns_[i]->name, columns_[i]->type_name(), columns_[i]->element_size()};
    }
    std::span<const std::byte> column_bytes(std::size_t i) const { return columns_[i]->bytes(); }
    std::span<std::byte> column_bytes(std::size_t i) { return columns_[i]->bytes(); }
    // Replaces every row: the given ids (ascending) with each column at its initial value, to be
    // overwritten through column_bytes(); `next_id` is the id the next appended agent gets.
    void assign_rows(std::span<const AgentId> ids, AgentId next_id) {
        if (!std::is_sorted(ids.begin(), ids.end()) || (!ids.empty() && ids.back() >= next_id))
            throw std::invalid_argument("assign_rows: ids of '" + kind_ + "' must ascend and lie below the next id");
        ids_.assign(ids.begin(), ids.end());
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
        virtual void move_block(std::size_t to, std::size_t from, std::size_t count) = 0;
        virtual std::size_t element_size() const = 0;
        virtual std::size_t allocated_bytes() const = 0;
        virtual std::string_view type_name() const = 0;
        virtual std::span<std::byte> bytes() = 0;
        std::string name;
    };
    template <class T>
    struct Column final : ColumnBase {
        Column(std::string n, T init) : ColumnBase(std::move(n)), initial(init) {}
        void resize(std::size_t n) override { values.resize(n, initial); }
        void reserve(std::size_t n) override { values.reserve(n); }
        void move_block(std::size_t to, std::size_t from, std::size_t count) override {
            std::memmove(values.data() + to, values.data() + from, count * sizeof(T));
        }
        std::size_t element_size() const override { return sizeof(T); }
        std::size_t allocated_bytes() const override { return values.capacity() * sizeof(T); }
        std::string_view type_name() const override { return element_type_name<T>(); }
        std::span<std::byte> bytes() override { return std::as_writable_bytes(std::span<T>(values)); }
        std::vector<T> values;
        T initial;
    };

    template <class T>
    Column<T>& typed(ColumnHandle<T> handle) const {
        assert(handle.index < columns_.size());
        return static_cast<Column<T>&>(*columns_[handle.index]);
    }

    std::string kind_;
    Growth growth_;
    std::vector<AgentId> ids_;
    std::vector<std::unique_ptr<ColumnBase>> columns_;
    AgentId next_id_ = 0;
};

}  // namespace citysim::engine
