// Venture capital: funds with a home city invest in start-ups in rounds, lose what they invested in
// the ones that fail, and recycle what exits return.
//
// A start-up whose cash covers less than seek_runway_months of burn seeks its next round, of
//     amount = min(largest_round, seed_round * round_growth^rounds)          (CNY per firm)
// Fund j (home city h) can lead it if its dry powder covers the round for all the firms the agent
// stands for. The start-up raises the round during the step with probability 1 - exp(-H),
//     H = deal_rate * dt * signal * sum_j w(h_j, c),   signal = 1 / (1 + exp(-(P - rounds * progress_per_round) / signal_width))
//     w(h, c) = [h == c] * home_bias + [h != c] * 1) * (max(T[h,c], within_city_hours) / within_city_hours)^(-distance_elasticity)
// and the fund that leads it is drawn with probability w(h_j, c) / sum_j w. So the rate at which one
// fund invests in one start-up falls with travel time as a power law: with the defaults a fund
// invests in a start-up in its own city (a trip of 0.3 h, about 10 miles) about twice as often as
// in one 0.8 h away (Shanghai to Hangzhou, about 100 miles), the ratio Sorenson & Stuart (2001)
// report for 10 and 100 miles.
//
// Accounting, per fund home city (CNY), each step:
//     dry_powder' = dry_powder + raised - invested + returned
//     portfolio'  = portfolio + invested - written_off - exited_cost
// where portfolio is the cost of the investments still held, written_off the cost of those in
// start-ups that failed and exited_cost that of those that exited; returned is what exits paid.
// New capital (raised_per_year per city) is raised at home, except a share capital_mobility of it,
// which goes to the cities in proportion to what their funds were returned over the last year or
// so (an exponential average with a one-year time constant): capital follows returns. A city's
// capital is spread evenly over its funds. A tax incentive on returns (policy.hpp) rebates a share
// of the proceeds paid to a city's funds: the rebate is new money, counted in the city's raised
// capital and in its recent returns, so capital follows it.
//
// Capital within reach of city c, per talent person there (founding reads it):
//     K[c] = sum_j dry_powder_j * w(h_j, c) / (talent persons in c)
#pragma once

#include "engine/rng.hpp"
#include "engine/scenario/schema.hpp"
#include "models/city_state.hpp"

#include <vector>

namespace citysim::models {

struct VentureCapitalParams {
    bool enabled = true;
    double deal_rate = 1.5;
    double seed_round = 2.0e6;
    double round_growth = 3.0;
    double largest_round = 5.0e8;
    double progress_per_round = 1.0;
    double signal_width = 0.3;
    double seek_runway_months = 6.0;
    double within_city_hours = 0.3;
    double distance_elasticity = 0.45;
    double home_bias = 1.3;
    double capital_mobility = 0.2;
};
const scenario::Record<VentureCapitalParams>& venture_capital_schema();

struct VentureCapitalCityParams {
    double capital = 0.0;          // CNY of dry powder at the start
    std::int64_t funds = 0;
    double raised_per_year = 0.0;  // CNY/year
};
const scenario::Record<VentureCapitalCityParams>& venture_capital_city_schema();

class VentureCapital {
public:
    VentureCapital(const VentureCapitalParams& params, std::vector<VentureCapitalCityParams> cities, CityState& state);
    // Saves or restores this mechanism's own state (checkpoints, engine/checkpoint/archive.hpp).
    void save_or_restore(checkpoint::Archive& archive);
    // New parameters mid-run (schedule.hpp): deal rates, distance decay, capital raised; funds stay.
    void retune(const VentureCapitalParams& params, std::vector<VentureCapitalCityParams> cities, CityState& state);

    const VentureCapitalParams& params() const { return params_; }
    // Round a start-up with `rounds` rounds behind it would raise next (CNY per firm).
    double round_amount(std::uint8_t rounds) const;
    // The start-up in `firm_row` seeks a round this step; returns whether it raised one.
    // `lead_sum`, if given, is lead_weight_sum() for this firm worked out since begin_rounds(): it is
    // used unless a fund whose dry powder changed since then crossed the round's size (then the sum
    // is worked out again), so the result is the same either way.
    bool seek_round(CityState& state, std::uint32_t firm_row, const engine::StreamKey& streams, double years_per_step,
                    const double* lead_sum = nullptr) const;
    // The round the start-up in `firm_row` would seek (CNY, all represented firms), and the sum of
    // the weights of the funds that could lead it, as seek_round() adds them up. Reads only; safe
    // to call in parallel while nothing changes the funds.
    double round_total(const CityState& state, std::uint32_t firm_row) const;
    double lead_weight_sum(const CityState& state, std::size_t city, double total) const;
    // Marks the funds' dry powder as it is now, for seek_round()'s check of a lead_sum.
    void begin_rounds(const CityState& state) const;
    // The start-up failed: its investors write off what they put in.
    void write_off(CityState& state, std::uint32_t firm_row) const;
    // The start-up exited for `investor_proceeds` CNY (all represented firms): paid to its investors
    // pro rata to what they invested.
    void pay_out(CityState& state, std::uint32_t firm_row, double investor_proceeds) const;
    // A share of the firms of `from_row` split off as `to_row` (a breakthrough): the investors' stakes
    // split in the same proportion (new ledger rows for `to_row`, in the order of from_row's); the
    // funds' portfolios do not change.
    void split_investments(CityState& state, std::uint32_t from_row, std::uint32_t to_row, double share) const;
    // New capital, its mobility, and the stocks and reach at the end of the step.
    void end_step(CityState& state, double years_per_step);
    // Recomputes capital_access and the per-city stocks.
    void update_reach(CityState& state) const;

    // w(home, city) above (precomputed: travel times are fixed).
    double weight(std::size_t home, std::size_t city, const CityState& state) const;

private:
    VentureCapitalParams params_;
    std::vector<VentureCapitalCityParams> cities_;
    std::vector<double> recent_returns_;  // per city, CNY/year (exponential average)
    std::vector<double> weights_;         // [home * cities + city]
    // begin_rounds(): each fund's dry powder then, and the funds whose dry powder changed since.
    mutable std::vector<double> dry_powder_at_start_;
    mutable std::vector<std::uint32_t> changed_funds_;
    mutable std::vector<std::uint8_t> fund_changed_;
    void note_change(std::size_t fund) const {
        if (fund < fund_changed_.size() && !fund_changed_[fund]) {
            fund_changed_[fund] = 1;
            changed_funds_.push_back(static_cast<std::uint32_t>(fund));
        }
    }
    static double distance_weight(const VentureCapitalParams& params, std::size_t home, std::size_t city,
                                  const CityState& state);
};

}  // namespace citysim::models
