// The scanning loops shared by every kernel, written once and compiled per instruction set.
// Included by kernel_*.cc inside an anonymous namespace after they define `struct Masks`
// (parse_loop_masks.h) and `struct Simd` with, defined inline so that they inline:
//   static Masks Classify(const char* p, char delimiter, char quote);  // 64 bytes at p
//   static uint64_t PrefixXor(uint64_t bits);  // bit i = xor of bits 0..i
// Nothing here may call an inline function or template shared with other translation
// units: each kernel file is compiled with its own -m flags, and a shared weak symbol could
// leak its instructions into code that runs on any CPU. Hence builtins, plain loops, and
// functions and templates of this file only (internal linkage: the anonymous namespace).

inline uint64_t LowBits(size_t n) { return n >= 64 ? ~uint64_t{0} : (uint64_t{1} << n) - 1; }

// Bits of the bytes escaped by a backslash: those after an odd run of escape characters.
// `escapes` marks the escape characters of a 64-byte chunk; `*carry` is 1 when the previous
// chunk's last byte escapes this chunk's first byte, and is updated for the next chunk.
// Runs of escapes starting on even and odd bits are told apart with one carry-propagating
// addition, so the cost does not depend on the data.
inline uint64_t EscapedBits(uint64_t escapes, uint64_t* carry) {
  const uint64_t even = 0x5555555555555555ull;
  escapes &= ~*carry;  // an escaped escape character escapes nothing
  const uint64_t follows = (escapes << 1) | *carry;
  const uint64_t odd_starts = escapes & ~even & ~follows;
  uint64_t sums;
  *carry = __builtin_add_overflow(odd_starts, escapes, &sums) ? 1 : 0;
  return (even ^ (sums << 1)) & follows;
}

// The characters a scan looks for: quote 0 disables quoting, escape 0 disables escapes.
struct ScanChars {
  char delimiter;
  char quote;
  char escape;
};

// Classifies the 64 bytes at data + base, keeping bits below `size`, and computes the line
// ends: LF, and CR not followed by LF. The CR test looks at the raw next byte, which may lie
// past `size` (the real next byte, or zero padding). With an escape character, escaped
// quotes and delimiters are not structural (escaped line breaks still end lines: the parse
// reports them as bad escapes); `escape_carry` carries an escape across chunks.
template <bool kEscapes>
inline Masks ClassifyChunk(const char* data, size_t base, size_t size, const ScanChars& chars,
                           uint64_t* line_ends, uint64_t* escape_carry) {
  Masks m = Simd::Classify(data + base, chars.delimiter, chars.quote);
  uint64_t cr_before_lf = (m.lf >> 1) | (data[base + 64] == '\n' ? uint64_t{1} << 63 : 0);
  uint64_t valid = LowBits(size - base);
  m.quote &= chars.quote != 0 ? valid : 0;
  m.delimiter &= valid;
  m.lf &= valid;
  m.cr &= valid;
  if constexpr (kEscapes) {
    const uint64_t escapes = Simd::Classify(data + base, chars.escape, chars.escape).delimiter;
    const uint64_t escaped = EscapedBits(escapes & valid, escape_carry);
    m.quote &= ~escaped;
    m.delimiter &= ~escaped;
  }
  *line_ends = m.lf | (m.cr & ~cr_before_lf);
  return m;
}

// Quotes where quote parity and the record grammar (grammar.h) may disagree: an opening
// quote (by parity) that does not start a field — its previous byte is no delimiter or line
// byte, nor (with doubled quotes) a closing quote — and a closing quote followed by anything
// but a delimiter, a line byte or (doubled quotes) another quote. Without such quotes,
// parity and grammar agree on every record end. A closing quote at size - 1 is not checked:
// its record cannot end before `size` anyway. `*sep_carry` / `*closer_carry` carry bit 63 of
// the separators and closing quotes to the next chunk.
inline uint64_t ParityAnomalies(const Masks& m, uint64_t inside, const char* data, size_t base,
                                size_t size, const ScanChars& chars, uint64_t* sep_carry,
                                uint64_t* closer_carry) {
  const uint64_t seps = m.delimiter | m.lf | m.cr;
  uint64_t anomalies = 0;
  uint64_t closers = 0;
  if (m.quote != 0) {
    const uint64_t doubled = chars.escape == 0 ? ~uint64_t{0} : 0;
    const uint64_t openers = m.quote & inside;
    closers = m.quote & ~inside;
    const uint64_t prev_ok =
        (seps << 1) | *sep_carry | (((closers << 1) | *closer_carry) & doubled);
    uint64_t next_ok = (seps | (m.quote & doubled)) >> 1;
    if (base + 64 < size) {
      const char n = data[base + 64];
      if (n == chars.delimiter || n == '\n' || n == '\r' || (n == chars.quote && doubled != 0)) {
        next_ok |= uint64_t{1} << 63;
      }
    }
    anomalies = (openers & ~prev_ok) | (closers & ~next_ok & LowBits(size - 1 - base));
  }
  *sep_carry = seps >> 63;
  *closer_carry = closers >> 63;
  return anomalies;
}

// The loops are compiled twice: without escapes (the RFC 4180 fast path) and with them.
// The boundary scan runs on quote parity; where a quote makes parity and grammar disagree
// (ParityAnomalies), the record holding it is scanned by the grammar and parity restarts
// after it, so records after a stray quote are found as the grammar says.
template <bool kEscapes>
BoundaryResult FindBoundaryT(const char* data, size_t size, char delimiter, char quote, char escape,
                             bool at_eof) {
  BoundaryResult result;
  const ScanChars chars{delimiter, quote, escape};
  size_t record_start = 0;    // where the last record found so far ends
  int64_t lines_at_end = 0;   // line breaks in [0, record_start) (while parity was never off)
  int64_t delims_at_end = 0;  // delimiters in [0, record_start) (ditto)
  bool used_grammar = false;
  size_t start = 0;  // the parity scan (re)starts here, at a record boundary
  bool rescan = true;
  while (rescan) {
    rescan = false;
    uint64_t inside_carry = 0;
    uint64_t escape_carry = 0;
    uint64_t sep_carry = 1;  // the scan starts at a record boundary
    uint64_t closer_carry = 0;
    int64_t lines = 0;
    int64_t delimiters = 0;
    for (size_t base = start; base < size; base += 64) {
      uint64_t ends;
      Masks m = ClassifyChunk<kEscapes>(data, base, size, chars, &ends, &escape_carry);
      uint64_t inside = Simd::PrefixXor(m.quote) ^ inside_carry;
      inside_carry = static_cast<uint64_t>(static_cast<int64_t>(inside) >> 63);
      uint64_t record_ends = ends & ~inside;
      const uint64_t anomalies =
          ParityAnomalies(m, inside, data, base, size, chars, &sep_carry, &closer_carry);
      if (anomalies != 0) {
        // Record ends before the first anomaly are right; the record holding it is scanned
        // by the grammar, and parity restarts where that record ends.
        record_ends &= LowBits(static_cast<size_t>(__builtin_ctzll(anomalies)));
        if (record_ends != 0) {
          record_start = base + static_cast<size_t>(63 - __builtin_clzll(record_ends)) + 1;
        }
        used_grammar = true;
        // Before the end of the input, data[size] is the real next byte: it tells whether a
        // CR at size - 1 is a line ending, as for the parity scan.
        const RecordScan rec = ScanRecordForKernel(data, record_start, at_eof ? size : size + 1,
                                                   delimiter, quote, escape, at_eof);
        if (rec.end == RecordEnd::kLineEnding && rec.next <= size) {
          record_start = start = rec.next;
          rescan = start < size;
        } else if (rec.end == RecordEnd::kEndOfData) {
          record_start = size;
        }
        break;
      }
      if (record_ends != 0) {
        const int bit = 63 - __builtin_clzll(record_ends);
        const uint64_t upto = LowBits(static_cast<size_t>(bit) + 1);
        record_start = base + static_cast<size_t>(bit) + 1;
        lines_at_end = lines + __builtin_popcountll(ends & upto);
        delims_at_end = delimiters + __builtin_popcountll(m.delimiter & upto);
      }
      lines += __builtin_popcountll(ends);
      delimiters += __builtin_popcountll(m.delimiter);
    }
    if (!rescan && !used_grammar && at_eof) {
      record_start = size;
      lines_at_end = lines;
      delims_at_end = delimiters;
    }
  }
  if (at_eof) record_start = size;
  result.end = record_start;
  if (used_grammar) {
    const BoundaryResult counts =
        CountLinesAndDelimiters(data, record_start, delimiter, quote, escape);
    result.line_count = counts.line_count;
    result.delimiter_count = counts.delimiter_count;
  } else {
    result.line_count = lines_at_end;
    result.delimiter_count = delims_at_end;
  }
  return result;
}

void MarkSpecialImpl(const char* data, size_t size, char delimiter, char quote, uint64_t* out) {
  for (size_t base = 0; base < size; base += 64) {
    Masks m = Simd::Classify(data + base, delimiter, quote);
    out[base / 64] = (m.quote | m.delimiter | m.lf | m.cr) & LowBits(size - base);
  }
}

// First quote in [from, to) not followed by another quote, skipping doubled pairs; returns
// `to` when every quote is doubled. `*escaped` is set when a pair was seen. With an escape
// character, escaped bytes are skipped instead and quotes are never doubled.
inline size_t FindLoneQuote(const char* data, size_t from, size_t to, char quote, char escape,
                            bool* escaped) {
  for (size_t i = from; i < to; ++i) {
    if (escape != 0 && data[i] == escape) {
      *escaped = true;
      ++i;
      continue;
    }
    if (data[i] != quote) continue;
    if (escape == 0 && i + 1 < to && data[i + 1] == quote) {
      *escaped = true;
      ++i;
      continue;
    }
    return i;
  }
  return to;
}

// First quote in [from, to) that is not escaped, or `to`.
inline size_t FirstQuote(const ParseArgs& a, size_t from, size_t to) {
  size_t q = from;
  while (q < to && a.data[q] != a.quote) q += (a.escape != 0 && a.data[q] == a.escape) ? 2 : 1;
  return q < to ? q : to;
}

// With backslash escapes: the first bad escape in [from, to) (an escape character followed
// by anything but ", the escape, n, t, r or the delimiter, or by nothing), or `to`.
// `*found` is set when the range holds an escape.
inline size_t FindBadEscape(const ParseArgs& a, size_t from, size_t to, bool* found) {
  for (size_t i = from; i < to; ++i) {
    if (a.data[i] != a.escape) continue;
    *found = true;
    if (i + 1 >= to) return i;
    const char c = a.data[i + 1];
    if (!(c == a.escape || c == 'n' || c == 't' || c == 'r' || c == a.delimiter || c == '"')) {
      return i;
    }
    ++i;
  }
  return to;
}

struct ParseState {
  const ParseArgs* args;
  ParseResult result;
  size_t field_start = 0;
  size_t record_start = 0;
  uint32_t record_line = 0;
  uint32_t column = 0;  // fields already stored for the current record
  FieldSpan* row_fields;
};

// The span of field [state.field_start, end) when it is quoted or may hold escapes; false on
// error (state.result set). No function calls here or in the loop that inlines it: a call
// site in the AVX2 loop makes the compiler give up keeping its vector constants in
// registers (the parse measured 15% slower).
template <bool kEscapes>
inline bool QuotedOrEscapedSpan(ParseState& s, size_t end, bool has_quote, FieldSpan* span) {
  const ParseArgs& a = *s.args;
  const size_t begin = s.field_start;
  if constexpr (kEscapes) {
    if (!has_quote) {  // an unquoted field that may hold escapes
      span->offset = static_cast<uint32_t>(begin);
      span->length_and_flags = static_cast<uint32_t>(end - begin);
      bool found = false;
      const size_t bad = FindBadEscape(a, begin, end, &found);
      if (bad != end) {
        s.result.status = ScanStatus::kBadEscape;
        s.result.error_offset = bad;
        return false;
      }
      if (found) span->length_and_flags |= FieldSpan::kEscaped;
      return true;
    }
  }
  if (a.data[begin] != a.quote) {
    s.result.status = ScanStatus::kStrayQuote;
    s.result.error_offset = FirstQuote(a, begin, end);
    return false;
  }
  bool escaped = false;
  size_t lone = FindLoneQuote(a.data, begin + 1, end, a.quote, a.escape, &escaped);
  if (lone + 1 != end) {  // the closing quote must be the field's last byte
    s.result.status = ScanStatus::kAfterQuote;
    s.result.error_offset = lone + 1;
    return false;
  }
  if constexpr (kEscapes) {
    if (escaped) {
      bool found = false;
      const size_t bad = FindBadEscape(a, begin + 1, end - 1, &found);
      if (bad != end - 1) {
        s.result.status = ScanStatus::kBadEscape;
        s.result.error_offset = bad;
        return false;
      }
    }
  }
  span->offset = static_cast<uint32_t>(begin + 1);
  span->length_and_flags = static_cast<uint32_t>(end - begin - 2) | FieldSpan::kQuoted |
                           (escaped ? FieldSpan::kEscaped : 0u);
  return true;
}

// Stores field [state.field_start, end); false on error (state.result set). The plain
// field (no quote, no escape character in the dialect) stays inline in the loop.
template <bool kEscapes>
__attribute__((always_inline)) inline bool StoreField(ParseState& s, size_t end, bool has_quote) {
  const ParseArgs& a = *s.args;
  const size_t begin = s.field_start;
  FieldSpan span{static_cast<uint32_t>(begin), static_cast<uint32_t>(end - begin)};
  if ((has_quote || kEscapes) && !QuotedOrEscapedSpan<kEscapes>(s, end, has_quote, &span)) {
    return false;
  }
  if (s.column >= a.num_columns) {
    s.result.status = ScanStatus::kFieldCount;
    s.result.error_offset = begin;
    return false;
  }
  s.row_fields[s.column++] = span;
  return true;
}

// Ends the record whose last field ends at `end`; false on error.
template <bool kEscapes>
inline bool EndRecord(ParseState& s, size_t end, bool has_quote) {
  const ParseArgs& a = *s.args;
  if (s.column == 0 && end == s.field_start && !has_quote && !a.keep_blank_lines) {
    return true;  // blank line
  }
  if (!StoreField<kEscapes>(s, end, has_quote)) return false;
  if (s.column != a.num_columns) {
    s.result.status = ScanStatus::kFieldCount;
    s.result.error_offset = end;
    return false;
  }
  RowInfo& row = a.rows[s.result.num_rows++];
  row.line_delta = s.record_line;
  row.begin = static_cast<uint32_t>(s.record_start);
  row.end = static_cast<uint32_t>(end);
  s.row_fields += a.num_columns;
  s.column = 0;
  return true;
}

template <bool kEscapes>
ParseResult ParseT(const ParseArgs& a) {
  ParseState s;
  s.args = &a;
  s.row_fields = a.fields;
  const char* data = a.data;
  const ScanChars chars{a.delimiter, a.quote, a.escape};
  uint64_t inside_carry = 0;
  uint64_t escape_carry = 0;
  uint32_t lines_before = 0;
  bool quote_carry = false;  // a quote was seen in the current field in earlier chunks
  bool ok = true;
  for (size_t base = 0; base < a.size && ok; base += 64) {
    uint64_t ends;
    Masks m = ClassifyChunk<kEscapes>(data, base, a.size, chars, &ends, &escape_carry);
    uint64_t inside = Simd::PrefixXor(m.quote) ^ inside_carry;
    inside_carry = static_cast<uint64_t>(static_cast<int64_t>(inside) >> 63);
    uint64_t structural = (m.delimiter | ends) & ~inside;
    while (structural != 0) {
      const size_t bit = static_cast<size_t>(__builtin_ctzll(structural));
      const size_t pos = base + bit;
      const size_t from = s.field_start > base ? s.field_start - base : 0;
      const bool has_quote = quote_carry || (m.quote & LowBits(bit) & ~LowBits(from)) != 0;
      quote_carry = false;
      if ((ends >> bit) & 1) {
        size_t end = pos;
        if (data[pos] == '\n' && pos > s.field_start && data[pos - 1] == '\r') end = pos - 1;
        if (!EndRecord<kEscapes>(s, end, has_quote)) {
          ok = false;
          break;
        }
        s.record_start = pos + 1;
        s.record_line =
            lines_before + static_cast<uint32_t>(__builtin_popcountll(ends & LowBits(bit + 1)));
      } else if (!StoreField<kEscapes>(s, pos, has_quote)) {
        ok = false;
        break;
      }
      s.field_start = pos + 1;
      structural &= structural - 1;
    }
    if (!ok) break;
    const size_t from = s.field_start > base ? s.field_start - base : 0;
    quote_carry = quote_carry || (m.quote & ~LowBits(from)) != 0;  // fields span chunks
    lines_before += static_cast<uint32_t>(__builtin_popcountll(ends));
  }
  if (ok) {
    if (inside_carry != 0) {
      // Open quotes at the end of the block: the grammar says whether the record has a stray
      // or misplaced quote, or really an unterminated quoted field.
      const RecordScan rec = ScanRecordForKernel(data, s.record_start, a.size, a.delimiter, a.quote,
                                                 a.escape, /*at_eof=*/true);
      s.result.status =
          rec.problem != ScanStatus::kOk ? rec.problem : ScanStatus::kUnterminatedQuote;
      s.result.error_offset = rec.problem != ScanStatus::kOk ? rec.problem_offset
                                                             : FirstQuote(a, s.field_start, a.size);
    } else if (s.field_start < a.size || s.column > 0) {
      EndRecord<kEscapes>(s, a.size, quote_carry);
    }
  }
  if (s.result.status != ScanStatus::kOk) {
    s.result.error_record_begin = s.record_start;
    s.result.error_record_line = s.record_line;
  }
  return s.result;
}

BoundaryResult FindBoundaryImpl(const char* data, size_t size, char delimiter, char quote,
                                char escape, bool at_eof) {
  return escape != 0 ? FindBoundaryT<true>(data, size, delimiter, quote, escape, at_eof)
                     : FindBoundaryT<false>(data, size, delimiter, quote, escape, at_eof);
}

ParseResult ParseImpl(const ParseArgs& a) {
  return a.escape != 0 ? ParseT<true>(a) : ParseT<false>(a);
}
