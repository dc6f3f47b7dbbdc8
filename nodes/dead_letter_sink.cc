#include "nodes/dead_letter_sink.h"

#include <string>

#include "core/csv/formatter.h"

namespace flowengine {
namespace {

SinkSpec DeadLetterFile(const DeadLetterSpec& spec) {
  SinkSpec sink;
  sink.path = spec.path;
  sink.dialect = Dialect::Csv();
  sink.mode = spec.mode;
  return sink;
}

}  // namespace

DeadLetterSink::DeadLetterSink(const DeadLetterSpec& spec)
    : file_(DeadLetterFile(spec), Dialect::Csv(),
            {"line", "byte_offset", "stage", "error_code", "error_class", "message", "column",
             "field", "script", "file", "raw"}) {}

void DeadLetterSink::Format(const Chunk& chunk, int /*route*/, ByteBuffer& out) const {
  out.Clear();
  if (chunk.rejects.empty()) return;
  const Dialect csv = Dialect::Csv();
  std::string text;
  for (const Reject& r : chunk.rejects) {
    const Error& e = r.error;
    text += std::to_string(r.line);
    text += ',';
    text += std::to_string(r.byte_offset);
    text += ',';
    AppendField(e.stage, csv, text);
    text += ',';
    AppendField(e.code, csv, text);
    text += ',';
    AppendField(ErrorClassName(e.error_class), csv, text);
    text += ',';
    AppendField(e.message, csv, text);
    text += ',';
    if (e.location.column > 0) text += std::to_string(e.location.column);
    text += ',';
    AppendField(e.location.field, csv, text);
    text += ',';
    AppendField(e.script, csv, text);
    text += ',';
    AppendField(chunk.block.file != nullptr ? *chunk.block.file : e.location.file, csv, text);
    text += ',';
    AppendField(std::string_view(chunk.block.bytes.data() + r.raw_begin, r.raw_end - r.raw_begin),
                csv, text);
    text += '\n';
  }
  out.Append(text.data(), text.size());
}

}  // namespace flowengine
