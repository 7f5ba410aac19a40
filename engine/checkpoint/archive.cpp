#include "engine/checkpoint/archive.hpp"

#include <algorithm>
#include <cstdio>

namespace citysim::checkpoint {

std::string Archive::path(std::string_view name) const {
    std::string full;
    for (const auto& p : prefix_) full += p + "/";
    return full + std::string(name);
}

Entry Archive::checked(const std::string& full, std::string_view type, std::size_t element_size) {
    Entry entry = find(full);
    if (entry.type != type || entry.element_size != element_size)
        throw CheckpointError("checkpoint entry '" + full + "' holds " + entry.type + " (" +
                              std::to_string(entry.element_size) + " bytes each), this build expects " +
                              std::string(type) + " (" + std::to_string(element_size) + " bytes each)");
    return entry;
}

void Archive::exchange(std::string_view name, std::string_view type, std::size_t element_size, void* data,
                       std::size_t count, bool fixed_count) {
    const std::string full = path(name);
    if (saving()) {
        put(full, Entry{std::string(type), element_size, count}, data);
        return;
    }
    const Entry entry = checked(full, type, element_size);
    if (fixed_count && entry.count != count)
        throw CheckpointError("checkpoint entry '" + full + "' holds " + std::to_string(entry.count) +
                              " values, this build expects " + std::to_string(count));
    get(full, entry, data);
}

void Archive::text(std::string_view name, std::string& s) {
    const std::string full = path(name);
    if (saving()) {
        put(full, Entry{"text", 1, s.size()}, s.data());
        return;
    }
    const Entry entry = checked(full, "text", 1);
    s.resize(entry.count);
    get(full, entry, s.data());
}

void Archive::texts(std::string_view name, std::vector<std::string>& v) {
    auto scope = section(name);
    std::vector<std::uint64_t> lengths;
    std::string joined;
    if (saving()) {
        for (const auto& s : v) {
            lengths.push_back(s.size());
            joined += s;
        }
    }
    values("lengths", lengths);
    text("characters", joined);
    if (saving()) return;
    std::uint64_t total = 0;
    for (auto n : lengths) total += n;
    if (total != joined.size())
        throw CheckpointError("checkpoint entry '" + path("characters") + "' holds " + std::to_string(joined.size()) +
                              " characters, its lengths add up to " + std::to_string(total));
    v.clear();
    std::size_t at = 0;
    for (auto n : lengths) {
        v.push_back(joined.substr(at, n));
        at += n;
    }
}

void Archive::table(std::string_view name, engine::AgentTable& t) {
    auto scope = section(name);
    std::vector<engine::AgentId> ids;
    engine::AgentId next_id = t.next_id();
    if (saving()) ids.assign(t.ids().begin(), t.ids().end());
    values("ids", ids);
    value("next_id", next_id);
    std::vector<std::string> names;
    for (std::size_t c = 0; c < t.column_count(); ++c) names.emplace_back(t.column_info(c).name);
    std::vector<std::string> saved_names = names;
    texts("column_names", saved_names);
    if (restoring()) {
        if (saved_names != names) {
            std::string have, want;
            for (const auto& n : saved_names) have += (have.empty() ? "" : ", ") + n;
            for (const auto& n : names) want += (want.empty() ? "" : ", ") + n;
            throw CheckpointError("checkpoint table '" + path("") + "' has the columns " + have +
                                  "; this build's table has " + want);
        }
        t.assign_rows(ids, next_id);
    }
    auto columns = section("columns");
    for (std::size_t c = 0; c < t.column_count(); ++c) {
        const auto info = t.column_info(c);
        const auto bytes = t.column_bytes(c);
        exchange(info.name, info.type, info.element_size, bytes.data(), t.size(), true);
    }
}

MemoryArchive MemoryArchive::reading(const MemoryArchive& saved) {
    MemoryArchive archive;
    archive.saving_ = false;
    archive.entries_ = saved.entries_;
    archive.order_ = saved.order_;
    return archive;
}

void MemoryArchive::put(const std::string& path, const Entry& entry, const void* data) {
    Stored stored{entry, std::vector<std::byte>(entry.count * entry.element_size)};
    if (!stored.bytes.empty()) std::memcpy(stored.bytes.data(), data, stored.bytes.size());
    if (!entries_.emplace(path, std::move(stored)).second)
        throw std::logic_error("checkpoint entry '" + path + "' saved twice");
    order_.push_back(path);
}

Entry MemoryArchive::find(const std::string& path) {
    const auto it = entries_.find(path);
    if (it == entries_.end()) throw CheckpointError("the state has no entry '" + path + "'");
    return it->second.entry;
}

void MemoryArchive::get(const std::string& path, const Entry& entry, void* data) {
    const auto& bytes = entries_.at(path).bytes;
    if (entry.count * entry.element_size != bytes.size()) throw std::logic_error("checkpoint entry '" + path + "': size");
    if (!bytes.empty()) std::memcpy(data, bytes.data(), bytes.size());
}

namespace {

std::string element_text(const Entry& entry, const std::byte* at) {
    char buf[64];
    auto as = [&](auto v) {
        std::memcpy(&v, at, sizeof v);
        return v;
    };
    if (entry.type == "f64") std::snprintf(buf, sizeof buf, "%.17g", as(double{}));
    else if (entry.type == "f32") std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(as(float{})));
    else if (entry.type == "i64") std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(as(std::int64_t{})));
    else if (entry.type == "u64") std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(as(std::uint64_t{})));
    else if (entry.type == "i32") std::snprintf(buf, sizeof buf, "%d", as(std::int32_t{}));
    else if (entry.type == "u32") std::snprintf(buf, sizeof buf, "%u", as(std::uint32_t{}));
    else if (entry.type == "u16") std::snprintf(buf, sizeof buf, "%u", static_cast<unsigned>(as(std::uint16_t{})));
    else if (entry.type == "u8" || entry.type == "bool") std::snprintf(buf, sizeof buf, "%u", static_cast<unsigned>(as(std::uint8_t{})));
    else if (entry.type == "text") std::snprintf(buf, sizeof buf, "'%c'", static_cast<char>(*at));
    else std::snprintf(buf, sizeof buf, "byte 0x%02x", static_cast<unsigned>(*at));
    return buf;
}

}  // namespace

std::string MemoryArchive::first_difference(const MemoryArchive& a, const MemoryArchive& b) {
    for (const auto& path : a.order_) {
        const auto other = b.entries_.find(path);
        if (other == b.entries_.end()) return path + ": only in the first state";
        const Stored& x = a.entries_.at(path);
        const Stored& y = other->second;
        if (x.entry.type != y.entry.type || x.entry.element_size != y.entry.element_size)
            return path + ": " + x.entry.type + " vs " + y.entry.type;
        if (x.entry.count != y.entry.count)
            return path + ": " + std::to_string(x.entry.count) + " vs " + std::to_string(y.entry.count) + " elements";
        if (x.bytes == y.bytes) continue;
        const std::size_t size = x.entry.element_size;
        for (std::size_t i = 0; i < x.entry.count; ++i)
            if (std::memcmp(x.bytes.data() + i * size, y.bytes.data() + i * size, size) != 0)
                return path + ": element " + std::to_string(i) + " of " + std::to_string(x.entry.count) + " differs (" +
                       element_text(x.entry, x.bytes.data() + i * size) + " vs " +
                       element_text(y.entry, y.bytes.data() + i * size) + ")";
    }
    for (const auto& path : b.order_)
        if (!a.entries_.count(path)) return path + ": only in the second state";
    return "";
}

}  // namespace citysim::checkpoint
