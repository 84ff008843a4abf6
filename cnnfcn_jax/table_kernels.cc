// CPU kernels of the pattern-table readout, called from JAX through XLA's FFI
// (cnnfcn_jax/table_kernels.py builds this file and says what each kernel computes).
//
//   cnnfcn_table_gather   table (B.., J, P), ids (B.., m, J) -> h (B.., m)
//                         h[x] = sum_j table[j, ids[x, j]]
//   cnnfcn_table_scatter  g (B.., m), ids (B.., m, J), attribute num_patterns = P
//                         -> grad (B.., J, P), grad[j, p] = sum_x g[x] [ids[x, j] == p]
//
// Leading batch axes come from jax.vmap (vmap_method "expand_dims"): every operand has the
// same number of them, each of size 1 (broadcast) or the output's size.
//
// The sums run in a fixed order that does not depend on the batch or the number of
// threads: h[x] adds its windows into four running sums (windows j mod 4) and then those;
// the scatter adds samples in chunks of kChunk in order and then the chunks in order. A
// network's result is therefore the same whatever else is batched with it and however
// many cores the machine has. Every row of ids is checked to lie in [0, P) before it is
// used (an error otherwise), and the scatter skips samples whose g is exactly 0.

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <type_traits>
#include <vector>

#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;

namespace {

constexpr int64_t kChunk = 4096;  // samples per work item (and per scatter partial sum)
constexpr int64_t kMinParallelWork = 1 << 18;  // ids below which the caller does it all

// Runs body(i) for i in [0, count) on the caller and the XLA CPU thread pool, and returns
// when every item is done. The caller works too, so this finishes even when no pool
// thread is free; late pool tasks find no item left and only touch the shared state.
void ParallelFor(ffi::ThreadPool& pool, int64_t count, int64_t work,
                 const std::function<void(int64_t)>& body) {
  int64_t threads = std::min<int64_t>(pool.num_threads(), count - 1);
  if (work < kMinParallelWork || threads <= 0) {
    for (int64_t i = 0; i < count; ++i) body(i);
    return;
  }
  struct State {
    std::atomic<int64_t> next{0};
    int64_t done = 0;
    std::mutex mutex;
    std::condition_variable all_done;
  };
  auto state = std::make_shared<State>();
  auto run = [state, count, body]() {
    for (int64_t i; (i = state->next.fetch_add(1)) < count;) {
      body(i);
      std::lock_guard<std::mutex> lock(state->mutex);
      if (++state->done == count) state->all_done.notify_all();
    }
  };
  for (int64_t t = 0; t < threads; ++t) pool.Schedule(std::function<void()>(run));
  run();
  std::unique_lock<std::mutex> lock(state->mutex);
  state->all_done.wait(lock, [&] { return state->done == count; });
}

// Offsets of each batch element into operands that broadcast over size-1 batch axes.
struct Batch {
  int64_t size = 1;
  std::vector<int64_t> dims;                  // the output's batch axes
  std::vector<std::vector<int64_t>> strides;  // per operand, in elements of one batch slot

  Batch(const std::vector<ffi::Span<const int64_t>>& operand_dims, int64_t batch_rank) {
    dims.assign(batch_rank, 1);
    for (const auto& d : operand_dims)
      for (int64_t a = 0; a < batch_rank; ++a) dims[a] = std::max(dims[a], d[a]);
    for (int64_t a = 0; a < batch_rank; ++a) size *= dims[a];
    for (const auto& d : operand_dims) {
      std::vector<int64_t> s(batch_rank, 0);
      int64_t stride = 1;
      for (int64_t a = batch_rank - 1; a >= 0; --a) {
        s[a] = d[a] == 1 ? 0 : stride;
        stride *= d[a];
      }
      strides.push_back(s);
    }
  }

  int64_t Offset(size_t operand, int64_t index) const {
    int64_t offset = 0;
    for (int64_t a = static_cast<int64_t>(dims.size()) - 1; a >= 0; --a) {
      offset += (index % dims[a]) * strides[operand][a];
      index /= dims[a];
    }
    return offset;
  }
};

// Whether every id of a row lies in [0, P), checked before the row is used: an id out of
// range would read or write outside the table. Every id is at most the bitwise OR of the
// row (negative int32 ids, as unsigned, exceed any P), and the OR vectorises; only when
// it is >= P (never for valid ids when P is a power of two) are the ids compared.
template <typename I>
bool RowInRange(const I* row, int64_t J, int64_t P) {
  using U = std::make_unsigned_t<I>;
  U any = 0;
  for (int64_t j = 0; j < J; ++j) any |= static_cast<U>(row[j]);
  if (static_cast<uint64_t>(any) < static_cast<uint64_t>(P)) return true;
  for (int64_t j = 0; j < J; ++j)
    if (static_cast<uint64_t>(static_cast<U>(row[j])) >= static_cast<uint64_t>(P)) return false;
  return true;
}

std::vector<ffi::Span<const int64_t>> Dims(std::initializer_list<ffi::AnyBuffer> buffers) {
  std::vector<ffi::Span<const int64_t>> out;
  for (const auto& b : buffers) out.push_back(b.dimensions());
  return out;
}

// Both kernels return false when an id is out of range (that row is left out).
template <typename F, typename I>
bool Gather(ffi::ThreadPool& pool, const F* table, const I* ids, F* h, const Batch& batch,
            int64_t m, int64_t J, int64_t P) {
  const int64_t chunks = (m + kChunk - 1) / kChunk;
  std::atomic<bool> in_range{true};
  ParallelFor(pool, batch.size * chunks, batch.size * m * J, [&](int64_t item) {
    const int64_t b = item / chunks, start = (item % chunks) * kChunk;
    const F* t = table + batch.Offset(0, b) * J * P;
    const I* id = ids + batch.Offset(1, b) * m * J;
    F* out = h + b * m;
    for (int64_t x = start; x < std::min(m, start + kChunk); ++x) {
      const I* row = id + x * J;
      if (!RowInRange(row, J, P)) {
        in_range = false;
        out[x] = 0;
        continue;
      }
      // Four running sums (windows j mod 4) keep four additions in flight.
      F s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      int64_t j = 0;
      for (; j + 4 <= J; j += 4) {
        s0 += t[j * P + row[j]];
        s1 += t[(j + 1) * P + row[j + 1]];
        s2 += t[(j + 2) * P + row[j + 2]];
        s3 += t[(j + 3) * P + row[j + 3]];
      }
      for (; j < J; ++j) s0 += t[j * P + row[j]];
      out[x] = (s0 + s1) + (s2 + s3);
    }
  });
  return in_range;
}

template <typename F, typename I>
bool Scatter(ffi::ThreadPool& pool, const F* g, const I* ids, F* grad, const Batch& batch,
             int64_t m, int64_t J, int64_t P) {
  const int64_t chunks = (m + kChunk - 1) / kChunk;
  if (chunks == 0) {  // no samples: a zero gradient
    std::fill(grad, grad + batch.size * J * P, F(0));
    return true;
  }
  std::vector<F> partial(batch.size * chunks * J * P);  // zero-initialised
  std::atomic<bool> in_range{true};
  ParallelFor(pool, batch.size * chunks, batch.size * m * J, [&](int64_t item) {
    const int64_t b = item / chunks, start = (item % chunks) * kChunk;
    const F* gb = g + batch.Offset(0, b) * m;
    const I* id = ids + batch.Offset(1, b) * m * J;
    F* acc = partial.data() + item * J * P;
    for (int64_t x = start; x < std::min(m, start + kChunk); ++x) {
      const F gx = gb[x];
      if (gx == F(0)) continue;  // exact: x adds nothing (e.g. hinge margin >= 1)
      const I* row = id + x * J;
      if (!RowInRange(row, J, P)) {
        in_range = false;
        continue;
      }
      for (int64_t j = 0; j < J; ++j) acc[j * P + row[j]] += gx;
    }
  });
  for (int64_t b = 0; b < batch.size; ++b) {
    F* out = grad + b * J * P;
    const F* first = partial.data() + b * chunks * J * P;
    std::copy(first, first + J * P, out);
    for (int64_t c = 1; c < chunks; ++c) {
      const F* part = first + c * J * P;
      for (int64_t i = 0; i < J * P; ++i) out[i] += part[i];
    }
  }
  return in_range;
}

// Calls fn(F(), I()) typed by the float operand's and the ids' element types; fn returns
// whether every id was in range.
template <typename Fn>
ffi::Error Dispatch(ffi::DataType float_type, ffi::DataType id_type, Fn&& fn) {
  auto with_ids = [&](auto float_zero) -> ffi::Error {
    using F = decltype(float_zero);
    bool in_range;
    switch (id_type) {
      case ffi::DataType::U8: in_range = fn(F(), uint8_t()); break;
      case ffi::DataType::U16: in_range = fn(F(), uint16_t()); break;
      case ffi::DataType::S32: in_range = fn(F(), int32_t()); break;
      default:
        return ffi::Error::InvalidArgument("pattern ids must be uint8, uint16 or int32");
    }
    if (!in_range)
      return ffi::Error::InvalidArgument("a pattern id lies outside [0, number of patterns)");
    return ffi::Error::Success();
  };
  switch (float_type) {
    case ffi::DataType::F32: return with_ids(float());
    case ffi::DataType::F64: return with_ids(double());
    default: return ffi::Error::InvalidArgument("the table must be float32 or float64");
  }
}

ffi::Error GatherImpl(ffi::ThreadPool pool, ffi::AnyBuffer table, ffi::AnyBuffer ids,
                      ffi::Result<ffi::AnyBuffer> h) {
  const auto t = table.dimensions(), d = ids.dimensions();
  const int64_t rank = static_cast<int64_t>(t.size()) - 2;
  if (rank < 0 || static_cast<int64_t>(d.size()) != rank + 2 || d[rank + 1] != t[rank])
    return ffi::Error::InvalidArgument("table (..., J, P) and ids (..., m, J) disagree");
  const int64_t J = t[rank], P = t[rank + 1], m = d[rank];
  const Batch batch(Dims({table, ids}), rank);
  return Dispatch(table.element_type(), ids.element_type(), [&](auto f, auto i) {
    using F = decltype(f);
    using I = decltype(i);
    return Gather<F, I>(pool, table.typed_data<F>(), ids.typed_data<I>(), h->typed_data<F>(), batch,
                 m, J, P);
  });
}

ffi::Error ScatterImpl(ffi::ThreadPool pool, ffi::AnyBuffer g, ffi::AnyBuffer ids,
                       ffi::Result<ffi::AnyBuffer> grad, int64_t num_patterns) {
  const auto gd = g.dimensions(), d = ids.dimensions();
  const int64_t rank = static_cast<int64_t>(gd.size()) - 1;
  if (rank < 0 || static_cast<int64_t>(d.size()) != rank + 2 || d[rank] != gd[rank])
    return ffi::Error::InvalidArgument("g (..., m) and ids (..., m, J) disagree");
  const int64_t m = gd[rank], J = d[rank + 1];
  const Batch batch(Dims({g, ids}), rank);
  return Dispatch(g.element_type(), ids.element_type(), [&](auto f, auto i) {
    using F = decltype(f);
    using I = decltype(i);
    return Scatter<F, I>(pool, g.typed_data<F>(), ids.typed_data<I>(), grad->typed_data<F>(), batch,
                  m, J, num_patterns);
  });
}

}  // namespace

XLA_FFI_DEFINE_HANDLER_SYMBOL(CnnfcnTableGather, GatherImpl,
                              ffi::Ffi::Bind()
                                  .Ctx<ffi::ThreadPool>()
                                  .Arg<ffi::AnyBuffer>()
                                  .Arg<ffi::AnyBuffer>()
                                  .Ret<ffi::AnyBuffer>());

XLA_FFI_DEFINE_HANDLER_SYMBOL(CnnfcnTableScatter, ScatterImpl,
                              ffi::Ffi::Bind()
                                  .Ctx<ffi::ThreadPool>()
                                  .Arg<ffi::AnyBuffer>()
                                  .Arg<ffi::AnyBuffer>()
                                  .Ret<ffi::AnyBuffer>()
                                  .Attr<int64_t>("num_patterns"));
