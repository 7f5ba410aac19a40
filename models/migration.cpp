#include "models/migration.hpp"

#include "engine/checkpoint/archive.hpp"
#include "engine/parallel.hpp"
#include "models/logit.hpp"
#include "models/streams.hpp"

#include <stdexcept>
#include <string>
#include <utility>

namespace citysim::models {

namespace sc = citysim::scenario;

const sc::Record<MigrationParams>& migration_schema() {
    static const auto schema = [] {
        sc::Record<MigrationParams> r("Talent reconsidering and choosing a city (logit)");
        r.boolean("enabled", &MigrationParams::enabled, "let talent move between cities", true);
        r.real("reconsider_rate", &MigrationParams::reconsider_rate, "1/year",
               "rate at which a person reconsiders where to live", 0.15, sc::Range::closed(0, 1000));
        r.real("income_weight", &MigrationParams::income_weight, "1/log(CNY)",
               "utility per log point of real income (the logit scale of the choice)", 4.0, sc::Range::closed(0, 100));
        r.real("housing_cost_share", &MigrationParams::housing_cost_share, "1",
               "weight of log rent against log wage in real income (the budget share of housing)", 0.3,
               sc::Range::unit_interval());
        r.real("moving_cost", &MigrationParams::moving_cost, "utility",
               "utility cost of any move, however short; 0 switches it off", 1.5, sc::Range::closed(0, 100));
        r.real("moving_cost_per_hour", &MigrationParams::moving_cost_per_hour, "utility/hour",
               "utility cost per hour of shortest travel time between the cities", 0.15, sc::Range::closed(0, 100));
        r.real("attachment", &MigrationParams::attachment, "utility",
               "utility of staying in the current city", 0.5, sc::Range::closed(0, 100));
        r.real("attachment_per_year", &MigrationParams::attachment_per_year, "utility/year",
               "extra utility of staying per year lived in the city", 0.1, sc::Range::closed(0, 10));
        r.real("attachment_cap_years", &MigrationParams::attachment_cap_years, "years",
               "years after which attachment stops growing", 10.0, sc::Range::closed(0, 100));
        r.boolean("calibrate_amenities", &MigrationParams::calibrate_amenities,
                  "solve for the city amenities that make the starting talent distribution a steady state "
                  "(the given amenities are the starting point; their mean is kept)",
                  false);
        return r;
    }();
    return schema;
}

MigrationChoice::MigrationChoice(const MigrationParams& params, std::vector<double> amenity,
                                 std::vector<double> cluster_preference, std::size_t cities, std::size_t fields)
    : params_(params),
      amenity_(std::move(amenity)),
      cluster_preference_(std::move(cluster_preference)),
      cities_(cities),
      fields_(fields),
      stay_weight_(cities * fields),
      move_cumulative_(cities * fields * cities) {}

double MigrationChoice::reconsider_probability(double years_per_step) const {
    return params_.enabled ? 1.0 - std::exp(-params_.reconsider_rate * years_per_step) : 0.0;
}

void MigrationChoice::prepare(const CityState& state) {
    // The destination part, exp(D[d,f] - m_f): the part of V_d that every origin shares.
    const auto quotient = location_quotients(state);
    destination_weight_.resize(fields_ * cities_);
    for (std::size_t f = 0; f < fields_; ++f) {
        const std::span weight = std::span(destination_weight_).subspan(f * cities_, cities_);
        for (std::size_t d = 0; d < cities_; ++d)
            weight[d] = params_.income_weight *
                            (std::log(state.wage[d * fields_ + f]) - params_.housing_cost_share * std::log(state.rent[d])) +
                        amenity_[d] + cluster_preference_[f] * std::log(quotient[d * fields_ + f]);
        weights_from_utilities(weight);
    }
    // The move part, exp(-moving cost) (exp(attachment) for staying), while the travel times hold
    // (the parameters cannot change without a new MigrationChoice: CityModel::retune builds one).
    if (move_weight_hours_ != state.travel_hours) {
        move_weight_.resize(cities_ * cities_);
        for (std::size_t o = 0; o < cities_; ++o)
            for (std::size_t d = 0; d < cities_; ++d)
                move_weight_[o * cities_ + d] =
                    std::exp(d == o ? params_.attachment
                                    : -(params_.moving_cost + params_.moving_cost_per_hour * state.travel_hours[o * cities_ + d]));
        move_weight_hours_ = state.travel_hours;
    }
    // Per origin, in parallel over origins (each origin's rows are worked out alone, so the result
    // does not depend on how they are shared out).
    engine::for_each_block(
        cities_,
        [&](std::size_t first, std::size_t last, std::size_t) {
            for (std::size_t o = first; o < last; ++o) {
                const double* move = move_weight_.data() + o * cities_;
                for (std::size_t f = 0; f < fields_; ++f) {
                    const double* destination = destination_weight_.data() + f * cities_;
                    const std::size_t row = o * fields_ + f;
                    double* cumulative = move_cumulative_.data() + row * cities_;
                    double running = 0.0;
                    for (std::size_t d = 0; d < cities_; ++d) {
                        if (d != o) running += destination[d] * move[d];
                        cumulative[d] = running;
                    }
                    stay_weight_[row] = destination[o] * move[o];
                }
            }
        },
        std::max<std::size_t>(1, cities_ / 64));
}

void MigrationChoice::tabulate_attachment(double years_per_step) {
    if (years_per_step == attachment_years_per_step_) return;
    // Past a million steps (a cap of decades in steps of minutes) the factor is computed instead.
    constexpr std::size_t most = std::size_t{1} << 20;
    attachment_by_steps_.clear();
    attachment_capped_ = false;
    for (std::size_t k = 0; k < most; ++k) {
        const float years = years_in_city(0, static_cast<std::int64_t>(k), years_per_step);
        attachment_by_steps_.push_back(attachment_factor(years));
        if (!(years < params_.attachment_cap_years)) {  // min(years, cap) is the cap from here on
            attachment_capped_ = true;
            break;
        }
    }
    attachment_years_per_step_ = years_per_step;
}

std::vector<double> MigrationChoice::probabilities(CityIndex origin, FieldIndex field, float years_in_city) const {
    const std::size_t row = static_cast<std::size_t>(origin) * fields_ + field;
    const double* cumulative = move_cumulative_.data() + row * cities_;
    const double stay = stay_weight_[row] * attachment_factor(years_in_city);
    const double total = stay + cumulative[cities_ - 1];
    std::vector<double> p(cities_);
    for (std::size_t d = 0; d < cities_; ++d)
        p[d] = (d == origin ? stay : cumulative[d] - (d ? cumulative[d - 1] : 0.0)) / total;
    return p;
}

Migration::Migration(const MigrationParams& params, std::vector<double> amenity, std::vector<double> cluster_preference,
                     std::size_t cities, std::size_t fields)
    : params_(params), choice_(params, std::move(amenity), std::move(cluster_preference), cities, fields) {}

std::vector<double> location_quotients(const CityState& state) {
    const std::size_t cities = state.cities(), fields = state.fields();
    const double f_count = static_cast<double>(fields);
    std::vector<double> city_total(cities, 0.0), field_total(fields, 0.0), quotient(cities * fields);
    double total = 0.0;
    for (std::size_t c = 0; c < cities; ++c)
        for (std::size_t f = 0; f < fields; ++f) {
            const auto n = static_cast<double>(state.talent_count[c * fields + f]);
            city_total[c] += n;
            field_total[f] += n;
            total += n;
        }
    for (std::size_t c = 0; c < cities; ++c)
        for (std::size_t f = 0; f < fields; ++f)
            quotient[c * fields + f] = ((static_cast<double>(state.talent_count[c * fields + f]) + 1.0) / (city_total[c] + f_count)) /
                                       ((field_total[f] + 1.0) / (total + f_count));
    return quotient;
}

CityIndex MigrationChoice::choose_with_policy(CityIndex origin, FieldIndex field, float skill, std::uint32_t arrival,
                                             std::uint32_t step, double attachment,
                                             const std::vector<PolicyLevers::TalentRule>& rules, std::uint32_t stay_word,
                                             std::uint32_t destination_word) const {
    const std::size_t row = static_cast<std::size_t>(origin) * fields_ + field;
    double stay = stay_weight_[row] * attachment;
    const double* cumulative = move_cumulative_.data() + row * cities_;
    thread_local std::vector<double> weight;
    const std::size_t cities = cities_;
    weight.resize(cities);
    for (std::size_t d = 0; d < cities; ++d) weight[d] = cumulative[d] - (d > 0 ? cumulative[d - 1] : 0.0);
    for (const auto& rule : rules) {
        if (rule.city == origin) {
            if (rule.covers(origin, field, skill, arrival, step)) stay *= std::exp(rule.stay_gain[field]);
        } else if (rule.city < cities && rule.covers(rule.city, field, skill, step, step)) {
            weight[rule.city] *= std::exp(rule.arrival_gain[field]);
        }
    }
    double move_total = 0.0;
    for (std::size_t d = 0; d < cities; ++d) move_total += weight[d];
    const double u = engine::uniform_open(stay_word) * (stay + move_total);
    if (u < stay || move_total <= 0.0) return origin;
    const double target = engine::uniform_open(destination_word) * move_total;
    double running = 0.0;
    for (std::size_t d = 0; d < cities; ++d) {
        running += weight[d];
        if (running > target && weight[d] > 0.0) return static_cast<CityIndex>(d);
    }
    for (std::size_t d = cities; d-- > 0;)
        if (weight[d] > 0.0) return static_cast<CityIndex>(d);
    return origin;
}

MigrationStepResult Migration::step(CityState& state, const engine::StreamKey& streams, double years_per_step) {
    MigrationStepResult result;
    const double reconsider = choice_.reconsider_probability(years_per_step);
    if (reconsider <= 0.0) return result;
    choice_.prepare(state);

    const std::size_t cities = state.cities(), fields = state.fields();
    auto& table = state.talent.table;
    const auto ids = table.ids();
    auto city = table.column(state.talent.city);
    const auto field = std::as_const(table).column(state.talent.field);
    auto arrival = table.column(state.talent.arrival_step);
    auto next = table.column(state.talent.next_reconsider_step);
    auto employer_kind = table.column(state.talent.employer_kind);
    auto employer = table.column(state.talent.employer);
    const auto skill = std::as_const(table).column(state.talent.skill);
    auto pay = table.column(state.talent.pay);
    const auto step = streams.step;
    const auto& rules = state.policy.talent;
    // Rules that sway no one (every gain 0, e.g. a subsidy slider at 0) leave every weight as it is:
    // the choice is then made as without policies, so such a run is its baseline draw for draw.
    const bool with_rules = std::any_of(rules.begin(), rules.end(), [](const auto& rule) { return rule.sways_choices(); });

    const engine::GeometricSteps reconsider_after(reconsider);
    choice_.tabulate_attachment(years_per_step);
    const MigrationChoice& choice = choice_;

    engine::for_each_block(table.size(), [&](std::size_t begin, std::size_t end, std::size_t) {
        // Plain pointers in locals: writes through the uint8 columns may alias anything, so the
        // columns reached through the captures would be reloaded from memory on every access, and
        // the scan for the agents due to reconsider (most rows, most steps) would not be a tight loop.
        const engine::StoredId* const id = ids.data();
        CityIndex* const city_of = city.data();
        const FieldIndex* const field_of = field.data();
        std::uint32_t* const arrival_at = arrival.data();
        std::uint32_t* const next_at = next.data();
        std::uint8_t* const kind_of = employer_kind.data();
        std::uint32_t* const employer_of = employer.data();
        const float* const skill_of = skill.data();
        float* const pay_of = pay.data();
        const std::uint32_t now = step;
        const engine::GeometricSteps after = reconsider_after;
        Tally& tally = tallies_.local();
        if (tally.migration.size() != cities * cities) {
            tally.arrivals.assign(cities * fields, 0);
            tally.departures.assign(cities * fields, 0);
            tally.migration.assign(cities * cities, 0);
        }
        for (std::size_t i = begin;; ++i) {
            while (i < end && next_at[i] > now) ++i;
            if (i == end) break;
            if (next_at[i] == unscheduled) {
                // First sight of this agent: schedule its first reconsideration from now on.
                const auto w = engine::random_words(streams, id[i], streams::migration_schedule);
                next_at[i] = now - 1 + after(w[0]);
                if (next_at[i] > now) continue;
            }
            const auto w = engine::random_words(streams, id[i], streams::migration_choice);
            next_at[i] = now + after(w[0]);
            if (kind_of[i] == static_cast<std::uint8_t>(EmployerKind::founder)) continue;
            ++tally.decisions;
            const CityIndex origin = city_of[i];
            const FieldIndex f = field_of[i];
            const double attachment =
                choice.attachment_after(static_cast<std::int64_t>(now) - arrival_at[i], years_per_step);
            const CityIndex destination =
                with_rules ? choice.choose_with_policy(origin, f, skill_of[i], arrival_at[i], now, attachment, rules,
                                                       w[1], w[2])
                           : choice.choose_attached(origin, f, attachment, w[1], w[2]);
            if (destination == origin) continue;
            city_of[i] = destination;
            arrival_at[i] = now;
            if (employer_of[i] != no_firm) tally.leavers.add(employer_of[i], skill_of[i], false);
            kind_of[i] = static_cast<std::uint8_t>(EmployerKind::other);
            employer_of[i] = no_firm;
            pay_of[i] = 1.0f;
            ++tally.departures[origin * fields + f];
            ++tally.arrivals[destination * fields + f];
            ++tally.migration[origin * cities + destination];
        }
    });

    for (Tally& tally : tallies_) {
        if (tally.migration.empty()) continue;  // a thread that took no block in any step so far
        tally.leavers.apply(state.ecosystem.firms);
        tally.leavers.clear();
        result.decisions += std::exchange(tally.decisions, 0);
        for (std::size_t k = 0; k < cities * fields; ++k) {
            const std::int64_t in = std::exchange(tally.arrivals[k], 0u), out = std::exchange(tally.departures[k], 0u);
            state.arrivals[k] += in;
            state.departures[k] += out;
            state.talent_count[k] += in - out;
        }
        for (std::size_t k = 0; k < cities * cities; ++k) {
            const std::int64_t moves = std::exchange(tally.migration[k], 0u);
            state.migration[k] += moves;
            result.moves += moves;
        }
    }
    return result;
}

Migration::Calibration Migration::calibrate_amenities(const CityState& state) {
    const std::size_t cities = state.cities(), fields = state.fields();
    std::vector<double> talent(cities, 0.0);
    for (std::size_t c = 0; c < cities; ++c)
        for (std::size_t f = 0; f < fields; ++f) talent[c] += static_cast<double>(state.talent_count[c * fields + f]);
    std::vector<double> amenity = choice_.amenity();
    double mean_before = 0.0;
    for (double a : amenity) mean_before += a / static_cast<double>(cities);

    Calibration result;
    constexpr int max_iterations = 10000;
    constexpr double tolerance = 1e-10;
    for (result.iterations = 1; result.iterations <= max_iterations; ++result.iterations) {
        choice_.set_amenity(amenity);
        choice_.prepare(state);
        std::vector<double> expected(cities, 0.0);
        for (std::size_t o = 0; o < cities; ++o)
            for (std::size_t f = 0; f < fields; ++f) {
                const double n = static_cast<double>(state.talent_count[o * fields + f]);
                if (n == 0.0) continue;
                const auto p = choice_.probabilities(static_cast<CityIndex>(o), static_cast<FieldIndex>(f), 0.0f);
                for (std::size_t d = 0; d < cities; ++d) expected[d] += n * p[d];
            }
        result.largest_log_gap = 0.0;
        double mean_after = 0.0;
        for (std::size_t d = 0; d < cities; ++d) {
            if (talent[d] > 0.0) {
                const double gap = std::log(talent[d] / expected[d]);
                amenity[d] += gap;
                result.largest_log_gap = std::max(result.largest_log_gap, std::abs(gap));
            }
            mean_after += amenity[d] / static_cast<double>(cities);
        }
        for (double& a : amenity) a += mean_before - mean_after;
        if (result.largest_log_gap < tolerance) break;
    }
    choice_.set_amenity(amenity);
    if (!(result.largest_log_gap < tolerance))
        throw std::runtime_error("migration.calibrate_amenities did not converge (largest gap " +
                                 std::to_string(result.largest_log_gap) + " after " + std::to_string(max_iterations) +
                                 " iterations); a city with no talent at the start cannot be held at zero");
    return result;
}

void Migration::reschedule_all(CityState& state) const {
    auto next = state.talent.table.column(state.talent.next_reconsider_step);
    std::fill(next.begin(), next.end(), unscheduled);
}


// Checkpoints: the amenities in use (calibrated at the start, moved by scheduled changes); the
// cluster preferences are parameters (retune), the location quotients and choice weights are
// recomputed from the talent each step (their move part from the travel times, when those
// differ from the ones it was computed from), the attachment table from the parameters and the
// step length, and the tallies are cleared at the end of every step. A
// member added to Migration stops the build here until it is saved.
CITYSIM_CHECKPOINTED(Migration, 488);
void Migration::save_or_restore(checkpoint::Archive& archive) {
    auto scope = archive.section("migration");
    auto amenity = choice_.amenity();
    archive.values("amenity", amenity);
    if (archive.restoring()) choice_.set_amenity(std::move(amenity));
}

}  // namespace citysim::models
