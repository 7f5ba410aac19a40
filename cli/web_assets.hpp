// The live page's files (web/, and Chart.js from Debian's libjs-chart.js), built into the binary by
// cmake/embed_web.cmake so that `citysim serve` needs nothing beside it and nothing from the network.
#pragma once

#include <string_view>
#include <vector>

namespace citysim::cli {

struct WebAsset {
    std::string_view path;          // "index.html", "app.js", "chart.min.js", ...
    std::string_view content_type;
    std::string_view content;
};

const std::vector<WebAsset>& web_assets();

}  // namespace citysim::cli
