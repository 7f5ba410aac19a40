// Where the cities are, and travel times from their coordinates.
//
// A city may give its location, `cities.<city>.location: {latitude: 30.29, longitude: 120.16}`, in
// degrees north and east (WGS 84; latitude in [-90, 90], longitude in [-180, 180]). The live page
// draws located cities at their place on a map; and a located city that has no link in
// `network.links` gets a travel time to every other located city from the distance between them:
//
//     hours = access_hours + d / speed_km_per_hour
//     d = 2 R asin( sqrt( sin^2((phi2 - phi1)/2) + cos(phi1) cos(phi2) sin^2((lambda2 - lambda1)/2) ) )
//
// the great-circle distance by the haversine formula (Sinnott 1984) on a sphere of radius R =
// 6371.0088 km, the mean Earth radius of the IUGG (Moritz 2000). The defaults, speed 230 km/h and
// access 0.1 h, are the least-squares fit of that line to the eight high-speed-rail links of
// scenarios/china-2025.yaml (fastest scheduled times, city-facts `high_speed_rail_hours`): speed
// 227 km/h and 0.098 h. The computed times are within 0.75 h (30%) of the given ones, except
// Guangzhou to Hangzhou (given 6.5 h, computed 4.7 h: there is no direct line;
// tests/models/test_geography.cpp).
//
// `network.computed_links` says which pairs get a computed link:
//   cities_without_links (default)  a located city with no given link is linked to every other
//       located city; cities with given links keep the network as given, so giving locations to a
//       scenario's cities changes none of its travel times.
//   all_missing_pairs  every pair of located cities without a given link.
// Travel times are then, as always, the fastest route over all the links (engine/city_graph.hpp).
#pragma once

#include "models/scenario.hpp"

#include <optional>
#include <string>
#include <vector>

namespace citysim::models {

inline constexpr double earth_radius_km = 6371.0088;

struct GeoPoint {
    double latitude = 0.0;   // degrees north
    double longitude = 0.0;  // degrees east
};

// The city's location, if the scenario gives one (checked by check_locations).
std::optional<GeoPoint> location_of(const CityParams& city);

double great_circle_km(const GeoPoint& a, const GeoPoint& b);

// access_hours + distance / speed_km_per_hour.
double travel_hours_from_distance(double km, const NetworkParams& network);

// The links of the network: those given, then the computed ones (network.computed_links), the
// latter in city order. Links naming unknown cities are passed through (check_scenario reports them).
std::vector<LinkParams> network_links(const Scenario& scenario);

// The names `computed_links` takes.
const std::vector<std::string>& computed_links_choices();

}  // namespace citysim::models
