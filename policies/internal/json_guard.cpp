#include "policies/internal/json_guard.h"

#include <cctype>
#include <set>
#include <string>
#include <vector>

#include "core/json.h"
#include "policies/internal/text.h"

namespace sigil::policy::internal {

namespace {

bool IsPlainKey(std::string_view k) {
  if (k.empty() || k.size() > 64) return false;
  for (char c : k) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

// SAX handler that tracks the path of open containers; it never stores values.
class StructureChecker final : public nlohmann::json_sax<Json> {
 public:
  explicit StructureChecker(int max_depth) : max_depth_(max_depth) {}

  bool null() override { return Value(); }
  bool boolean(bool) override { return Value(); }
  bool number_integer(number_integer_t) override { return Value(); }
  bool number_unsigned(number_unsigned_t) override { return Value(); }
  bool number_float(number_float_t, const string_t&) override { return Value(); }
  bool string(string_t&) override { return Value(); }
  bool binary(binary_t&) override { return Value(); }
  bool start_object(std::size_t) override { return Open(true); }
  bool start_array(std::size_t) override { return Open(false); }
  bool end_object() override { return Close(); }
  bool end_array() override { return Close(); }

  bool key(string_t& k) override {
    Frame& f = frames_.back();
    if (!f.keys.insert(k).second) {
      problem_ = PathOf(frames_.size() - 1) + ": duplicate key " + Quote(k);
      return false;
    }
    f.key = k;
    return true;
  }

  // Syntax errors are left to ParseJson, which reports them with their byte offset.
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

  const std::string& problem() const { return problem_; }

 private:
  struct Frame {
    bool is_object = false;
    std::set<std::string> keys;
    std::string key;
    std::size_t count = 0;  // arrays: elements begun so far
  };

  bool Value() {
    if (!frames_.empty() && !frames_.back().is_object) ++frames_.back().count;
    return true;
  }

  bool Open(bool is_object) {
    Value();
    if (static_cast<int>(frames_.size()) >= max_depth_) {
      problem_ =
          PathOf(frames_.size()) + ": nested deeper than " + std::to_string(max_depth_) + " levels";
      return false;
    }
    frames_.push_back(Frame{is_object, {}, {}, 0});
    return true;
  }

  bool Close() {
    frames_.pop_back();
    return true;
  }

  // The JSON path of the container at depth `n` (0 = the root).
  std::string PathOf(std::size_t n) const {
    std::string path = "$";
    for (std::size_t i = 0; i < n; ++i) {
      const Frame& f = frames_[i];
      // Appended piecewise: `"[" + std::string` trips GCC 12's false -Wrestrict at -O3.
      if (!f.is_object) {
        path.append("[").append(std::to_string(f.count - 1)).append("]");
      } else if (IsPlainKey(f.key)) {
        path.append(".").append(f.key);
      } else {
        path.append("[").append(Quote(f.key)).append("]");
      }
    }
    return path;
  }

  int max_depth_;
  std::vector<Frame> frames_;
  std::string problem_;
};

}  // namespace

Result<void> CheckJsonStructure(std::string_view text, int max_depth) {
  StructureChecker checker(max_depth);
  try {
    Json::sax_parse(text.begin(), text.end(), &checker, Json::input_format_t::json,
                    /*strict=*/true, /*ignore_comments=*/true);
  } catch (const std::exception& e) {
    return Fail(Code::kInvalidArgument, std::string("$: cannot parse: ") + e.what());
  }
  if (!checker.problem().empty()) return Fail(Code::kInvalidArgument, checker.problem());
  return Ok();
}

}  // namespace sigil::policy::internal
