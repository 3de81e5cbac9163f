// Status: how the core reports a call it cannot make.
//
// Errors travel as values, not C++ exceptions: Emscripten's default build
// turns a thrown exception into a bare pointer on the JS side and skips the
// destructors on the way. Every fallible core function returns a Status
// with a code, which tells the JS wrapper what to throw (an ArgumentError
// for an invalid argument, an Error otherwise), and a message that starts
// with the caller's op name and names the argument, the value and the rule.
#pragma once

#include <string>
#include <utility>

namespace ctw {

enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument = 1,  // the call breaks a rule of the op (or of a forced kernel)
  kOutOfMemory = 2,      // the call is valid but memory for it could not be had
  kInternal = 3,         // a broken promise between the core's own layers
};

class Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string message) { return Status(StatusCode::kInvalidArgument, std::move(message)); }
  static Status OutOfMemory(std::string message) { return Status(StatusCode::kOutOfMemory, std::move(message)); }
  static Status Internal(std::string message) { return Status(StatusCode::kInternal, std::move(message)); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {
    if (message_.empty()) message_ = "unknown error";
  }
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// The op name that starts every message: the caller's `name`, or
// TensorFlow's default when none was given.
inline std::string op_name_or_default(const std::string& name) { return name.empty() ? "conv_transpose" : name; }

}  // namespace ctw
