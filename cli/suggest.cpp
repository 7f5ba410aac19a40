#include "cli/suggest.hpp"

#include "cli/commands.hpp"
#include "engine/scenario/suggest.hpp"

#include <algorithm>
#include <charconv>
#include <iostream>
#include <string>
#include <vector>

namespace citysim::cli {

namespace {

bool is_number(const std::string& text) {
    double value = 0.0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    return error == std::errc{} && end == text.data() + text.size();
}

std::vector<std::string> command_names(CLI::App& app) {
    std::vector<std::string> names;
    for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; })) names.push_back(sub->get_name());
    return names;
}

CLI::App* find_command(CLI::App& app, const std::string& name) {
    const auto found = app.get_subcommands([&](const CLI::App* sub) { return sub->get_name() == name; });
    return found.empty() ? nullptr : found.front();
}

std::string listed(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& name : names) out += (out.empty() ? "" : ", ") + name;
    return out;
}

}  // namespace

std::optional<int> unknown_word(CLI::App& app, int argc, char** argv) {
    if (argc < 2) return std::nullopt;
    const std::string first = argv[1];
    if (first.empty() || first[0] == '-') return std::nullopt;
    const auto commands = command_names(app);
    if (first == "help") {
        if (argc >= 3) {
            if (CLI::App* sub = find_command(app, argv[2])) {
                std::cout << sub->help();
                return exit_codes::ok;
            }
            std::cerr << "citysim: unknown command '" << argv[2] << "'" << scenario::did_you_mean(argv[2], commands)
                      << " (commands: " << listed(commands) << ")\n";
            return exit_codes::usage;
        }
        std::cout << app.help();
        return exit_codes::ok;
    }
    CLI::App* command = find_command(app, first);
    if (!command) {
        std::cerr << "citysim: unknown command '" << first << "'" << scenario::did_you_mean(first, commands)
                  << "\ncommands: " << listed(commands) << "; `citysim help COMMAND` or `citysim COMMAND --help` "
                  << "describes one\n";
        return exit_codes::usage;
    }
    std::vector<std::string> long_names, short_names;
    for (const auto* option : command->get_options()) {
        for (const auto& name : option->get_lnames()) long_names.push_back("--" + name);
        for (const auto& name : option->get_snames()) short_names.push_back("-" + name);
    }
    for (int i = 2; i < argc; ++i) {
        const std::string word = argv[i];
        if (word == "--") break;  // what follows is positional
        std::string name;
        if (word.size() > 2 && word.compare(0, 2, "--") == 0) {
            name = word.substr(0, word.find('='));
            if (std::find(long_names.begin(), long_names.end(), name) != long_names.end()) continue;
        } else if (word.size() == 2 && word[0] == '-' && !is_number(word)) {
            name = word;
            if (std::find(short_names.begin(), short_names.end(), name) != short_names.end()) continue;
        } else {
            continue;
        }
        std::vector<std::string> all = long_names;
        all.insert(all.end(), short_names.begin(), short_names.end());
        std::cerr << "citysim " << first << ": unknown option '" << name << "'" << scenario::did_you_mean(name, all)
                  << "\noptions of `citysim " << first << "`: " << listed(long_names) << " (`citysim " << first
                  << " --help` describes them)\n";
        return exit_codes::usage;
    }
    return std::nullopt;
}

}  // namespace citysim::cli
