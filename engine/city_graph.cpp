#include "engine/city_graph.hpp"

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/floyd_warshall_shortest.hpp>

#include <limits>

namespace citysim::engine {

CityNetwork::CityNetwork(std::vector<std::string> city_names, const std::vector<TravelLink>& links)
    : names_(std::move(city_names)) {
    using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS, boost::no_property,
                                        boost::property<boost::edge_weight_t, double>>;
    const std::size_t n = names_.size();
    Graph graph(n);
    for (const auto& link : links) {
        if (link.from >= n || link.to >= n) throw std::out_of_range("travel link names a city index out of range");
        if (!(link.hours >= 0.0)) throw std::invalid_argument("travel time must be non-negative");
        boost::add_edge(link.from, link.to, link.hours, graph);
    }

    std::vector<std::vector<double>> distance(n, std::vector<double>(n));
    const double infinity = std::numeric_limits<double>::infinity();
    boost::floyd_warshall_all_pairs_shortest_paths(graph, distance, boost::distance_inf(infinity));

    hours_.assign(n * n, 0.0);
    std::vector<std::pair<std::size_t, std::size_t>> unreachable;
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < n; ++j) {
            hours_[i * n + j] = i == j ? 0.0 : distance[i][j];
            if (i < j && distance[i][j] == infinity) unreachable.emplace_back(i, j);
        }
    if (!unreachable.empty()) {
        std::string message = "no travel route between ";
        for (std::size_t k = 0; k < unreachable.size() && k < 5; ++k) {
            if (k) message += ", ";
            message += names_[unreachable[k].first] + " and " + names_[unreachable[k].second];
        }
        if (unreachable.size() > 5) message += " and " + std::to_string(unreachable.size() - 5) + " more pairs";
        throw UnreachableCities(message, std::move(unreachable));
    }
}

}  // namespace citysim::engine
