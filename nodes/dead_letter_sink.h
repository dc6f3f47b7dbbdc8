// DeadLetterSink: the file that keeps the rows rejected under errorHandling: skip-row, as CSV
// with the header line,byte_offset,stage,error_code,error_class,message,raw — line and
// byte_offset where the record starts, raw the record exactly as read (line ending excluded).
// Written atomically like every sink (it wraps a DelimitedSink for the file handling); Format()
// renders chunk.rejects. Same threading contract as SinkStage.
#pragma once

#include "core/config/pipeline_spec.h"
#include "core/engine/stages.h"
#include "nodes/delimited_sink.h"

namespace flowengine {

class DeadLetterSink final : public SinkStage {
 public:
  explicit DeadLetterSink(const DeadLetterSpec& spec);
  void SetRetryPolicy(const RetryPolicy& policy) { file_.SetRetryPolicy(policy); }
  void SetStopFlag(const std::atomic<bool>* stop) override { file_.SetStopFlag(stop); }

  void Check() const override { file_.Check(); }
  void Open() override { file_.Open(); }
  /// Renders chunk.rejects (`route` is ignored).
  void Format(const Chunk& chunk, int route, ByteBuffer& out) const override;
  void Write(const ByteBuffer& bytes) override { file_.Write(bytes); }
  AtomicFile& file() override { return file_.file(); }
  void Abort() noexcept override { file_.Abort(); }

 private:
  DelimitedSink file_;
};

}  // namespace flowengine
