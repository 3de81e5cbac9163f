// Status: how the core reports a bad call.
//
// Errors travel as values, not C++ exceptions: Emscripten's default build
// turns a thrown exception into a bare pointer on the JS side and skips the
// destructors on the way, so every fallible core function returns a Status
// whose message is what the JS wrapper puts in its Error.
#pragma once

#include <string>
#include <utility>

namespace ctw {

class Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status Error(std::string message) { return Status(std::move(message)); }

  bool ok() const { return message_.empty(); }
  const std::string& message() const { return message_; }

 private:
  explicit Status(std::string message) : message_(std::move(message)) {
    if (message_.empty()) message_ = "unknown error";
  }
  std::string message_;
};

}  // namespace ctw
