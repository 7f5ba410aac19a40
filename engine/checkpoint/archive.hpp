// Saving and restoring a model's state with one function per piece of state.
//
// A mechanism (or any holder of state) writes one member function
//     void checkpoint(checkpoint::Archive& archive) { archive.values("recent_returns", recent_returns_); ... }
// that names each piece of its state once. The same function saves (archive.saving()) and restores,
// so what is saved and what is restored cannot drift apart. Names nest in sections
// ("venture_capital/recent_returns"); an AgentTable is saved whole, every column generically, so a
// column a model adds is saved with the others.
//
// Implementations: FileWriter / FileReader (engine/checkpoint/file.hpp, an HDF5 checkpoint file) and
// MemoryArchive (below), which keeps the state in memory and tells where two states differ, so that
// tests can compare a model restored from a checkpoint with one that never stopped, entry by entry.
//
// Restoring is strict: an entry that is missing, of another element type or (for scalars) of another
// length is an error naming the entry; nothing is reinterpreted or defaulted.
#pragma once

#include "engine/agent_table.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace citysim::checkpoint {

// A checkpoint that cannot be used: unreadable, of another build or scenario, or inconsistent.
class CheckpointError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// What one saved entry holds: `count` elements of `element_size` bytes, of type `type`
// (engine::element_type_name: "u8", "f64", ..., "text" for characters, "bytes" for plain structs).
struct Entry {
    std::string type;
    std::size_t element_size = 0;
    std::size_t count = 0;
};

class Archive {
public:
    virtual ~Archive() = default;
    virtual bool saving() const = 0;
    bool restoring() const { return !saving(); }

    // Names given inside a section are prefixed with "section/"; sections nest.
    class Section {
    public:
        Section(Archive& archive, std::string_view name) : archive_(archive) { archive_.prefix_.emplace_back(name); }
        ~Section() { archive_.prefix_.pop_back(); }
        Section(const Section&) = delete;
        Section& operator=(const Section&) = delete;

    private:
        Archive& archive_;
    };
    [[nodiscard]] Section section(std::string_view name) { return Section(*this, name); }

    // A number, a bool or an enum.
    template <class T>
    void value(std::string_view name, T& v) {
        static_assert(std::is_arithmetic_v<T> || std::is_enum_v<T>, "value(): numbers, bools and enums");
        exchange(name, engine::element_type_name<T>(), sizeof(T), &v, 1, true);
    }
    // A vector of numbers or enums.
    template <class T>
    void values(std::string_view name, std::vector<T>& v) {
        static_assert(std::is_arithmetic_v<T> || std::is_enum_v<T>, "values(): vectors of numbers or enums");
        exchange_vector(name, engine::element_type_name<T>(), v);
    }
    // A vector of plain structs, saved as their bytes (same build only, which checkpoints require).
    template <class T>
    void records(std::string_view name, std::vector<T>& v) {
        static_assert(std::is_trivially_copyable_v<T>, "records(): plain structs");
        exchange_vector(name, "bytes", v);
    }
    void text(std::string_view name, std::string& s);
    void texts(std::string_view name, std::vector<std::string>& v);
    // Every row of the table: ids, the next id, and each column by name, whatever its columns are.
    void table(std::string_view name, engine::AgentTable& t);

    // The full name an entry `name` gets in the current section.
    std::string path(std::string_view name) const;

protected:
    // Save: store `entry` with `data` (entry.count * entry.element_size bytes) under `path`.
    virtual void put(const std::string& path, const Entry& entry, const void* data) = 0;
    // Restore: what is stored under `path`; throws CheckpointError naming it when absent.
    virtual Entry find(const std::string& path) = 0;
    // Restore: copies the stored bytes of `path` (as find() described them) to `data`.
    virtual void get(const std::string& path, const Entry& entry, void* data) = 0;

private:
    void exchange(std::string_view name, std::string_view type, std::size_t element_size, void* data,
                  std::size_t count, bool fixed_count);
    template <class T>
    void exchange_vector(std::string_view name, std::string_view type, std::vector<T>& v) {
        if (saving()) {
            exchange(name, type, sizeof(T), v.data(), v.size(), false);
            return;
        }
        const std::string full = path(name);
        const Entry entry = checked(full, type, sizeof(T));
        v.resize(entry.count);
        get(full, entry, v.data());
    }
    // Restore: the entry under `path`, checked to hold elements of `type` and `element_size`.
    Entry checked(const std::string& path, std::string_view type, std::size_t element_size);

    std::vector<std::string> prefix_;
};

// State kept in memory, in the order it was saved: for comparing two models' states (a test's
// "restored equals uninterrupted") and for handing a state from one model to another in-process.
class MemoryArchive final : public Archive {
public:
    MemoryArchive() = default;
    // Restoring from what `saved` holds.
    static MemoryArchive reading(const MemoryArchive& saved);

    bool saving() const override { return saving_; }
    const std::vector<std::string>& paths() const { return order_; }
    // "" when both hold the same entries with the same bytes; otherwise the first difference,
    // e.g. "venture_capital/recent_returns: element 3 differs (1.25e+07 vs 1.2499e+07)".
    static std::string first_difference(const MemoryArchive& a, const MemoryArchive& b);

protected:
    void put(const std::string& path, const Entry& entry, const void* data) override;
    Entry find(const std::string& path) override;
    void get(const std::string& path, const Entry& entry, void* data) override;

private:
    struct Stored {
        Entry entry;
        std::vector<std::byte> bytes;
    };
    bool saving_ = true;
    std::map<std::string, Stored> entries_;
    std::vector<std::string> order_;
};

// Fails the build when TYPE's size changes, so that a member added to a mechanism or to the shared
// state is either saved by its checkpoint() or confirmed to be a parameter rebuilt from the
// scenario; then BYTES is updated (the compiler's message shows the new size as the template's
// second argument). Sizes are those of x86-64 with libstdc++ (Debian 12, CI); elsewhere the check
// is off.
template <class T, std::size_t Actual, std::size_t Recorded>
struct StateLayout {
    static_assert(Actual == Recorded,
                  "this type gained or lost a member: save it in the type's checkpoint() (or confirm that it is "
                  "a parameter rebuilt from the scenario), then record the new size (the second number in "
                  "StateLayout<type, new size, recorded size>) in CITYSIM_CHECKPOINTED");
    static constexpr bool checked = true;
};
#if defined(__x86_64__) && defined(__GLIBCXX__)
#define CITYSIM_CHECKPOINTED(TYPE, BYTES) \
    static_assert(::citysim::checkpoint::StateLayout<TYPE, sizeof(TYPE), BYTES>::checked)
#else
#define CITYSIM_CHECKPOINTED(TYPE, BYTES) static_assert(true)
#endif

}  // namespace citysim::checkpoint
