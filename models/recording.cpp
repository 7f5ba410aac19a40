#include "models/recording.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace citysim::models {

namespace {
const char* const counts_note = "agents; persons = value x the root attribute persons_per_agent";
// Firm counts are firms, not firm agents: a start-up agent stands for persons_per_agent firms, one
// that broke through for one.
const char* const firms_note = "firms (not agents: each start-up agent counts the firms it stands for)";
}

const std::vector<OutputVariable>& output_variables() {
    using output::DType;
    static const std::vector<OutputVariable> variables = {
        {"talent", {"time", "city", "field"}, DType::Int64, "1", "talent living in the city at the end of the step",
         counts_note},
        {"arrivals", {"time", "city", "field"}, DType::Int64, "1", "talent that moved into the city during the step",
         counts_note},
        {"departures", {"time", "city", "field"}, DType::Int64, "1", "talent that moved out of the city during the step",
         counts_note},
        {"entries", {"time", "city", "field"}, DType::Int64, "1", "new talent entering the pool in the city during the step",
         counts_note},
        {"exits", {"time", "city", "field"}, DType::Int64, "1", "talent leaving the pool from the city during the step",
         counts_note},
        {"wage", {"time", "city", "field"}, DType::Float64, "CNY/year", "annual wage of a skill-1 worker",
         "set by the labour market at the start of the step"},
        {"mean_wage", {"time", "city", "field"}, DType::Float64, "CNY/year",
         "mean annual wage of the talent in the city and field",
         "wage x mean skill of the talent there during the step (after moves, before exits and entries); NaN where "
         "there is none"},
        {"rent", {"time", "city"}, DType::Float64, "CNY/m2/month", "average residential rent", ""},
        {"home_price", {"time", "city"}, DType::Float64, "CNY/m2", "average home price", ""},
        {"housing_stock", {"time", "city"}, DType::Float64, "m2", "residential floor space", ""},
        {"residents", {"time", "city"}, DType::Float64, "persons", "resident population, talent included",
         "residents_per_worker x (talent persons + local_service_workers) + other_residents; talent persons = talent x "
         "persons_per_agent"},
        {"local_service_workers", {"time", "city"}, DType::Float64, "persons",
         "workers in local services (the jobs skilled jobs create)", "households.hpp; their households count in residents"},
        {"other_residents", {"time", "city"}, DType::Float64, "persons",
         "residents who are neither talent nor local-service workers nor their households",
         "they answer to the city's rent (households.hpp)"},
        {"price_to_rent", {"time", "city"}, DType::Float64, "years", "home price over a year's rent",
         "home_price / (12 x rent); follows expected rent growth and credit conditions (housing.hpp)"},
        {"expected_rent_growth", {"time", "city"}, DType::Float64, "1/year",
         "rent growth that buyers expect (adaptive, from the growth observed)", "housing.hpp"},
        {"migration", {"time", "origin", "destination"}, DType::Int64, "1",
         "talent that moved from origin to destination during the step", counts_note},
        {"founders", {"time", "city", "field"}, DType::Int64, "1", "talent running a start-up they founded",
         counts_note},
        {"startups", {"time", "city", "field"}, DType::Float64, "1", "start-ups alive at the end of the step",
         firms_note},
        {"births", {"time", "city", "field"}, DType::Float64, "1", "start-ups founded during the step",
         firms_note + std::string("; counted where the start-up is founded")},
        {"refoundings", {"time", "city", "field"}, DType::Float64, "1",
         "start-ups founded during the step by someone whose earlier start-up failed", firms_note + std::string("; part of births")},
        {"failures", {"time", "city", "field"}, DType::Float64, "1", "start-ups that failed during the step",
         firms_note + std::string("; cash ran out, the founder gave up, or no team was left")},
        {"acquisitions", {"time", "city", "field"}, DType::Float64, "1", "start-ups acquired during the step", firms_note},
        {"listings", {"time", "city", "field"}, DType::Float64, "1", "start-ups listed during the step", firms_note},
        {"breakthroughs", {"time", "city", "field"}, DType::Int64, "1", "start-ups that made a breakthrough during the step",
         "firms (not agents): one per breakthrough, each a firm agent of its own (firms.hpp); at most one per firm"},
        {"graduates", {"time", "city", "field"}, DType::Int64, "1",
         "university graduates who joined the talent pool during the step", counts_note + std::string("; part of entries")},
        {"employment", {"time", "city", "field", "employer"}, DType::Int64, "1",
         "talent by employer type at the end of the step", counts_note + std::string("; founders count as startup")},
        {"vc_invested", {"time", "city", "field"}, DType::Float64, "CNY",
         "venture capital invested in the city's start-ups during the step", "by the start-up's city and field"},
        {"vc_returned", {"time", "city", "field"}, DType::Float64, "CNY",
         "proceeds paid to investors by the city's start-ups that exited during the step", ""},
        {"vc_written_off", {"time", "city", "field"}, DType::Float64, "CNY",
         "investment written off in the city's start-ups that failed during the step", "at cost"},
        {"vc_raised", {"time", "city"}, DType::Float64, "CNY", "new capital raised by the city's funds during the step",
         "by fund home city, after capital mobility"},
        {"vc_fund_invested", {"time", "city"}, DType::Float64, "CNY", "capital the city's funds invested during the step",
         "by fund home city"},
        {"vc_fund_returned", {"time", "city"}, DType::Float64, "CNY", "exit proceeds paid to the city's funds during the step",
         "by fund home city"},
        {"vc_fund_written_off", {"time", "city"}, DType::Float64, "CNY",
         "cost of the city's funds' investments in start-ups that failed during the step", "by fund home city"},
        {"vc_fund_exited_cost", {"time", "city"}, DType::Float64, "CNY",
         "cost of the city's funds' investments in start-ups that exited during the step", "by fund home city"},
        {"vc_dry_powder", {"time", "city"}, DType::Float64, "CNY", "capital of the city's funds not yet invested",
         "dry_powder = previous + raised - fund_invested + fund_returned"},
        {"vc_portfolio", {"time", "city"}, DType::Float64, "CNY", "cost of the investments the city's funds still hold",
         "portfolio = previous + fund_invested - fund_written_off - fund_exited_cost"},
        {"funding_seekers", {"time", "city"}, DType::Float64, "1", "start-ups that sought a round during the step",
         firms_note + std::string(", by the start-up's city")},
        {"capital_access", {"time", "city"}, DType::Float64, "CNY/person",
         "venture capital within reach of the city per talent person", "distance-weighted dry powder of all funds"},
        {"fiscal_cost", {"time", "city", "instrument"}, DType::Float64, "CNY",
         "what the city's policies paid during the step, by instrument",
         "subsidies, bonuses, grants, rebates, public housing and land discounts (docs/model.md, Policy); 0 without policies"},
        {"policy_payout_share", {"time", "city", "instrument"}, DType::Float64, "1",
         "share of the full support each instrument paid during the step",
         "below 1 when a budget cap bound (budget_per_year); 1 when not binding or not in force"},
        {"vc_funds", {"city"}, DType::Int64, "1", "venture funds based in the city", "static"},
        {"failure_tolerance", {"city"}, DType::Float64, "1", "the city's tolerance of failure (0..1)", "static"},
        {"basic_research_share", {"city"}, DType::Float64, "1", "basic research as a share of the city's R&D",
         "static; 0 when universities are off"},
        {"amenity", {"city"}, DType::Float64, "1", "amenity of the city in the migration utility",
         "static; calibrated at the start when mechanisms.migration.calibrate_amenities is on, else as given"},
        {"travel_hours", {"origin", "destination"}, DType::Float64, "h",
         "shortest travel time between the cities over the network",
         "static; units are the UDUNITS symbol h (hour), which xarray leaves as numbers rather than timedeltas"},
    };
    return variables;
}

const std::vector<OutputTable>& output_tables() {
    using output::DType;
    static const std::vector<OutputTable> tables = [] {
        std::string codes;
        for (std::size_t k = 0; k < firm_event_names().size(); ++k)
            codes += (k ? ", " : "") + std::to_string(k) + " " + firm_event_names()[k];
        std::string statuses;
        for (std::size_t k = 0; k < firm_status_names().size(); ++k)
            statuses += (k ? ", " : "") + std::to_string(k) + " " + firm_status_names()[k];
        const std::vector<std::string> e = {"event"}, f = {"firm"};
        return std::vector<OutputTable>{
            {"event", "events", "firm event, in order of occurrence",
             {{"event_firm", e, DType::Int64, "1", "id of the firm (firm_id in the firm table)", ""},
              {"event_step", e, DType::Int64, "1", "step of the event", "the time coordinate of the step's record"},
              {"event_city", e, DType::Int64, "1", "city of the firm", "index into the city axis"},
              {"event_field", e, DType::Int64, "1", "field of the firm", "index into the field axis"},
              {"event_kind", e, DType::Int64, "1", "what happened", codes},
              {"event_amount", e, DType::Float64, "CNY", "money involved, all represented firms together",
               "founded: founders' own funds; funded: the round; failed: capital raised (lost); acquired, listed: exit "
               "value; breakthrough: capital raised so far; expanded: persons of the project (not CNY)"},
              {"event_counterpart_city", e, DType::Int64, "1", "the other city involved, or -1",
               "founded: where the founder lived; funded: the fund's home city; expanded: the incumbent's home city"}}},
            {"firm", "firms", "firm, in order of creation",
             {{"firm_id", f, DType::Int64, "1", "id of the firm", ""},
              {"firm_kind", f, DType::Int64, "1", "kind of firm", "0 start-up, 1 incumbent establishment"},
              {"firm_status", f, DType::Int64, "1", "status at the end of the run", statuses},
              {"firm_city", f, DType::Int64, "1", "city of the firm", "index into the city axis"},
              {"firm_field", f, DType::Int64, "1", "field of the firm", "index into the field axis"},
              {"firm_origin_city", f, DType::Int64, "1", "where the founder lived when founding",
               "index into the city axis; incumbents: home city"},
              {"firm_founder", f, DType::Int64, "1", "talent id of the founder",
               "the same id for every start-up a serial founder founded; -1 for incumbent establishments"},
              {"firm_birth_step", f, DType::Int64, "1", "step the firm was founded", "0 for incumbents at the start"},
              {"firm_end_step", f, DType::Int64, "1", "step the firm failed or exited", "-1 while alive"},
              {"firm_team", f, DType::Int64, "1", "team at the end of the run (or when it ended)",
               "talent agents; persons per firm for start-ups, x persons_per_agent persons for incumbents; a start-up "
               "that split off at a breakthrough shows the team it shares with the firm it split from"},
              {"firm_peak_team", f, DType::Int64, "1", "largest team it had", "as firm_team"},
              {"firm_raised", f, DType::Float64, "CNY", "venture capital raised, per firm", ""},
              {"firm_rounds", f, DType::Int64, "1", "funding rounds raised", ""},
              {"firm_breakthroughs", f, DType::Int64, "1", "breakthroughs made (0 or 1)",
               "a start-up firm that breaks through splits off as a row of its own (firm_split_from)"},
              {"firm_split_from", f, DType::Int64, "1", "id of the start-up this one split off from at its breakthrough",
               "-1 for every other firm; the two share their team (firms.hpp)"},
              {"firm_represents", f, DType::Float64, "1", "identical firms this row stands for",
               "persons_per_agent for start-ups, 1 for incumbent establishments"}}}};
    }();
    return tables;
}

std::vector<output::LabelledAxis> output_axes(const CityState& state) {
    using output::LabelledAxis;
    return {LabelledAxis::of("city", "city", state.city_names),
            LabelledAxis::of("field", "field of skilled work", state.field_names),
            LabelledAxis::of("origin", "city moved from", state.city_names),
            LabelledAxis::of("destination", "city moved to", state.city_names),
            LabelledAxis::of("employer", "type of employer", employer_labels()),
            LabelledAxis::of("instrument", "policy instrument", policy_instrument_names())};
}

StateRecorder::StateRecorder(output::Recorder& recorder, const std::vector<std::string>& selected)
    : recorder_(recorder), selected_(selected) {}

std::vector<output::VariableSpec> StateRecorder::variable_specs(const std::vector<std::string>& selected) {
    std::vector<output::VariableSpec> specs;
    for (const auto& v : output_variables())
        if (selected.empty() || std::find(selected.begin(), selected.end(), v.name) != selected.end())
            specs.push_back({v.name, v.dims, v.dtype, v.units, v.long_name, v.description, ""});
    return specs;
}

std::vector<output::TableSpec> StateRecorder::table_specs(const std::vector<std::string>& selected) {
    std::vector<output::TableSpec> specs;
    for (const auto& t : output_tables()) {
        if (!selected.empty() && std::find(selected.begin(), selected.end(), t.selector) == selected.end()) continue;
        output::TableSpec spec{t.name, t.long_name, {}};
        for (const auto& c : t.columns) spec.columns.push_back({c.name, c.dims, c.dtype, c.units, c.long_name, c.description, ""});
        specs.push_back(std::move(spec));
    }
    return specs;
}

void StateRecorder::write_events(const CityState& state) {
    if (!wanted("events")) return;
    const auto& ev = state.ecosystem.events;
    using CV = output::Recorder::ColumnValues;
    const std::vector<CV> columns = {
        {"event_firm", std::span<const std::int64_t>(ev.firm)}, {"event_step", std::span<const std::int64_t>(ev.step)},
        {"event_city", std::span<const std::int64_t>(ev.city)}, {"event_field", std::span<const std::int64_t>(ev.field)},
        {"event_kind", std::span<const std::int64_t>(ev.event)}, {"event_amount", std::span<const double>(ev.amount)},
        {"event_counterpart_city", std::span<const std::int64_t>(ev.counterpart_city)}};
    recorder_.append_rows("event", columns);
}

void StateRecorder::write_firms(const CityState& state) {
    if (!wanted("firms")) return;
    const auto& firms = state.ecosystem.firms;
    const auto& t = firms.table;
    const std::size_t n = t.size();
    // In slices of the recorder's table buffer: the columns are converted to int64 and float64 a
    // slice at a time, never as whole copies of the firm table.
    const std::size_t slice = output::kTableBufferRows;
    std::vector<std::int64_t> id, kind, status, city, field, origin, founder, birth, end, team, peak, rounds, breakthroughs,
        split_from;
    std::vector<double> raised, represents;
    const auto team_row = t.column(firms.team_row);
    const auto team_column = t.column(firms.team);
    const auto peak_column = t.column(firms.peak_team);
    for (std::size_t first = 0; first < n || first == 0; first += slice) {
        const std::size_t last = std::min(n, first + slice), rows = last - first;
        auto ints = [&](std::vector<std::int64_t>& v, auto handle) {
            v.resize(rows);
            const auto col = t.column(handle);
            for (std::size_t r = 0; r < rows; ++r) v[r] = static_cast<std::int64_t>(col[first + r]);
        };
        auto reals = [&](std::vector<double>& v, auto handle) {
            v.resize(rows);
            const auto col = t.column(handle);
            for (std::size_t r = 0; r < rows; ++r) v[r] = static_cast<double>(col[first + r]);
        };
        id.assign(t.ids().begin() + static_cast<std::ptrdiff_t>(first), t.ids().begin() + static_cast<std::ptrdiff_t>(last));
        ints(kind, firms.kind);
        ints(status, firms.status);
        ints(end, firms.end_step);
        founder.assign(rows, -1);
        for (std::size_t r = 0; r < rows; ++r) {
            if (kind[r] == static_cast<std::int64_t>(FirmKind::startup))
                founder[r] = static_cast<std::int64_t>(t.column(firms.founder)[first + r]);
            if (status[r] == static_cast<std::int64_t>(FirmStatus::alive)) end[r] = -1;
        }
        ints(city, firms.city);
        ints(field, firms.field);
        ints(origin, firms.origin_city);
        ints(birth, firms.birth_step);
        ints(team, firms.team);
        ints(peak, firms.peak_team);
        ints(rounds, firms.rounds);
        ints(breakthroughs, firms.breakthroughs);
        reals(raised, firms.raised);
        reals(represents, firms.represents);
        // A split-off firm shows the team of the row that holds it (and that row's id).
        split_from.assign(rows, -1);
        for (std::size_t r = 0; r < rows; ++r) {
            const auto holder = team_row[first + r];
            if (holder != no_firm && holder != first + r) {
                split_from[r] = static_cast<std::int64_t>(t.ids()[holder]);
                team[r] = team_column[holder];
                peak[r] = peak_column[holder];
            }
        }
        using CV = output::Recorder::ColumnValues;
        using I = std::span<const std::int64_t>;
        using D = std::span<const double>;
        const std::vector<CV> columns = {{"firm_id", I(id)},          {"firm_kind", I(kind)},
                                         {"firm_status", I(status)},  {"firm_city", I(city)},
                                         {"firm_field", I(field)},    {"firm_origin_city", I(origin)},
                                         {"firm_founder", I(founder)},
                                         {"firm_birth_step", I(birth)}, {"firm_end_step", I(end)},
                                         {"firm_team", I(team)},      {"firm_peak_team", I(peak)},
                                         {"firm_raised", D(raised)},  {"firm_rounds", I(rounds)},
                                         {"firm_breakthroughs", I(breakthroughs)}, {"firm_split_from", I(split_from)},
                                         {"firm_represents", D(represents)}};
        recorder_.append_rows("firm", columns);
        if (n == 0) break;
    }
}

bool StateRecorder::wanted(const std::string& name) const {
    return selected_.empty() || std::find(selected_.begin(), selected_.end(), name) != selected_.end();
}

void StateRecorder::write_static(const CityState& state) {
    if (wanted("travel_hours")) recorder_.write_static("travel_hours", state.travel_hours);
    if (wanted("amenity")) recorder_.write_static("amenity", state.amenity);
    if (wanted("vc_funds")) recorder_.write_static("vc_funds", state.ecosystem.fund_count);
    if (wanted("failure_tolerance")) recorder_.write_static("failure_tolerance", state.ecosystem.failure_tolerance);
    if (wanted("basic_research_share")) recorder_.write_static("basic_research_share", state.ecosystem.basic_research);
}

namespace {

// The recorder's side of put_record.
class FileSink : public RecordSink {
public:
    FileSink(output::Recorder& recorder, const std::vector<std::string>& selected)
        : recorder_(recorder), selected_(selected) {}
    bool wants(const std::string& variable) const override {
        return selected_.empty() || std::find(selected_.begin(), selected_.end(), variable) != selected_.end();
    }
    void put(const std::string& variable, std::span<const std::int64_t> values) override { recorder_.put(variable, values); }
    void put(const std::string& variable, std::span<const double> values) override { recorder_.put(variable, values); }

private:
    output::Recorder& recorder_;
    const std::vector<std::string>& selected_;
};

}  // namespace

void StateRecorder::write_record(const CityState& state, std::int64_t time) {
    recorder_.begin_record(time);
    FileSink sink(recorder_, selected_);
    put_record(state, sink);
    recorder_.end_record();
}

void put_record(const CityState& state, RecordSink& sink) {
    const auto wanted = [&](const std::string& name) { return sink.wants(name); };
    auto put_counts = [&](const char* name, const std::vector<std::int64_t>& values) {
        if (wanted(name)) sink.put(name, std::span<const std::int64_t>(values));
    };
    auto put_reals = [&](const char* name, const std::vector<double>& values) {
        if (wanted(name)) sink.put(name, std::span<const double>(values));
    };
    put_counts("talent", state.talent_count);
    put_counts("arrivals", state.arrivals);
    put_counts("departures", state.departures);
    put_counts("entries", state.entries);
    put_counts("exits", state.exits);
    put_reals("wage", state.wage);
    if (wanted("mean_wage")) {
        std::vector<double> mean_wage(state.wage.size());
        // skill_sum and skill_count cover the agents present when savings accrued.
        for (std::size_t k = 0; k < mean_wage.size(); ++k) {
            const double present = state.skill_count[k];
            mean_wage[k] = present > 0 ? state.wage[k] * state.skill_sum[k] / present
                                       : std::numeric_limits<double>::quiet_NaN();
        }
        sink.put("mean_wage", mean_wage);
    }
    put_reals("rent", state.rent);
    put_reals("home_price", state.home_price);
    put_reals("housing_stock", state.housing_stock);
    if (wanted("residents")) {
        std::vector<double> residents(state.cities());
        for (std::size_t c = 0; c < residents.size(); ++c) residents[c] = state.residents(c);
        sink.put("residents", residents);
    }
    put_reals("local_service_workers", state.local_service_workers);
    put_reals("other_residents", state.other_residents);
    if (wanted("price_to_rent")) {
        std::vector<double> multiple(state.cities());
        for (std::size_t c = 0; c < multiple.size(); ++c) multiple[c] = state.home_price[c] / (12.0 * state.rent[c]);
        sink.put("price_to_rent", multiple);
    }
    put_reals("expected_rent_growth", state.expected_rent_growth);
    put_counts("migration", state.migration);
    const auto& eco = state.ecosystem;
    put_counts("founders", eco.founders);
    put_reals("startups", eco.startups_alive);
    put_reals("births", eco.births);
    put_reals("refoundings", eco.refoundings);
    put_reals("failures", eco.failures);
    put_reals("acquisitions", eco.acquisitions);
    put_reals("listings", eco.listings);
    put_counts("breakthroughs", eco.breakthroughs);
    put_counts("graduates", eco.graduates);
    if (wanted("employment")) {
        if (eco.enabled) {
            sink.put("employment", eco.employment);
        } else {  // without the ecosystem everyone works for `other` employers
            std::vector<std::int64_t> employment(state.talent_count.size() * employer_kinds, 0);
            for (std::size_t k = 0; k < state.talent_count.size(); ++k)
                employment[k * employer_kinds + employer_axis_index(EmployerKind::other)] = state.talent_count[k];
            sink.put("employment", employment);
        }
    }
    put_reals("vc_invested", eco.vc_invested);
    put_reals("vc_returned", eco.vc_returned);
    put_reals("vc_written_off", eco.vc_written_off);
    put_reals("vc_raised", eco.vc_raised);
    put_reals("vc_fund_invested", eco.fund_invested);
    put_reals("vc_fund_returned", eco.fund_returned);
    put_reals("vc_fund_written_off", eco.fund_written_off);
    put_reals("vc_fund_exited_cost", eco.fund_exited_cost);
    put_reals("vc_dry_powder", eco.vc_dry_powder);
    put_reals("vc_portfolio", eco.vc_portfolio);
    put_reals("funding_seekers", eco.funding_seekers);
    put_reals("capital_access", eco.capital_access);
    put_reals("fiscal_cost", state.policy.fiscal_cost);
    put_reals("policy_payout_share", state.policy.payout_share);
}

}  // namespace citysim::models
