// What reaches the terminal: a filter on std::cout and std::cerr that writes every control
// character other than newline, tab and carriage return (and every C1 control) as an escape, so
// that a city name, a file name or an attribute read from a hostile file cannot move the cursor,
// recolour the terminal or fake a line of output. Messages built from input also go through
// scenario::printable(), which escapes newlines too; this filter is the net under everything else.
#pragma once

#include <cstdio>
#include <iostream>
#include <streambuf>
#include <string>

namespace citysim::cli {

class ControlCharacterFilter : public std::streambuf {
public:
    explicit ControlCharacterFilter(std::streambuf* target) : target_(target) {}

protected:
    int_type overflow(int_type ch) override {
        if (traits_type::eq_int_type(ch, traits_type::eof())) return traits_type::not_eof(ch);
        return put(static_cast<unsigned char>(traits_type::to_char_type(ch))) ? ch : traits_type::eof();
    }
    std::streamsize xsputn(const char* s, std::streamsize n) override {
        for (std::streamsize i = 0; i < n; ++i)
            if (!put(static_cast<unsigned char>(s[i]))) return i;
        return n;
    }
    int sync() override {
        if (pending_lead_ && !emit_raw(0xC2)) return -1;
        pending_lead_ = false;
        return target_->pubsync();
    }

private:
    bool emit_raw(unsigned char c) {
        return !traits_type::eq_int_type(target_->sputc(static_cast<char>(c)), traits_type::eof());
    }
    bool emit_escape(unsigned value, bool unicode) {
        char buffer[16];
        std::snprintf(buffer, sizeof buffer, unicode ? "\\u{%04X}" : "\\x%02x", value);
        const std::string text = buffer;
        return target_->sputn(text.data(), static_cast<std::streamsize>(text.size())) ==
               static_cast<std::streamsize>(text.size());
    }
    // UTF-8 C1 controls are C2 80..C2 9F: a C2 is held back until the next byte shows which it is.
    bool put(unsigned char c) {
        if (pending_lead_) {
            pending_lead_ = false;
            if (c >= 0x80 && c <= 0x9F) return emit_escape(c, true);
            if (!emit_raw(0xC2)) return false;
        }
        if (c == 0xC2) {
            pending_lead_ = true;
            return true;
        }
        if ((c < 0x20 && c != '\n' && c != '\t' && c != '\r') || c == 0x7F) return emit_escape(c, false);
        return emit_raw(c);
    }

    std::streambuf* target_;
    bool pending_lead_ = false;
};

// Installs the filter on std::cout and std::cerr for its lifetime.
class TerminalTextGuard {
public:
    TerminalTextGuard()
        : out_filter_(std::cout.rdbuf()), err_filter_(std::cerr.rdbuf()), out_(std::cout.rdbuf(&out_filter_)),
          err_(std::cerr.rdbuf(&err_filter_)) {}
    ~TerminalTextGuard() {
        std::cout.flush();
        std::cerr.flush();
        std::cout.rdbuf(out_);
        std::cerr.rdbuf(err_);
    }
    TerminalTextGuard(const TerminalTextGuard&) = delete;
    TerminalTextGuard& operator=(const TerminalTextGuard&) = delete;

private:
    ControlCharacterFilter out_filter_;
    ControlCharacterFilter err_filter_;
    std::streambuf* out_;
    std::streambuf* err_;
};

}  // namespace citysim::cli
