// The Prometheus text exposition format, version 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/), for core/metrics.h snapshots:
//   # HELP name text          (text: backslash and newline escaped)
//   # TYPE name counter|gauge|histogram
//   name{label="value",...} number
// with histograms as name_bucket{...,le="B"} (cumulative, ending with le="+Inf"), name_sum and
// name_count. Label values escape backslash, double quote and newline; numbers are the shortest
// decimal that reads back exactly, or +Inf, -Inf, NaN.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/metrics.h"

namespace sigil::metrics {

// The Content-Type of RenderText's output.
inline constexpr std::string_view kTextContentType = "text/plain; version=0.0.4; charset=utf-8";

std::string EscapeLabelValue(std::string_view value);
std::string FormatNumber(double value);
std::string RenderText(const std::vector<FamilySnapshot>& families);

}  // namespace sigil::metrics
