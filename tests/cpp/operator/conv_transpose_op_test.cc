// The operator's life (create, pack, reshape, run) and the rules it owns:
// status codes and the op's name on every message, the reshape kept while
// shapes repeat, and the memory budget of the kernel that really runs.
// (Results against the reference: tests/cpp/kernels/kernel_test.cc.)
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "operator/conv_transpose_op.h"
#include "operator/kernel_choice.h"
#include "runtime/thread_pool.h"
#include "semantics/plan.h"
#include "test_util.h"

namespace {

using ctw::ConvTransposeOp;
using ctw::DType;
using ctw::KernelKind;
using ctw::StatusCode;
using ctw_test::IsErrorWith;
using ctw_test::IsOk;
using V = std::vector<int64_t>;

// 3x3 filters, stride 2, SAME, NHWC: cin -> cout channels.
ctw::FilterArgs filters_2d(int64_t cin, int64_t cout, DType t = DType::kFloat32) {
  ctw::FilterArgs f;
  f.filter_shape = {3, 3, cout, cin};
  f.strides = V{2};
  f.padding = "SAME";
  f.dtype = t;
  return f;
}

std::unique_ptr<ConvTransposeOp> packed_op(const ctw::FilterArgs& f, KernelKind kernel = KernelKind::kAuto) {
  std::unique_ptr<ConvTransposeOp> op;
  EXPECT_TRUE(IsOk(ConvTransposeOp::create(f, kernel, &op)));
  if (!op) return nullptr;
  std::vector<uint8_t> w(static_cast<size_t>(op->filter_elements()) * ctw::dtype_size(f.dtype), 0);
  EXPECT_TRUE(IsOk(op->pack(w.data(), nullptr, nullptr)));
  return op;
}

TEST(Operator, ErrorsCarryTheCodeAndTheName) {
  ctw::FilterArgs f = filters_2d(4, 6);
  f.name = "decoder/up1";
  std::unique_ptr<ConvTransposeOp> op;
  ctw::FilterArgs bad = f;
  bad.strides = V{0};
  EXPECT_TRUE(IsErrorWith(ConvTransposeOp::create(bad, KernelKind::kAuto, &op), {"strides"}, "decoder/up1: "));
  EXPECT_TRUE(IsErrorWith(ConvTransposeOp::create(f, KernelKind::kDot, &op), {"kernel='dot'", "6"}, "decoder/up1: "));
  KernelKind k;
  EXPECT_TRUE(IsErrorWith(ctw::kernel_from_name("decoder/up1", "fast", &k), {"'fast'", "'columns'"}, "decoder/up1: "));
  ASSERT_TRUE(IsOk(ConvTransposeOp::create(f, KernelKind::kAuto, &op)));
  EXPECT_EQ(op->kernel(), KernelKind::kIgemm);
  // Steps out of order are the core's own error, not the caller's.
  EXPECT_TRUE(IsErrorWith(op->reshape({1, 3, 3, 4}, {1, 6, 6, 6}, DType::kFloat32, 0, 1), {"packed"}, "decoder/up1: ",
                          StatusCode::kInternal));
  float out[216];
  EXPECT_TRUE(IsErrorWith(op->run(out, out, nullptr), {"reshape"}, "decoder/up1: ", StatusCode::kInternal));
  // A call's shape error names the op too.
  op = packed_op(f);
  ASSERT_TRUE(op);
  EXPECT_TRUE(IsErrorWith(op->reshape({1, 3, 3, 4}, {1, 7, 6, 6}, DType::kFloat32, 0, 1), {"output_shape"},
                          "decoder/up1: "));
}

TEST(Operator, ReshapeIsKeptWhileShapesRepeat) {
  std::unique_ptr<ConvTransposeOp> op = packed_op(filters_2d(4, 6));
  ASSERT_TRUE(op);
  EXPECT_FALSE(op->reshaped_for({1, 3, 3, 4}, {1, 6, 6, 6}, DType::kFloat32, 1));
  ASSERT_TRUE(IsOk(op->reshape({1, 3, 3, 4}, {1, 6, 6, 6}, DType::kFloat32, 0, 2)));
  EXPECT_TRUE(op->reshaped_for({1, 3, 3, 4}, {1, 6, 6, 6}, DType::kFloat32, 1));
  EXPECT_TRUE(op->reshaped_for({1, 3, 3, 4}, {1, 6, 6, 6}, DType::kFloat32, 2));
  EXPECT_FALSE(op->reshaped_for({1, 3, 3, 4}, {1, 6, 6, 6}, DType::kFloat32, 3)) << "more threads need more scratch";
  EXPECT_FALSE(op->reshaped_for({1, 3, 3, 4}, {1, 5, 6, 6}, DType::kFloat32, 1));
  EXPECT_FALSE(op->reshaped_for({2, 3, 3, 4}, {2, 6, 6, 6}, DType::kFloat32, 1));
  ASSERT_TRUE(IsOk(op->reshape({2, 3, 3, 4}, {2, 5, 6, 6}, DType::kFloat32, 0, 1)));
  EXPECT_EQ(op->plan().output_shape, (V{2, 5, 6, 6}));
  EXPECT_EQ(op->plan().batch, 2);
  // A failed reshape leaves nothing to run.
  EXPECT_FALSE(op->reshape({2, 3, 3, 5}, {2, 5, 6, 6}, DType::kFloat32, 0, 1).ok());
  EXPECT_FALSE(op->reshaped_for({2, 3, 3, 4}, {2, 5, 6, 6}, DType::kFloat32, 1));
}

TEST(Operator, OneCallMemoryBudget) {
  for (DType t : {DType::kFloat32, DType::kFloat64, DType::kFloat16}) {
    ctw::ConvTransposeArgs a = ctw::call_args(filters_2d(2, 5, t), {1, 3, 4, 2}, {1, 6, 8, 5}, t);
    ctw::ConvTransposePlan p;
    ASSERT_TRUE(IsOk(ctw::plan_conv_transpose(a, &p)));
    const ctw::CallBytes bytes = ctw::one_call_bytes(p, 2);
    const uint64_t need = bytes.total();
    // The tensors (input 24, filters 90, output 240 elements), and scratch
    // of at least the packed filters (90 weights in the compute type).
    EXPECT_EQ(bytes.tensors, ctw::dtype_size(t) * (24 + 90 + 240));
    EXPECT_GE(bytes.scratch, 90 * ctw::compute_bytes(t));
    EXPECT_TRUE(IsOk(ctw::check_memory_budget(a, bytes, need)));
    EXPECT_TRUE(IsOk(ctw::check_memory_budget(a, bytes, 0))) << "0: no limit";
    EXPECT_TRUE(IsErrorWith(ctw::check_memory_budget(a, bytes, need - 1),
                            {"MiB", "[1, 3, 4, 2]", "[3, 3, 5, 2]", "[1, 6, 8, 5]", ctw::dtype_name(t)},
                            "conv_transpose: ", StatusCode::kOutOfMemory));
    a.name = "budgeted";
    EXPECT_TRUE(IsErrorWith(ctw::check_memory_budget(a, bytes, need - 1), {"MiB"}, "budgeted: ",
                            StatusCode::kOutOfMemory));
  }
  // A large problem against a WebAssembly-sized budget (2 GiB).
  ctw::ConvTransposeArgs big =
      ctw::call_args(filters_2d(16, 16), {1, 4096, 4096, 16}, {1, 8192, 8192, 16}, DType::kFloat32);
  ctw::ConvTransposePlan p;
  ASSERT_TRUE(IsOk(ctw::plan_conv_transpose(big, &p)));
  EXPECT_GT(ctw::one_call_bytes(p, 2).total(), uint64_t{2} << 30);
}

// The budget counts the scratch of the kernel that runs, forced or chosen:
// with 1 output channel from 8 float32 channels-last input channels, the
// dot kernel reads the input where it is, while the pixel kernel copies it
// into planar rows (about the input's size again).
TEST(Operator, BudgetCountsTheForcedKernelsScratch) {
  const ctw::FilterArgs f = filters_2d(8, 1);
  const V in = {1, 64, 64, 8}, out = {1, 128, 128, 1};
  const uint64_t tensors = 4 * (64 * 64 * 8 + 128 * 128 * 1);
  const uint64_t budget = tensors + (64 << 10);  // 64 KiB for scratch: less than the 128 KiB input
  std::unique_ptr<ConvTransposeOp> dot = packed_op(f, KernelKind::kDot);
  std::unique_ptr<ConvTransposeOp> pixels = packed_op(f, KernelKind::kPixels);
  std::unique_ptr<ConvTransposeOp> chosen = packed_op(f);
  ASSERT_TRUE(dot && pixels && chosen);
  EXPECT_EQ(chosen->kernel(), KernelKind::kDot);
  EXPECT_TRUE(IsOk(dot->reshape(in, out, DType::kFloat32, budget, 2)));
  EXPECT_TRUE(IsOk(chosen->reshape(in, out, DType::kFloat32, budget, 2)));
  EXPECT_TRUE(IsErrorWith(pixels->reshape(in, out, DType::kFloat32, budget, 2), {"MiB", "[1, 64, 64, 8]"},
                          "conv_transpose: ", StatusCode::kOutOfMemory));
  EXPECT_TRUE(IsOk(pixels->reshape(in, out, DType::kFloat32, budget + (256 << 10), 2)));
}

// The one-call form runs the same operator code: its result equals a
// prepared operator's, bit for bit.
TEST(Operator, OneCallEqualsPrepared) {
  const ctw::FilterArgs f = filters_2d(5, 7);
  ctw_test::Rng rng(11);
  std::vector<float> x(2 * 6 * 5 * 5), w(3 * 3 * 7 * 5);
  for (float& v : x) v = static_cast<float>(rng.signed_unit());
  for (float& v : w) v = static_cast<float>(rng.signed_unit());
  const ctw::ConvTransposeArgs a = ctw::call_args(f, {2, 6, 5, 5}, {2, 12, 9, 7}, DType::kFloat32);
  ctw::ConvTransposePlan p;
  ASSERT_TRUE(IsOk(ctw::plan_conv_transpose(a, &p)));
  ctw::ThreadPool pool(2);
  std::vector<float> one(static_cast<size_t>(p.output_elements)), prepared(one.size());
  ASSERT_TRUE(IsOk(ctw::conv_transpose("", p, x.data(), w.data(), one.data(), &pool)));
  std::unique_ptr<ConvTransposeOp> op;
  ASSERT_TRUE(IsOk(ConvTransposeOp::create(f, KernelKind::kAuto, &op)));
  ASSERT_TRUE(IsOk(op->pack(w.data(), nullptr, &pool)));
  ASSERT_TRUE(IsOk(op->reshape(a.input_shape, a.output_shape, DType::kFloat32, 0, pool.threads())));
  ASSERT_TRUE(IsOk(op->run(x.data(), prepared.data(), &pool)));
  EXPECT_EQ(one, prepared);
}

}  // namespace

namespace {

// Arguments with a bias and a pack() without one: an internal error, not a read of a null pointer.
TEST(Operator, PackWithoutTheBiasTheArgumentsHaveIsAnError) {
  ctw::FilterArgs args;
  args.filter_shape = {3, 3, 4, 2};
  args.strides = std::vector<int64_t>{2};
  args.padding = "SAME";
  args.epilogue.bias = true;
  args.bias_length = 4;
  std::unique_ptr<ctw::ConvTransposeOp> op;
  ASSERT_TRUE(ctw_test::IsOk(ctw::ConvTransposeOp::create(args, ctw::KernelKind::kAuto, &op)));
  std::vector<float> w(3 * 3 * 4 * 2, 1.f);
  const ctw::Status s = op->pack(w.data(), nullptr, nullptr);
  EXPECT_EQ(s.code(), ctw::StatusCode::kInternal);
  EXPECT_NE(s.message().find("bias"), std::string::npos) << s.message();
  const std::vector<double> bias(4, 0.5);
  std::unique_ptr<ctw::ConvTransposeOp> op2;
  ASSERT_TRUE(ctw_test::IsOk(ctw::ConvTransposeOp::create(args, ctw::KernelKind::kAuto, &op2)));
  EXPECT_TRUE(ctw_test::IsOk(op2->pack(w.data(), bias.data(), nullptr)));
}

}  // namespace
