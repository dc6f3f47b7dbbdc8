// The per-64-byte classification every kernel computes (see parse_loop_impl.h). Included by
// kernel_*.cc inside their anonymous namespace.

// Bit i is set when byte i of the 64-byte chunk is that character.
struct Masks {
  uint64_t quote;
  uint64_t delimiter;
  uint64_t lf;
  uint64_t cr;
};
