// `citysim serve`: the live classroom page. A local web server (cpp-httplib) that runs the model
// itself, one independent run per browser tab, and serves the page (web/, built into the binary).
//
// The API (every answer JSON, every error {"error": message} with a 4xx status that says what was
// wrong; nothing a client sends stops the server):
//   GET  /api/scenarios                 the scenarios served, in order
//   POST /api/runs?scenario=I&seed=N&variables=a,b   a new run (seed: the scenario's by default;
//                                       variables: output variables to return each step)
//   POST /api/runs/ID/step?count=N      runs N steps (1..120), returns their records
//   POST /api/runs/ID/control?key=K&value=V   a control's value from the next step on
//   POST /api/runs/ID/reset?seed=N      the run from its start again (the controls as written)
//   POST /api/runs/ID/ping              keeps an idle run open
//   POST /api/runs/ID/close             frees the run (the page sends it when the tab closes)
//   GET  /api/runs/ID/scenario.yaml     "save this run": the scenario, the moves as `schedule`, the seed
// A run that hears nothing for --idle-timeout seconds is closed, so a tab that closed without a
// word frees its run too; at most --max-runs are open at once (503 beyond).
#include "cli/commands.hpp"
#include "cli/json.hpp"
#include "cli/live_run.hpp"
#include "cli/signals.hpp"
#include "cli/web_assets.hpp"
#include "engine/parallel.hpp"
#include "models/geography.hpp"
#include "models/recording.hpp"
#include "models/schedule.hpp"

#include <httplib.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

namespace citysim::cli {

namespace {

using Clock = std::chrono::steady_clock;

// The variables a run returns when the page asks for none.
const std::vector<std::string> default_variables = {"talent", "rent", "home_price", "startups", "births", "migration"};
constexpr std::int64_t max_steps_per_request = 120;

// What one value of a variable stands for, as its description in the output file says: a count of
// agents (talent, migration) is persons_per_agent persons; start-ups are counted in firms and every
// other variable is in its own units (1). analysis.load.persons reads the same descriptions.
double per_value(const models::OutputVariable& variable, double persons_per_agent) {
    return variable.description.rfind("agents", 0) == 0 ? persons_per_agent : 1.0;
}

struct ServedScenario {
    std::string file;
    std::string name;  // the file's stem
    scenario::Loaded<models::Scenario> loaded;
};

struct OpenRun {
    std::mutex mutex;  // one request at a time
    std::size_t scenario = 0;
    std::vector<std::string> variables;
    std::unique_ptr<LiveRun> run;
    std::atomic<Clock::rep> last_seen{0};
    void touch() { last_seen = Clock::now().time_since_epoch().count(); }
};

class HttpError : public std::runtime_error {
public:
    HttpError(int status, const std::string& message) : std::runtime_error(message), status_(status) {}
    int status() const { return status_; }

private:
    int status_;
};

std::string utc_now() {
    const std::time_t now = std::time(nullptr);
    std::tm utc{};
    gmtime_r(&now, &utc);  // the server answers on several threads; std::gmtime's result is shared
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return buf;
}

void send_json(httplib::Response& res, const JsonWriter& json, int status = 200) {
    res.status = status;
    res.set_header("Cache-Control", "no-store");
    res.set_content(json.str(), "application/json");
}

void send_error(httplib::Response& res, int status, const std::string& message) {
    JsonWriter json;
    json.begin_object().key("error").value(message).end_object();
    send_json(res, json, status);
}

// A query parameter as an integer in [lo, hi], or `fallback` when absent.
std::int64_t integer_param(const httplib::Request& req, const std::string& name, std::int64_t lo, std::int64_t hi,
                           std::optional<std::int64_t> fallback) {
    if (!req.has_param(name.c_str())) {
        if (fallback) return *fallback;
        throw HttpError(400, "missing the parameter '" + name + "' (an integer in [" + std::to_string(lo) + ", " +
                                 std::to_string(hi) + "])");
    }
    const std::string text = req.get_param_value(name.c_str());
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty())
        throw HttpError(400, "the parameter '" + name + "' must be an integer in [" + std::to_string(lo) + ", " +
                                 std::to_string(hi) + "], not '" + text.substr(0, 40) + "'");
    if (value < lo || value > hi)
        throw HttpError(400, "the parameter '" + name + "' must be in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                                 "], not " + text);
    return value;
}

double real_param(const httplib::Request& req, const std::string& name) {
    if (!req.has_param(name.c_str())) throw HttpError(400, "missing the parameter '" + name + "' (a number)");
    const std::string text = req.get_param_value(name.c_str());
    double value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty() || !std::isfinite(value))
        throw HttpError(400, "the parameter '" + name + "' must be a number, not '" + text.substr(0, 40) + "'");
    return value;
}

std::vector<std::string> split_list(const std::string& text) {
    std::vector<std::string> items;
    std::size_t begin = 0;
    while (begin <= text.size()) {
        const auto comma = text.find(',', begin);
        const auto item = text.substr(begin, comma == std::string::npos ? std::string::npos : comma - begin);
        if (!item.empty()) items.push_back(item);
        if (comma == std::string::npos) break;
        begin = comma + 1;
    }
    return items;
}

void write_values(JsonWriter& json, const LiveValues& v) {
    std::visit([&](const auto& values) { json.values(std::span(values)); }, v.values);
}

void write_record(JsonWriter& json, const LiveRecord& record) {
    json.begin_object().key("time").value(record.time).key("values").begin_object();
    for (const auto& v : record.variables) {
        json.key(v.name);
        write_values(json, v);
    }
    json.end_object().end_object();
}

class Server {
public:
    Server(std::vector<ServedScenario> scenarios, const ServeOptions& options)
        : scenarios_(std::move(scenarios)), options_(options), rows_(scenario::describe(models::scenario_schema())) {
        routes();
    }

    int serve() {
        StopSignals stop;
        std::signal(SIGPIPE, SIG_IGN);
        // SO_REUSEADDR (a restarted server gets its port back at once), not cpp-httplib's default
        // SO_REUSEPORT, with which a second server on the same port would start without a word and
        // take half the requests. And Debian's cpp-httplib listens with a backlog of 5, so that a class
        // opening its tabs at once would wait a second for a TCP retry: listen again with the system's
        // largest backlog.
        int listening = -1;
        http_.set_socket_options([&listening](socket_t sock) {
            int yes = 1;
            ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
            listening = sock;
        });
        const int port = options_.port == 0 ? http_.bind_to_any_port(options_.host)
                                            : (http_.bind_to_port(options_.host, options_.port) ? options_.port : -1);
        if (port >= 0 && listening >= 0) ::listen(listening, SOMAXCONN);
        if (port < 0) {
            std::cerr << "citysim serve: cannot listen on " << options_.host << ":" << options_.port
                      << " (in use, or not an address of this machine); give another with --port (0 picks a free one)"
                      << " or --host\n";
            return exit_codes::failure;
        }
        const std::string address = "http://" + (options_.host == "0.0.0.0" ? std::string("127.0.0.1") : options_.host) +
                                    ":" + std::to_string(port) + "/";
        std::cout << "citysim serve: " << scenarios_.size() << " scenario" << (scenarios_.size() == 1 ? "" : "s") << " (";
        for (std::size_t i = 0; i < scenarios_.size(); ++i) std::cout << (i ? ", " : "") << scenarios_[i].name;
        std::cout << ")\nopen " << address << " in a browser; Ctrl-C stops the server" << std::endl;
        if (options_.host != "127.0.0.1" && options_.host != "localhost" && options_.host != "::1")
            std::cerr << "citysim serve: listening on " << options_.host
                      << ": anyone who can reach this machine can use the page\n";

        std::atomic<bool> done{false};
        std::thread watcher([&] {
            // Stops the server on Ctrl-C (the handler only records the signal) and closes idle runs.
            auto last_sweep = Clock::now();
            while (!done) {
                if (stop.received()) {
                    http_.stop();
                    break;
                }
                if (Clock::now() - last_sweep > std::chrono::seconds(1)) {
                    close_idle_runs();
                    last_sweep = Clock::now();
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
            }
        });
        const bool listened = http_.listen_after_bind();
        done = true;
        watcher.join();
        std::size_t open = 0;
        {
            std::lock_guard lock(runs_mutex_);
            open = runs_.size();
            runs_.clear();
        }
        if (stop.received()) {
            std::cout << "citysim serve: stopped by signal " << stop.received() << "; " << open << " run"
                      << (open == 1 ? "" : "s") << " closed" << std::endl;
            return exit_codes::ok;
        }
        if (!listened) {
            std::cerr << "citysim serve: the server stopped unexpectedly\n";
            return exit_codes::failure;
        }
        return exit_codes::ok;
    }

private:
    void routes() {
        http_.new_task_queue = [] { return new httplib::ThreadPool(128); };
        http_.set_keep_alive_timeout(2);
        http_.set_tcp_nodelay(true);  // small answers at once, not after a delayed ACK (40 ms)
        http_.set_read_timeout(10);
        http_.set_write_timeout(10);
        http_.set_payload_max_length(64 * 1024);

        for (const auto& asset : web_assets()) {
            const std::string path = asset.path == "index.html" ? "/" : "/" + std::string(asset.path);
            http_.Get(path, [&asset](const httplib::Request&, httplib::Response& res) {
                res.set_content(std::string(asset.content), std::string(asset.content_type));
            });
        }
        http_.Get("/api/scenarios", guarded([this](const httplib::Request&, httplib::Response& res) { list_scenarios(res); }));
        http_.Post("/api/runs", guarded([this](const httplib::Request& req, httplib::Response& res) { open_run(req, res); }));
        http_.Post(R"(/api/runs/([^/]+)/step)", guarded([this](const httplib::Request& req, httplib::Response& res) {
                       with_run(req, [&](OpenRun& open) { step(req, res, open); });
                   }));
        http_.Post(R"(/api/runs/([^/]+)/control)", guarded([this](const httplib::Request& req, httplib::Response& res) {
                       with_run(req, [&](OpenRun& open) { control(req, res, open); });
                   }));
        http_.Post(R"(/api/runs/([^/]+)/reset)", guarded([this](const httplib::Request& req, httplib::Response& res) {
                       with_run(req, [&](OpenRun& open) { reset(req, res, open); });
                   }));
        http_.Post(R"(/api/runs/([^/]+)/ping)", guarded([this](const httplib::Request& req, httplib::Response& res) {
                       with_run(req, [&](OpenRun& open) {
                           JsonWriter json;
                           json.begin_object().key("steps_done").value(open.run->steps_done()).end_object();
                           send_json(res, json);
                       });
                   }));
        http_.Post(R"(/api/runs/([^/]+)/close)", guarded([this](const httplib::Request& req, httplib::Response& res) {
                       close_run(req.matches[1]);
                       res.status = 204;
                   }));
        http_.Get(R"(/api/runs/([^/]+)/scenario.yaml)",
                  guarded([this](const httplib::Request& req, httplib::Response& res) {
                      with_run(req, [&](OpenRun& open) {
                          const auto& served = scenarios_[open.scenario];
                          const std::string file = served.name + "-seed-" + std::to_string(open.run->seed()) + "-" +
                                                   std::to_string(open.run->steps_done()) + ".yaml";
                          res.set_header("Content-Disposition", "attachment; filename=\"" + file + "\"");
                          res.set_header("Cache-Control", "no-store");
                          res.set_content(open.run->saved_scenario(utc_now()), "application/yaml");
                      });
                  }));
        // Anything else: a 404 (or 405, 400 from httplib itself) with a body that says so.
        http_.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
            if (!res.body.empty()) return;
            const std::string what = res.status == 404 ? "no such page or API path: " + req.method + " " + req.path.substr(0, 200)
                                                       : "the request could not be served (HTTP " + std::to_string(res.status) + ")";
            send_error(res, res.status, what);
        });
        http_.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
            std::string what = "unknown error";
            try {
                if (ep) std::rethrow_exception(ep);
            } catch (const std::exception& e) {
                what = e.what();
            } catch (...) {
            }
            std::cerr << "citysim serve: internal error: " << what << "\n";
            send_error(res, 500, "internal error: " + what);
        });
    }

    // Turns HttpError and RequestError into their status; anything else is a 500 (and logged).
    template <class F>
    httplib::Server::Handler guarded(F handler) {
        return [handler](const httplib::Request& req, httplib::Response& res) {
            try {
                handler(req, res);
            } catch (const HttpError& e) {
                send_error(res, e.status(), e.what());
            } catch (const RequestError& e) {
                send_error(res, 400, e.what());
            } catch (const std::bad_alloc&) {
                send_error(res, 503, "out of memory; close some runs");
            }
        };
    }

    template <class F>
    void with_run(const httplib::Request& req, F f) {
        const std::string id = req.matches[1];
        std::shared_ptr<OpenRun> open;
        {
            std::lock_guard lock(runs_mutex_);
            const auto it = runs_.find(id);
            if (it != runs_.end()) open = it->second;
        }
        if (!open)
            throw HttpError(410, "run '" + id.substr(0, 40) + "' is not open (closed, idle for more than " +
                                     std::to_string(options_.idle_timeout) +
                                     " s, or the server restarted); start a new run");
        std::lock_guard lock(open->mutex);
        open->touch();
        f(*open);
        open->touch();
    }

    void close_run(const std::string& id) {
        std::lock_guard lock(runs_mutex_);
        runs_.erase(id);
    }

    void close_idle_runs() {
        const auto now = Clock::now().time_since_epoch().count();
        const auto limit = std::chrono::duration_cast<Clock::duration>(std::chrono::seconds(options_.idle_timeout)).count();
        std::lock_guard lock(runs_mutex_);
        std::erase_if(runs_, [&](const auto& entry) {
            if (now - entry.second->last_seen.load() <= limit) return false;
            std::unique_lock busy(entry.second->mutex, std::try_to_lock);
            return busy.owns_lock();  // a run serving a request is not idle
        });
    }

    std::string new_id() {
        static thread_local std::mt19937_64 random(std::random_device{}());
        char buf[20];
        std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(random()));
        return buf;
    }

    void list_scenarios(httplib::Response& res) {
        JsonWriter json;
        json.begin_object().key("scenarios").begin_array();
        for (std::size_t i = 0; i < scenarios_.size(); ++i) {
            const auto& s = scenarios_[i];
            json.begin_object()
                .key("index").value(i)
                .key("name").value(s.name)
                .key("file").value(s.file)
                .key("description").value(s.loaded.value.description)
                .key("cities").value(s.loaded.value.cities.size())
                .key("controls").value(s.loaded.value.controls.size())
                .end_object();
        }
        json.end_array().key("idle_timeout").value(options_.idle_timeout).end_object();
        send_json(res, json);
    }

    std::vector<std::string> requested_variables(const httplib::Request& req) {
        if (!req.has_param("variables")) return default_variables;
        const auto names = split_list(req.get_param_value("variables"));
        if (names.empty() || names.size() > 64) throw HttpError(400, "give 1 to 64 variables, comma-separated");
        std::vector<std::string> series;
        for (const auto& v : models::output_variables())
            if (!v.dims.empty() && v.dims.front() == "time") series.push_back(v.name);
        for (const auto& name : names)
            if (std::find(series.begin(), series.end(), name) == series.end())
                throw HttpError(400, "unknown output variable '" + name.substr(0, 60) +
                                         "': the variables over time are listed in docs/output-reference.md");
        return names;
    }

    std::int64_t requested_seed(const httplib::Request& req, const ServedScenario& served) {
        return integer_param(req, "seed", 0, 9007199254740991LL, served.loaded.value.simulation.seed);
    }

    void open_run(const httplib::Request& req, httplib::Response& res) {
        const auto index = static_cast<std::size_t>(
            integer_param(req, "scenario", 0, static_cast<std::int64_t>(scenarios_.size()) - 1, 0));
        const auto& served = scenarios_[index];
        auto open = std::make_shared<OpenRun>();
        open->scenario = index;
        open->variables = requested_variables(req);
        const auto seed = requested_seed(req, served);
        {
            std::lock_guard lock(runs_mutex_);
            if (runs_.size() >= options_.max_runs)
                throw HttpError(503, "the server has " + std::to_string(runs_.size()) +
                                         " runs open, its most (--max-runs); close a tab, or wait " +
                                         std::to_string(options_.idle_timeout) + " s for idle ones to close");
        }
        open->run = std::make_unique<LiveRun>(served.loaded, served.file, seed, open->variables);
        open->touch();
        std::string id = new_id();
        {
            std::lock_guard lock(runs_mutex_);
            while (runs_.count(id)) id = new_id();
            runs_[id] = open;
        }
        send_json(res, describe_run(id, *open));
    }

    JsonWriter describe_run(const std::string& id, OpenRun& open) {
        const auto& served = scenarios_[open.scenario];
        const auto& s = served.loaded.value;
        const auto& run = *open.run;
        const auto& state = run.model().state();
        JsonWriter json;
        json.begin_object()
            .key("run").value(id)
            .key("scenario").value(open.scenario)
            .key("name").value(served.name)
            .key("file").value(served.file)
            .key("description").value(s.description)
            .key("seed").value(run.seed())
            .key("steps").value(run.steps())
            .key("step_unit").value(s.simulation.step_unit)
            .key("years_per_step").value(run.model().years_per_step())
            .key("persons_per_agent").value(state.persons_per_agent)
            .key("founding").value(s.mechanisms.founding.enabled && state.ecosystem.enabled)
            .key("idle_timeout").value(options_.idle_timeout);
        json.key("cities").begin_array();
        bool located = !s.cities.empty();
        for (const auto& c : s.cities) {
            const auto where = models::location_of(c.value);
            located = located && where.has_value();
            json.begin_object().key("name").value(c.name);
            if (where) json.key("latitude").value(where->latitude).key("longitude").value(where->longitude);
            json.end_object();
        }
        json.end_array().key("layout").value(located ? "map" : "schematic");
        json.key("axes").begin_object();
        for (const auto& axis : models::output_axes(state)) {
            json.key(axis.name);
            json.strings(axis.labels);
        }
        json.end_object();
        json.key("variables").begin_object();
        for (const auto& name : open.variables)
            for (const auto& v : models::output_variables())
                if (v.name == name)
                    json.key(name).begin_object()
                        .key("dims").strings(v.dims)
                        .key("units").value(v.units)
                        .key("long_name").value(v.long_name)
                        .key("description").value(v.description)
                        .key("per_value").value(per_value(v, state.persons_per_agent))
                        .end_object();
        json.end_object();
        json.key("controls").begin_array();
        const auto values = run.control_values();
        for (const auto& c : s.controls) {
            const auto* row = models::key_row(c.key, rows_);
            json.begin_object()
                .key("key").value(c.key)
                .key("label").value(c.label.empty() ? c.key : c.label)
                .key("kind").value(c.kind)
                .key("min").value(c.min)
                .key("max").value(c.max)
                .key("step").value(models::control_step(c))
                .key("unit").value(row ? row->unit : std::string())
                .key("description").value(row ? row->description : std::string())
                .key("value").value(values.at(c.key))
                .end_object();
        }
        json.end_array();
        json.key("notes").begin_array();
        for (const auto& note : served.loaded.notes) json.value(note.format("note"));
        json.end_array();
        json.key("record");
        write_record(json, run.record());
        json.end_object();
        return json;
    }

    void step(const httplib::Request& req, httplib::Response& res, OpenRun& open) {
        const auto count = integer_param(req, "count", 1, max_steps_per_request, 1);
        const auto records = open.run->advance(count);
        JsonWriter json;
        json.begin_object()
            .key("steps_done").value(open.run->steps_done())
            .key("done").value(open.run->steps_done() >= open.run->steps())
            .key("records").begin_array();
        for (const auto& r : records) write_record(json, r);
        json.end_array().end_object();
        send_json(res, json);
    }

    void control(const httplib::Request& req, httplib::Response& res, OpenRun& open) {
        if (!req.has_param("key")) throw HttpError(400, "missing the parameter 'key' (a control's key path)");
        const auto key = req.get_param_value("key");
        const double value = real_param(req, "value");
        try {
            open.run->set_control(key, value);
        } catch (const RequestError& e) {
            // A run that is over cannot take a move: a conflict with its state, not a bad request.
            throw HttpError(open.run->steps_done() >= open.run->steps() ? 409 : 400, e.what());
        }
        JsonWriter json;
        json.begin_object()
            .key("steps_done").value(open.run->steps_done())
            .key("from_step").value(open.run->steps_done() + 1)
            .key("moves").value(open.run->moves().size())
            .key("controls").begin_object();
        for (const auto& [k, v] : open.run->control_values()) json.key(k).value(v);
        json.end_object().end_object();
        send_json(res, json);
    }

    void reset(const httplib::Request& req, httplib::Response& res, OpenRun& open) {
        const auto& served = scenarios_[open.scenario];
        const auto seed = integer_param(req, "seed", 0, 9007199254740991LL, open.run->seed());
        open.run = std::make_unique<LiveRun>(served.loaded, served.file, seed, open.variables);
        send_json(res, describe_run(req.matches[1], open));
    }

    std::vector<ServedScenario> scenarios_;
    ServeOptions options_;
    std::vector<scenario::KeyRow> rows_;
    httplib::Server http_;
    std::mutex runs_mutex_;
    std::map<std::string, std::shared_ptr<OpenRun>> runs_;
};

// Run from the repository root with no scenario: the teaching scenarios in class order, then the
// China baseline.
std::vector<std::string> default_scenarios() {
    std::vector<std::string> found;
    for (const char* name : {"teaching-two-cities", "teaching-rent-and-founders", "teaching-failure-tolerance",
                             "teaching-incumbent", "china-2025"}) {
        const auto path = std::filesystem::path("scenarios") / (std::string(name) + ".yaml");
        if (std::filesystem::exists(path)) found.push_back(path.string());
    }
    return found;
}

}  // namespace

int serve(const ServeOptions& options) {
    auto files = options.scenarios;
    if (files.empty()) {
        files = default_scenarios();
        if (files.empty()) {
            std::cerr << "citysim serve: give a scenario file (or run from the repository root, where "
                         "scenarios/teaching-*.yaml are served by default)\n";
            return exit_codes::usage;
        }
    }
    std::vector<ServedScenario> scenarios;
    for (const auto& file : files) {
        try {
            auto loaded = models::load_scenario(file);
            for (const auto& note : loaded.notes) std::cerr << note.format("note") << "\n";
            scenarios.push_back({file, std::filesystem::path(file).stem().string(), std::move(loaded)});
        } catch (const scenario::ScenarioError& e) {
            std::cerr << e.what() << "\n"
                      << e.diagnostics().size() << " error" << (e.diagnostics().size() == 1 ? "" : "s")
                      << "; nothing was served.\n";
            return exit_codes::invalid_scenario;
        }
    }
    engine::ThreadLimit threads(options.threads);
    Server server(std::move(scenarios), options);
    return server.serve();
}

}  // namespace citysim::cli
