// Migration: each step a share of talent reconsiders its city and picks one by random utility (logit).
//
// An agent of field f living in city o, y years there, reconsiders with probability
// p = 1 - exp(-reconsider_rate * dt) per step and then chooses city d with probability
// exp(V_d) / sum_k exp(V_k):
//
//   V_d = income_weight * (ln w[d,f] - housing_cost_share * ln R[d]) + amenity[d]
//         + cluster_preference[f] * ln LQ[d,f]
//         - [d != o] * (moving_cost + moving_cost_per_hour * T[o,d])
//         + [d == o] * (attachment + attachment_per_year * min(y, attachment_cap_years))
//         + the support of policies in force that would cover the agent in d (policy.hpp)
//
// ln w - housing_cost_share * ln R is real income in the Rosen-Roback sense: income relative to
// the local cost of housing. T is the shortest travel time in hours. The agent's skill multiplies
// its wage in every city alike and so cancels out of the choice.
//
// Pull by field: LQ[d,f] = ((L[d,f] + 1) / (L[d] + F)) / ((L[.,f] + 1) / (L + F)) is the city's
// location quotient in the field (its share of the field over the national share, +1 smoothed; F
// fields), so talent of a field is drawn to the cities that specialise in it: thicker markets for its
// skills, colleagues to learn from and to found with (Marshall's localisation economies; Rosenthal &
// Strange 2004; Moretti 2012). With a preference of 0 every field chooses alike, and migration mixes
// the fields of the cities it links; with a positive one, concentration persists and can grow (path
// dependence). It is read from the talent at the start of each step, so it is an endogenous force:
// a city that loses its AI talent loses its pull on AI talent too.
//
// Founders running a start-up stay with it (they do not reconsider); anyone else who moves leaves
// their employer, whose firm cannot come along (firms.hpp).
//
// Reconsiderations are scheduled rather than drawn every step: an agent's next one comes after a
// geometric number of steps with success probability p (the same distribution as a per-step coin,
// and memoryless, so reschedule_all() after a change of rate is exact). A step thus touches only
// the agents whose turn it is.
//
// With calibrate_amenities, the amenities are solved for at the start so that the starting
// distribution of talent over cities is a steady state of the choice (expected arrivals equal
// expected departures in every city), by the contraction of Berry, Levinsohn & Pakes (1995):
//     amenity[d] += ln(N[d] / E[d])   until max |ln(N[d] / E[d])| < 1e-10,
// where N[d] is the talent in d and E[d] = sum_{o,f} N[o,f] Pr_{o,f}(d) (at zero years in the city)
// the talent that would choose d if everyone reconsidered. The given amenities are the starting
// point, and the solution keeps their mean. Amenities then absorb whatever the scenario does not
// say about a city (climate, culture, tolerance, hukou rules), and a run without shocks stays put
// instead of drifting away from its data. Calibration sees the scenario as run, overrides
// included, so it absorbs any change to starting utilities too: calibrate the baseline once, pin
// the amenities it writes (output `amenity`) in the scenario, and compare policies with it off.
//
// Because only the stay alternative depends on the agent (through y), a step precomputes, for every
// (origin, field), the stay weight and the cumulative weights of moving to each other city; a
// decision is then one uniform for stay-or-move and one binary search. The weights are computed as
// exp(V) factored into a part of the destination and a part of the move:
//     exp(V_d - m_f) = exp(D[d,f] - m_f) x exp(-(moving_cost + moving_cost_per_hour * T[o,d]))   (d != o)
//     exp(V_o - m_f) = exp(D[o,f] - m_f) x exp(attachment)                                      (d == o)
// where D[d,f] is the first two lines of V_d and m_f = max_d D[d,f] (a common scale, which a
// choice does not depend on); the move part changes only with travel times, so a step computes
// cities x fields exponentials instead of cities^2 x fields (360,000 a step at 300 cities). All decisions read only the
// state at the start of the phase and write only the agent's own row, so they run in parallel, and
// the moves (counts, origin-destination flows) are integers summed in any order.
#pragma once

#include "engine/rng.hpp"
#include "engine/scenario/schema.hpp"
#include "models/city_state.hpp"
#include "models/firms.hpp"

#include <tbb/enumerable_thread_specific.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace citysim::models {

struct MigrationParams {
    bool enabled = true;
    double reconsider_rate = 0.15;
    double income_weight = 4.0;
    double housing_cost_share = 0.3;
    double moving_cost = 1.5;
    double moving_cost_per_hour = 0.15;
    double attachment = 0.5;
    double attachment_per_year = 0.1;
    double attachment_cap_years = 10.0;
    bool calibrate_amenities = false;
};
const scenario::Record<MigrationParams>& migration_schema();

// The choice probabilities of one step, precomputed from city-level state.
class MigrationChoice {
public:
    MigrationChoice(const MigrationParams& params, std::vector<double> amenity, std::vector<double> cluster_preference,
                    std::size_t cities, std::size_t fields);

    // Rebuilds the tables from wages, rents and travel times.
    void prepare(const CityState& state);

    // The city chosen by an agent who reconsiders; `stay_word` and `destination_word` are its
    // random words for this step.
    CityIndex choose(CityIndex origin, FieldIndex field, float years_in_city, std::uint32_t stay_word,
                     std::uint32_t destination_word) const {
        return choose_attached(origin, field, attachment_factor(years_in_city), stay_word, destination_word);
    }
    // The same, given exp(attachment_per_year * min(years in the city, cap)) (attachment_after()).
    CityIndex choose_attached(CityIndex origin, FieldIndex field, double attachment, std::uint32_t stay_word,
                              std::uint32_t destination_word) const {
        const std::size_t row = static_cast<std::size_t>(origin) * fields_ + field;
        const double stay = stay_weight_[row] * attachment;
        const double* cumulative = move_cumulative_.data() + row * cities_;
        const double move_total = cumulative[cities_ - 1];
        const double u = engine::uniform_open(stay_word) * (stay + move_total);
        if (u < stay || move_total <= 0.0) return origin;
        const double target = engine::uniform_open(destination_word) * move_total;
        std::size_t lo = 0, hi = cities_ - 1;  // first index with cumulative > target
        while (lo < hi) {
            const std::size_t mid = (lo + hi) / 2;
            if (cumulative[mid] > target) hi = mid; else lo = mid + 1;
        }
        return static_cast<CityIndex>(lo);
    }

    // The same choice for an agent whom policies in force may support (policy.hpp): a rule that
    // covers the agent where it lives multiplies the weight of staying by exp(stay_gain), one that
    // would cover it as a new arrival in d multiplies the weight of d by exp(arrival_gain).
    CityIndex choose_with_policy(CityIndex origin, FieldIndex field, float skill, std::uint32_t arrival,
                                 std::uint32_t step, double attachment,
                                 const std::vector<PolicyLevers::TalentRule>& rules, std::uint32_t stay_word,
                                 std::uint32_t destination_word) const;

    // exp(attachment_per_year * min(years, attachment_cap_years)) for an agent `steps_in_city` steps
    // after its arrival (years = years_in_city()). Every agent who reconsiders needs it, so it comes
    // from a table once tabulate_attachment() has made one for steps of this length: the same value
    // as computing it.
    double attachment_after(std::int64_t steps_in_city, double years_per_step) const {
        if (years_per_step == attachment_years_per_step_ && steps_in_city >= 0) {
            if (static_cast<std::size_t>(steps_in_city) < attachment_by_steps_.size())
                return attachment_by_steps_[static_cast<std::size_t>(steps_in_city)];
            if (attachment_capped_) return attachment_by_steps_.back();
        }
        return attachment_factor(years_in_city(0, steps_in_city, years_per_step));
    }
    // Makes attachment_after()'s table for steps of this length (nothing to do if it has one).
    void tabulate_attachment(double years_per_step);

    // Choice probabilities for an agent in (origin, field) with `years_in_city`, for tests and docs.
    std::vector<double> probabilities(CityIndex origin, FieldIndex field, float years_in_city) const;

    double reconsider_probability(double years_per_step) const;

    const std::vector<double>& amenity() const { return amenity_; }
    void set_amenity(std::vector<double> amenity) { amenity_ = std::move(amenity); }

private:
    double attachment_factor(float years) const {
        return std::exp(params_.attachment_per_year * std::min<double>(years, params_.attachment_cap_years));
    }
    MigrationParams params_;
    std::vector<double> amenity_;
    std::vector<double> cluster_preference_;  // per field
    std::size_t cities_, fields_;
    std::vector<double> stay_weight_;      // [origin * fields + field]: exp(V_o - max) with the base attachment
    std::vector<double> move_cumulative_;  // [(origin * fields + field) * cities + d]: running sum of exp(V_d - m_f), 0 for d = o
    std::vector<double> destination_weight_;  // [field * cities + d]: exp(D[d,f] - m_f)
    std::vector<double> move_weight_;         // [origin * cities + d]: the move part above (d = o: exp(attachment))
    std::vector<double> move_weight_hours_;   // the travel times move_weight_ was computed from
    // attachment_factor() for 0, 1, ... steps in the city, up to the first at the cap if
    // attachment_capped_ (every later step has the last value), for steps of this length.
    std::vector<double> attachment_by_steps_;
    bool attachment_capped_ = false;
    double attachment_years_per_step_ = -1.0;
};

// Each city's location quotient in each field, [city * fields + field] (see above).
std::vector<double> location_quotients(const CityState& state);

struct MigrationStepResult {
    std::int64_t decisions = 0;  // agents who reconsidered
    std::int64_t moves = 0;
};

class Migration {
public:
    Migration(const MigrationParams& params, std::vector<double> amenity, std::vector<double> cluster_preference,
              std::size_t cities, std::size_t fields);
    // Saves or restores this mechanism's own state (checkpoints, engine/checkpoint/archive.hpp).
    void save_or_restore(checkpoint::Archive& archive);
    // Decides for every agent, moves the movers, updates counts and flows.
    MigrationStepResult step(CityState& state, const engine::StreamKey& streams, double years_per_step);
    // Forgets every agent's scheduled reconsideration, so the next step draws them afresh (after
    // the reconsider rate changes).
    void reschedule_all(CityState& state) const;
    const MigrationChoice& choice() const { return choice_; }

    struct Calibration {
        int iterations = 0;
        double largest_log_gap = 0.0;  // max |ln(N[d] / E[d])| at the end
    };
    // Solves for the amenities that make the current distribution a steady state (see above).
    // Throws std::runtime_error if the contraction does not converge.
    Calibration calibrate_amenities(const CityState& state);

private:
    MigrationParams params_;
    MigrationChoice choice_;
    // Each thread's counts of the step, kept between steps and cleared as they are added up, so
    // that a step does not allocate (and fault in) cities^2 counters per thread anew: 360 KB per
    // thread at 300 cities. 32 bits suffice, since a step moves at most every agent and
    // talent.agents allows at most 2e9 < 2^32; 64-bit counters took twice the cache and measurably
    // slowed 300 cities.
    struct Tally {
        std::vector<std::uint32_t> arrivals, departures, migration;
        std::int64_t decisions = 0;
        TeamLeavers leavers;
    };
    tbb::enumerable_thread_specific<Tally> tallies_;
};

}  // namespace citysim::models
