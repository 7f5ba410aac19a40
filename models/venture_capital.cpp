#include "models/venture_capital.hpp"

#include "engine/checkpoint/archive.hpp"
#include "models/streams.hpp"

#include <algorithm>
#include <cmath>

namespace citysim::models {

namespace sc = citysim::scenario;

const sc::Record<VentureCapitalParams>& venture_capital_schema() {
    static const auto schema = [] {
        using P = VentureCapitalParams;
        sc::Record<P> r("Venture funds investing in start-ups");
        r.boolean("enabled", &P::enabled, "let funds invest (start-ups then live on their founders' money)", true);
        r.real("deal_rate", &P::deal_rate, "1/year",
               "rate at which one fund at weight 1 funds a start-up with a full signal", 1.5, sc::Range::closed(0, 1000));
        r.real("seed_round", &P::seed_round, "CNY", "size of a start-up's first round, per firm", 2.0e6,
               sc::Range::above(0).and_at_most(1e11));
        r.real("round_growth", &P::round_growth, "1", "each round is this many times the previous one", 3.0,
               sc::Range::closed(1, 100));
        r.real("largest_round", &P::largest_round, "CNY", "cap on a round's size, per firm (late-stage rounds)",
               5.0e8, sc::Range::above(0).and_at_most(1e12));
        r.real("progress_per_round", &P::progress_per_round, "progress",
               "product progress investors expect per round already raised", 1.0, sc::Range::closed(0, 100));
        r.real("signal_width", &P::signal_width, "progress",
               "width of the logistic in which investors tell progress from the expected", 0.3,
               sc::Range::closed(1e-3, 100));
        r.real("seek_runway_months", &P::seek_runway_months, "months",
               "a start-up seeks its next round when its cash covers fewer months of burn", 6.0,
               sc::Range::closed(0, 120));
        r.real("within_city_hours", &P::within_city_hours, "h",
               "travel time of a meeting inside one city (about 10 miles); the distance scale of the decay", 0.3,
               sc::Range::closed(0.01, 10));
        r.real("distance_elasticity", &P::distance_elasticity, "1",
               "elasticity of a fund's investment rate to travel time beyond within_city_hours", 0.45,
               sc::Range::closed(0, 10));
        r.real("home_bias", &P::home_bias, "1", "extra weight of start-ups in the fund's own city", 1.3,
               sc::Range::closed(0, 100));
        r.real("capital_mobility", &P::capital_mobility, "1",
               "share of newly raised capital that goes where recent returns were, not to its home city", 0.2,
               sc::Range::unit_interval());
        return r;
    }();
    return schema;
}

const sc::Record<VentureCapitalCityParams>& venture_capital_city_schema() {
    static const auto schema = [] {
        using P = VentureCapitalCityParams;
        sc::Record<P> r("Venture funds based in the city");
        r.real("capital", &P::capital, "CNY", "dry powder of the city's funds at the start", 0.0,
               sc::Range::closed(0, 1e14));
        r.integer("funds", &P::funds, "funds", "number of funds based here (their capital is split evenly)", 0,
                  sc::Range::closed(0, 100000));
        r.real("raised_per_year", &P::raised_per_year, "CNY/year", "new capital the city's funds raise each year", 0.0,
               sc::Range::closed(0, 1e14));
        return r;
    }();
    return schema;
}

VentureCapital::VentureCapital(const VentureCapitalParams& params, std::vector<VentureCapitalCityParams> cities,
                               CityState& state)
    : params_(params), cities_(std::move(cities)), recent_returns_(cities_.size(), 0.0) {
    auto& eco = state.ecosystem;
    weights_.resize(state.cities() * state.cities());
    for (std::size_t h = 0; h < state.cities(); ++h)
        for (std::size_t c = 0; c < state.cities(); ++c) weights_[h * state.cities() + c] = distance_weight(params_, h, c, state);
    for (std::size_t c = 0; c < cities_.size(); ++c) {
        const auto n = params_.enabled ? cities_[c].funds : 0;
        eco.fund_count[c] = n;
        for (std::int64_t j = 0; j < n; ++j) {
            eco.funds.home_city.push_back(static_cast<CityIndex>(c));
            eco.funds.dry_powder.push_back(cities_[c].capital / static_cast<double>(n));
        }
    }
    update_reach(state);
}

void VentureCapital::retune(const VentureCapitalParams& params, std::vector<VentureCapitalCityParams> cities,
                            CityState& state) {
    const bool enabled = params_.enabled;
    params_ = params;
    params_.enabled = enabled;
    cities_ = std::move(cities);
    for (std::size_t h = 0; h < state.cities(); ++h)
        for (std::size_t c = 0; c < state.cities(); ++c) weights_[h * state.cities() + c] = distance_weight(params_, h, c, state);
    update_reach(state);
}

double VentureCapital::weight(std::size_t home, std::size_t city, const CityState& state) const {
    return weights_[home * state.cities() + city];
}

double VentureCapital::distance_weight(const VentureCapitalParams& params, std::size_t home, std::size_t city,
                                       const CityState& state) {
    const double hours = home == city ? 0.0 : state.travel_hours[home * state.cities() + city];
    const double bias = home == city ? params.home_bias : 1.0;
    return bias * std::pow(std::max(hours, params.within_city_hours) / params.within_city_hours,
                           -params.distance_elasticity);
}

double VentureCapital::round_amount(std::uint8_t rounds) const {
    return std::min(params_.largest_round,
                    params_.seed_round * std::pow(params_.round_growth, static_cast<double>(rounds)));
}

double VentureCapital::round_total(const CityState& state, std::uint32_t firm_row) const {
    const auto& firms = state.ecosystem.firms;
    return round_amount(firms.table.column(firms.rounds)[firm_row]) * firms.table.column(firms.represents)[firm_row];
}

double VentureCapital::lead_weight_sum(const CityState& state, std::size_t city, double total) const {
    const auto& funds = state.ecosystem.funds;
    double sum = 0.0;
    for (std::size_t j = 0; j < funds.size(); ++j)
        if (funds.dry_powder[j] >= total) sum += weight(funds.home_city[j], city, state);
    return sum;
}

void VentureCapital::begin_rounds(const CityState& state) const {
    dry_powder_at_start_ = state.ecosystem.funds.dry_powder;
    for (const auto j : changed_funds_) fund_changed_[j] = 0;
    changed_funds_.clear();
    fund_changed_.resize(dry_powder_at_start_.size(), 0);
}

bool VentureCapital::seek_round(CityState& state, std::uint32_t firm_row, const engine::StreamKey& streams,
                                double years_per_step, const double* lead_sum) const {
    auto& eco = state.ecosystem;
    auto& firms = eco.firms;
    const std::size_t c = firms.table.column(firms.city)[firm_row];
    const std::size_t f = firms.table.column(firms.field)[firm_row];
    eco.funding_seekers[c] += firms.table.column(firms.represents)[firm_row];
    if (!params_.enabled || eco.funds.size() == 0) return false;
    const auto rounds = firms.table.column(firms.rounds)[firm_row];
    if (rounds == 255) return false;
    const double amount = round_amount(rounds);
    const double total = amount * firms.table.column(firms.represents)[firm_row];
    const double progress = firms.table.column(firms.progress)[firm_row];
    const double signal = 1.0 / (1.0 + std::exp(-(progress - rounds * params_.progress_per_round) / params_.signal_width));

    // The funds that can lead the round, weighted; summed once for the deal probability and once
    // more, in the same order, to find the lead fund (the first whose running sum passes the draw).
    auto can_lead = [&](std::size_t j) { return eco.funds.dry_powder[j] >= total; };
    // A sum worked out ahead holds if no fund that could lead then cannot now, or the reverse.
    bool ahead = lead_sum != nullptr && dry_powder_at_start_.size() == eco.funds.size();
    for (std::size_t k = 0; ahead && k < changed_funds_.size(); ++k) {
        const std::size_t j = changed_funds_[k];
        ahead = (dry_powder_at_start_[j] >= total) == can_lead(j);
    }
    const double sum = ahead ? *lead_sum : lead_weight_sum(state, c, total);
    if (sum <= 0.0) return false;
    const auto w = engine::random_words(streams, firms.table.ids()[firm_row], streams::funding_round);
    const double p = 1.0 - std::exp(-params_.deal_rate * years_per_step * signal * sum);
    if (engine::uniform_open(w[0]) >= p) return false;
    const double target = engine::uniform_open(w[1]) * sum;
    std::size_t j = 0, last_leader = 0;
    for (double running = 0.0; j < eco.funds.size(); ++j) {
        if (!can_lead(j)) continue;
        last_leader = j;
        running += weight(eco.funds.home_city[j], c, state);
        if (running > target) break;
    }
    if (j == eco.funds.size()) j = last_leader;  // rounding: the draw reached the very top
    const std::size_t home = eco.funds.home_city[j];

    eco.funds.dry_powder[j] -= total;
    note_change(j);
    eco.vc_portfolio[home] += total;
    eco.vc_dry_powder[home] -= total;
    eco.fund_invested[home] += total;
    eco.vc_invested[state.city_field(c, f)] += total;
    auto last = firms.table.column(firms.last_investment);
    eco.investments.fund.push_back(static_cast<std::uint32_t>(j));
    eco.investments.firm.push_back(firm_row);
    eco.investments.amount.push_back(total);
    eco.investments.previous.push_back(last[firm_row]);
    last[firm_row] = static_cast<std::int64_t>(eco.investments.size() - 1);
    firms.table.column(firms.cash)[firm_row] += amount;
    firms.table.column(firms.raised)[firm_row] += amount;
    ++firms.table.column(firms.rounds)[firm_row];
    eco.events.add(static_cast<std::int64_t>(firms.table.ids()[firm_row]), streams.step, static_cast<std::int64_t>(c),
                   static_cast<std::int64_t>(f), FirmEvent::funded, total, static_cast<std::int64_t>(home));
    return true;
}

void VentureCapital::write_off(CityState& state, std::uint32_t firm_row) const {
    auto& eco = state.ecosystem;
    auto& firms = eco.firms;
    const std::size_t cf = state.city_field(firms.table.column(firms.city)[firm_row], firms.table.column(firms.field)[firm_row]);
    for (auto k = firms.table.column(firms.last_investment)[firm_row]; k != no_investment; k = eco.investments.previous[k]) {
        const double cost = eco.investments.amount[k];
        const std::size_t home = eco.funds.home_city[eco.investments.fund[k]];
        eco.vc_portfolio[home] -= cost;
        eco.fund_written_off[home] += cost;
        eco.vc_written_off[cf] += cost;
    }
}

void VentureCapital::pay_out(CityState& state, std::uint32_t firm_row, double investor_proceeds) const {
    auto& eco = state.ecosystem;
    auto& firms = eco.firms;
    const std::size_t cf = state.city_field(firms.table.column(firms.city)[firm_row], firms.table.column(firms.field)[firm_row]);
    double invested = 0.0;
    for (auto k = firms.table.column(firms.last_investment)[firm_row]; k != no_investment; k = eco.investments.previous[k])
        invested += eco.investments.amount[k];
    if (invested <= 0.0) return;
    for (auto k = firms.table.column(firms.last_investment)[firm_row]; k != no_investment; k = eco.investments.previous[k]) {
        const double cost = eco.investments.amount[k];
        const double proceeds = investor_proceeds * cost / invested;
        const std::size_t fund = eco.investments.fund[k];
        const std::size_t home = eco.funds.home_city[fund];
        eco.funds.dry_powder[fund] += proceeds;
        note_change(fund);
        eco.vc_dry_powder[home] += proceeds;
        eco.vc_portfolio[home] -= cost;
        eco.fund_exited_cost[home] += cost;
        eco.fund_returned[home] += proceeds;
        eco.vc_returned[cf] += proceeds;
    }
}

void VentureCapital::split_investments(CityState& state, std::uint32_t from_row, std::uint32_t to_row, double share) const {
    auto& eco = state.ecosystem;
    auto& inv = eco.investments;
    auto last = eco.firms.table.column(eco.firms.last_investment);
    std::vector<std::int64_t> chain;  // newest first
    for (auto k = last[from_row]; k != no_investment; k = inv.previous[k]) chain.push_back(k);
    last[to_row] = no_investment;
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
        const auto k = static_cast<std::size_t>(*it);
        const double moved = inv.amount[k] * share;
        inv.amount[k] -= moved;
        inv.fund.push_back(inv.fund[k]);
        inv.firm.push_back(to_row);
        inv.amount.push_back(moved);
        inv.previous.push_back(last[to_row]);
        last[to_row] = static_cast<std::int64_t>(inv.size() - 1);
    }
}

void VentureCapital::end_step(CityState& state, double years_per_step) {
    auto& eco = state.ecosystem;
    const std::size_t cities = state.cities();
    if (params_.enabled && eco.funds.size() > 0) {
        // A tax incentive on returns (policy.hpp): the city rebates a share of what its funds were paid.
        std::vector<double> rebate(cities, 0.0);
        const auto& levers = state.policy;
        for (std::size_t c = 0; c < levers.vc_return_rebate.size(); ++c) {
            if (levers.vc_return_rebate[c] <= 0.0 || eco.fund_count[c] == 0) continue;
            const double demand = levers.vc_return_rebate[c] * eco.fund_returned[c];
            rebate[c] = std::min(demand, levers.vc_rebate_budget[c]);
            state.policy.charge(c, PolicyInstrument::vc_tax_incentive, rebate[c], demand > 0.0 ? rebate[c] / demand : 1.0);
        }
        const double decay = std::exp(-years_per_step);
        double returns_total = 0.0;
        for (std::size_t c = 0; c < cities; ++c) {
            recent_returns_[c] =
                recent_returns_[c] * decay + (eco.fund_returned[c] + rebate[c]) * (1.0 - decay) / years_per_step;
            if (eco.fund_count[c] > 0) returns_total += recent_returns_[c];
        }
        std::vector<double> received(cities, 0.0);
        for (std::size_t c = 0; c < cities; ++c) {
            const double raised = cities_[c].raised_per_year * years_per_step;
            if (raised <= 0.0) continue;
            const double mobile = returns_total > 0.0 ? params_.capital_mobility * raised : 0.0;
            received[c] += raised - mobile;
            for (std::size_t d = 0; d < cities; ++d)
                if (eco.fund_count[d] > 0 && returns_total > 0.0) received[d] += mobile * recent_returns_[d] / returns_total;
        }
        for (std::size_t c = 0; c < cities; ++c) received[c] += rebate[c];
        // Capital raised for a city without funds stays with the nearest funds: it is not lost.
        for (std::size_t c = 0; c < cities; ++c) {
            if (received[c] <= 0.0 || eco.fund_count[c] > 0) continue;
            std::size_t best = cities;
            double best_weight = -1.0;
            for (std::size_t d = 0; d < cities; ++d)
                if (eco.fund_count[d] > 0 && weight(d, c, state) > best_weight) best = d, best_weight = weight(d, c, state);
            if (best < cities) received[best] += received[c];
            received[c] = 0.0;
        }
        for (std::size_t j = 0; j < eco.funds.size(); ++j) {
            const std::size_t home = eco.funds.home_city[j];
            eco.funds.dry_powder[j] += received[home] / static_cast<double>(eco.fund_count[home]);
        }
        for (std::size_t c = 0; c < cities; ++c) eco.vc_raised[c] = received[c];
    }
    update_reach(state);
}

void VentureCapital::update_reach(CityState& state) const {
    auto& eco = state.ecosystem;
    const std::size_t cities = state.cities();
    std::fill(eco.vc_dry_powder.begin(), eco.vc_dry_powder.end(), 0.0);
    for (std::size_t j = 0; j < eco.funds.size(); ++j) eco.vc_dry_powder[eco.funds.home_city[j]] += eco.funds.dry_powder[j];
    for (std::size_t c = 0; c < cities; ++c) {
        double reach = 0.0;
        for (std::size_t h = 0; h < cities; ++h)
            if (eco.vc_dry_powder[h] > 0.0) reach += eco.vc_dry_powder[h] * weight(h, c, state);
        eco.capital_access[c] = reach / std::max(1.0, state.talent_persons_in(c));
    }
}

// Checkpoints: the recent returns that steer mobile capital (distance weights follow the parameters;
// begin_rounds()'s marks are set again before every step's rounds). A member added to
// VentureCapital stops the build here until it is saved below.
CITYSIM_CHECKPOINTED(VentureCapital, 240);
void VentureCapital::save_or_restore(checkpoint::Archive& archive) {
    auto scope = archive.section("venture_capital");
    archive.values("recent_returns", recent_returns_);
}

}  // namespace citysim::models
