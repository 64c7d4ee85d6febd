#include "core/metrics_text.h"

#include <charconv>
#include <cmath>

namespace sigil::metrics {
namespace {

std::string EscapeHelp(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string_view TypeName(Type t) {
  switch (t) {
    case Type::kCounter: return "counter";
    case Type::kGauge: return "gauge";
    case Type::kHistogram: return "histogram";
  }
  return "untyped";
}

// name{a="x",b="y"[,le="B"]} value
void Line(std::string& out, std::string_view name, const FamilySnapshot& f, const SeriesSnapshot& s,
          const std::string* le, const std::string& value) {
  out += name;
  if (!f.label_names.empty() || le != nullptr) {
    out += '{';
    for (std::size_t i = 0; i < f.label_names.size(); ++i) {
      if (i > 0) out += ',';
      out += f.label_names[i] + "=\"" + EscapeLabelValue(s.labels[i]) + '"';
    }
    if (le != nullptr) out += std::string(f.label_names.empty() ? "" : ",") + "le=\"" + *le + '"';
    out += '}';
  }
  out += ' ';
  out += value;
  out += '\n';
}

}  // namespace

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatNumber(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, value);  // shortest round-trip form
  return std::string(buf, r.ptr);
}

std::string RenderText(const std::vector<FamilySnapshot>& families) {
  std::string out;
  for (const FamilySnapshot& f : families) {
    out += "# HELP " + f.name + " " + EscapeHelp(f.help) + "\n";
    out += "# TYPE " + f.name + " " + std::string(TypeName(f.type)) + "\n";
    for (const SeriesSnapshot& s : f.series) {
      if (f.type != Type::kHistogram) {
        Line(out, f.name, f, s, nullptr, FormatNumber(s.value));
        continue;
      }
      const std::string bucket = f.name + "_bucket";
      for (std::size_t i = 0; i < f.bounds.size(); ++i) {
        const std::string le = FormatNumber(f.bounds[i]);
        Line(out, bucket, f, s, &le, std::to_string(s.buckets[i]));
      }
      const std::string inf = "+Inf";
      Line(out, bucket, f, s, &inf, std::to_string(s.count));
      Line(out, f.name + "_sum", f, s, nullptr, FormatNumber(s.sum));
      Line(out, f.name + "_count", f, s, nullptr, std::to_string(s.count));
    }
  }
  return out;
}

}  // namespace sigil::metrics
