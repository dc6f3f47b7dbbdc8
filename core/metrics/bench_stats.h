// Summary statistics of repeated measurements, for `flowengine bench` and the repo's own
// benchmark harnesses: median, min, max, the robust spread (1.4826 x median absolute
// deviation / median: one run disturbed by the machine does not move it, a drifting or
// bimodal set does) and the coefficient of variation (standard deviation / mean).
// Pure functions; thread-safe.
#pragma once

#include <vector>

namespace flowengine {

struct Spread {
  double median = 0;
  double min = 0;
  double max = 0;
  double robust_spread_percent = 0;  ///< 1.4826 x MAD / median x 100 (0 for one sample)
  double cv_percent = 0;             ///< sample standard deviation / mean x 100
};

/// The median of `values` (the mean of the two middle ones for an even count); 0 if empty.
double Median(std::vector<double> values);

/// Summarizes `values` (all zero if empty).
Spread Summarize(const std::vector<double>& values);

}  // namespace flowengine
