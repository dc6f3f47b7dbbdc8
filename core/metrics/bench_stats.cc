#include "core/metrics/bench_stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace flowengine {

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

Spread Summarize(const std::vector<double>& values) {
  Spread s;
  if (values.empty()) return s;
  s.median = Median(values);
  const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  s.min = *lo;
  s.max = *hi;
  std::vector<double> deviations;
  deviations.reserve(values.size());
  for (double v : values) deviations.push_back(std::fabs(v - s.median));
  if (s.median != 0) s.robust_spread_percent = 1.4826 * Median(deviations) / s.median * 100;
  if (values.size() > 1) {
    const double n = static_cast<double>(values.size());
    const double mean = std::accumulate(values.begin(), values.end(), 0.0) / n;
    double squares = 0;
    for (double v : values) squares += (v - mean) * (v - mean);
    if (mean != 0) s.cv_percent = std::sqrt(squares / (n - 1)) / mean * 100;
  }
  return s;
}

}  // namespace flowengine
