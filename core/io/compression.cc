#include "core/io/compression.h"

#include <zlib.h>
#include <zstd.h>

#include <cstring>
#include <stdexcept>

namespace flowengine {

std::string_view CompressionName(Compression c) {
  switch (c) {
    case Compression::kGzip:
      return "gzip";
    case Compression::kZstd:
      return "zstd";
    case Compression::kNone:
      break;
  }
  return "none";
}

Compression DetectCompression(const char* head, size_t size) {
  const auto* b = reinterpret_cast<const unsigned char*>(head);
  if (size >= 2 && b[0] == 0x1f && b[1] == 0x8b) return Compression::kGzip;
  if (size >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd) {
    return Compression::kZstd;
  }
  return Compression::kNone;
}

Compression CompressionForPath(std::string_view path) {
  const auto ends = [&](std::string_view suffix) {
    return path.size() >= suffix.size() && path.substr(path.size() - suffix.size()) == suffix;
  };
  if (ends(".gz")) return Compression::kGzip;
  if (ends(".zst") || ends(".zstd")) return Compression::kZstd;
  return Compression::kNone;
}

void CompressMember(Compression c, const char* data, size_t size, ByteBuffer& out) {
  const size_t at = out.size();
  if (c == Compression::kZstd) {
    const size_t bound = ZSTD_compressBound(size);
    out.Resize(at + bound);
    const size_t n = ZSTD_compress(out.data() + at, bound, data, size, 3);
    if (ZSTD_isError(n)) throw std::runtime_error(ZSTD_getErrorName(n));
    out.Resize(at + n);
    return;
  }
  if (c != Compression::kGzip) {
    out.Append(data, size);
    return;
  }
  z_stream zs{};
  // windowBits 15 + 16: a gzip header and trailer around the deflate data.
  if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("deflateInit2 failed");
  }
  const uLong bound = deflateBound(&zs, static_cast<uLong>(size)) + 32;
  out.Resize(at + bound);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data));
  zs.avail_in = static_cast<uInt>(size);
  zs.next_out = reinterpret_cast<Bytef*>(out.data() + at);
  zs.avail_out = static_cast<uInt>(bound);
  const int rc = deflate(&zs, Z_FINISH);
  const size_t produced = bound - zs.avail_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) throw std::runtime_error("deflate did not finish");
  out.Resize(at + produced);
}

struct Decompressor::State {
  z_stream zs{};
  bool zs_ready = false;
  bool member_open = false;  // gzip: inside a member (its end not seen yet)
  ZSTD_DCtx* dctx = nullptr;
  size_t zstd_hint = 0;  // ZSTD_decompressStream's last result: 0 at the end of a frame
  bool any_input = false;
};

Decompressor::Decompressor(Compression c) : kind_(c), state_(std::make_unique<State>()) {
  if (c == Compression::kZstd) {
    state_->dctx = ZSTD_createDCtx();
    if (state_->dctx == nullptr) throw std::runtime_error("ZSTD_createDCtx failed");
  } else if (c == Compression::kGzip) {
    if (inflateInit2(&state_->zs, 15 + 16) != Z_OK) throw std::runtime_error("inflateInit2 failed");
    state_->zs_ready = true;
  }
}

Decompressor::~Decompressor() {
  if (state_->zs_ready) inflateEnd(&state_->zs);
  if (state_->dctx != nullptr) ZSTD_freeDCtx(state_->dctx);
}

size_t Decompressor::Feed(const char* data, size_t size, ByteBuffer& out, size_t max_out,
                          std::string* problem) {
  State& s = *state_;
  if (size > 0) s.any_input = true;
  constexpr size_t kStep = 256 * 1024;
  size_t used = 0;
  if (kind_ == Compression::kZstd) {
    ZSTD_inBuffer in{data, size, 0};
    do {
      const size_t before = in.pos;
      const size_t at = out.size();
      out.Resize(at + kStep);
      ZSTD_outBuffer o{out.data() + at, kStep, 0};
      const size_t rc = ZSTD_decompressStream(s.dctx, &o, &in);
      out.Resize(at + o.pos);
      if (ZSTD_isError(rc)) {
        *problem = std::string("invalid zstd data at compressed byte ") +
                   std::to_string(consumed_ + static_cast<int64_t>(in.pos)) + ": " +
                   ZSTD_getErrorName(rc);
        pending_ = false;
        break;
      }
      // Called without input after a frame ended, the decoder answers with the size of the
      // next frame's header: only a call that moved data says where a frame stands.
      if (o.pos > 0 || in.pos > before) s.zstd_hint = rc;
      pending_ = o.pos == kStep;  // the output was full: more may be held
      if (!pending_ && in.pos == in.size) break;
      if (!pending_ && o.pos == 0 && in.pos == before) {
        *problem = "the zstd decoder made no progress";
        break;
      }
    } while (out.size() < max_out);
    used = in.pos;
  } else if (kind_ == Compression::kGzip) {
    z_stream& zs = s.zs;
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data));
    zs.avail_in = static_cast<uInt>(size);
    while (out.size() < max_out) {
      if (!s.member_open) {
        if (zs.avail_in == 0) break;
        // A new member must start with the gzip magic: other bytes after a member are not
        // dropped silently (as `gzip -d` does with a warning) but reported.
        if (zs.next_in[0] != 0x1f) {
          *problem = "data after the end of the last gzip member at compressed byte " +
                     std::to_string(consumed_ + static_cast<int64_t>(size - zs.avail_in));
          break;
        }
        s.member_open = true;
      }
      const uInt before_in = zs.avail_in;
      const size_t at = out.size();
      out.Resize(at + kStep);
      zs.next_out = reinterpret_cast<Bytef*>(out.data() + at);
      zs.avail_out = static_cast<uInt>(kStep);
      const int rc = inflate(&zs, Z_NO_FLUSH);
      const size_t produced = kStep - zs.avail_out;
      out.Resize(at + produced);
      pending_ = zs.avail_out == 0;
      if (rc == Z_STREAM_END) {
        s.member_open = false;
        pending_ = false;
        inflateReset(&zs);
        continue;
      }
      if (rc != Z_OK && rc != Z_BUF_ERROR) {
        *problem = std::string("invalid gzip data at compressed byte ") +
                   std::to_string(consumed_ + static_cast<int64_t>(size - zs.avail_in)) + ": " +
                   (zs.msg != nullptr ? zs.msg : "inflate error " + std::to_string(rc));
        pending_ = false;
        break;
      }
      if (!pending_ && zs.avail_in == 0) break;  // all input used, all output given
      if (!pending_ && produced == 0 && zs.avail_in == before_in) {
        *problem = "the gzip decoder made no progress";
        break;
      }
    }
    used = size - zs.avail_in;
  } else {
    out.Append(data, size);
    used = size;
  }
  consumed_ += static_cast<int64_t>(used);
  return used;
}

std::string Decompressor::Finish() const {
  if (kind_ == Compression::kGzip && state_->member_open) {
    return "the compressed input ends inside a gzip member (truncated?) after " +
           std::to_string(consumed_) + " compressed bytes";
  }
  if (kind_ == Compression::kZstd && (state_->zstd_hint != 0 || !state_->any_input)) {
    return "the compressed input ends inside a zstd frame (truncated?) after " +
           std::to_string(consumed_) + " compressed bytes";
  }
  return "";
}

}  // namespace flowengine
