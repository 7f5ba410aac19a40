#include "models/geography.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <set>
#include <utility>

namespace citysim::models {

const std::vector<std::string>& computed_links_choices() {
    static const std::vector<std::string> choices = {"cities_without_links", "all_missing_pairs"};
    return choices;
}

std::optional<GeoPoint> location_of(const CityParams& city) {
    std::optional<double> latitude, longitude;
    for (const auto& entry : city.location) {
        if (entry.name == "latitude") latitude = entry.value;
        if (entry.name == "longitude") longitude = entry.value;
    }
    if (!latitude || !longitude) return std::nullopt;
    return GeoPoint{*latitude, *longitude};
}

double great_circle_km(const GeoPoint& a, const GeoPoint& b) {
    constexpr double radians = std::numbers::pi / 180.0;
    const double phi1 = a.latitude * radians, phi2 = b.latitude * radians;
    const double half_dphi = (phi2 - phi1) / 2, half_dlambda = (b.longitude - a.longitude) * radians / 2;
    const double h = std::sin(half_dphi) * std::sin(half_dphi) +
                     std::cos(phi1) * std::cos(phi2) * std::sin(half_dlambda) * std::sin(half_dlambda);
    return 2 * earth_radius_km * std::asin(std::min(1.0, std::sqrt(h)));
}

double travel_hours_from_distance(double km, const NetworkParams& network) {
    return network.access_hours + km / network.speed_km_per_hour;
}

std::vector<LinkParams> network_links(const Scenario& scenario) {
    std::vector<LinkParams> links = scenario.network.links;
    std::set<std::pair<std::string, std::string>> given;
    std::set<std::string> linked;
    for (const auto& link : links) {
        given.insert(std::minmax(link.from, link.to));
        linked.insert(link.from);
        linked.insert(link.to);
    }
    const bool all_pairs = scenario.network.computed_links == "all_missing_pairs";
    const auto& cities = scenario.cities;
    for (std::size_t i = 0; i < cities.size(); ++i) {
        const auto from = location_of(cities[i].value);
        if (!from) continue;
        for (std::size_t j = i + 1; j < cities.size(); ++j) {
            const auto to = location_of(cities[j].value);
            if (!to || given.count(std::minmax(cities[i].name, cities[j].name))) continue;
            if (!all_pairs && linked.count(cities[i].name) && linked.count(cities[j].name)) continue;
            links.push_back({cities[i].name, cities[j].name,
                             travel_hours_from_distance(great_circle_km(*from, *to), scenario.network)});
        }
    }
    return links;
}

}  // namespace citysim::models
