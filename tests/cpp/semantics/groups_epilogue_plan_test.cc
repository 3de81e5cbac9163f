// The semantic rules of the options beyond TensorFlow's: groups against the
// channels, the output_shape's channels with groups, the epilogue's
// parameters and the bias length. Each error names the argument, the value
// and the rule, for a call and for the filter-only half alike.
#include <gtest/gtest.h>

#include "semantics/plan.h"
#include "test_util.h"

namespace {

using ctw::ConvTransposeArgs;
using ctw::ConvTransposePlan;
using ctw_test::IsErrorWith;
using ctw_test::IsOk;
using V = std::vector<int64_t>;

// x [1, 4, 4, 6], filters [3, 3, 2, 6] with 3 groups -> 6 output channels.
ConvTransposeArgs grouped() {
  ConvTransposeArgs a;
  a.input_shape = {1, 4, 4, 6};
  a.filter_shape = {3, 3, 2, 6};
  a.output_shape = {1, 8, 8, 6};
  a.strides = V{2};
  a.padding = "SAME";
  a.groups = 3;
  return a;
}

ctw::Status plan_of(const ConvTransposeArgs& a, ConvTransposePlan* p = nullptr) {
  ConvTransposePlan local;
  return ctw::plan_conv_transpose(a, p ? p : &local);
}

ctw::Status filter_plan_of(const ConvTransposeArgs& a) {
  ConvTransposePlan p;
  return ctw::plan_filters(ctw::filter_args(a), &p);
}

TEST(GroupsPlan, OutputChannelsAreGroupsTimesTheFiltersOutDim) {
  ConvTransposePlan p;
  ASSERT_TRUE(IsOk(plan_of(grouped(), &p)));
  EXPECT_EQ(p.groups, 3);
  EXPECT_EQ(p.input_channels, 6);
  EXPECT_EQ(p.output_channels, 6);
  EXPECT_EQ(p.group_input_channels(), 2);
  EXPECT_EQ(p.group_output_channels(), 2);
  EXPECT_EQ(p.filter_elements, 3 * 3 * 2 * 6);
}

TEST(GroupsPlan, GroupsMustBePositive) {
  ConvTransposeArgs a = grouped();
  a.groups = 0;
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"groups", ">= 1", "groups=0"}));
  EXPECT_TRUE(IsErrorWith(filter_plan_of(a), {"groups", ">= 1", "groups=0"}));
}

TEST(GroupsPlan, InputChannelsMustDivide) {
  ConvTransposeArgs a = grouped();
  a.groups = 4;
  a.output_shape = {1, 8, 8, 8};
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"divisible by groups", "[3, 3, 2, 6]", "6 input channels", "groups=4"}));
  EXPECT_TRUE(IsErrorWith(filter_plan_of(a), {"divisible by groups", "groups=4"}));
}

TEST(GroupsPlan, OutputShapeChannelsCountEveryGroup) {
  ConvTransposeArgs a = grouped();
  a.output_shape = {1, 8, 8, 2};
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"groups x filters' second to last dimension", "[1, 8, 8, 2]", "groups=3",
                                       "6 output channels"}));
}

TEST(EpiloguePlan, BiasNeedsOneValuePerOutputChannel) {
  ConvTransposeArgs a = grouped();
  a.epilogue.bias = true;
  a.bias_length = 2;
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"bias", "one value per output channel", "(6 = groups 3", "a bias of 2 values"}));
  a.bias_length = 6;
  EXPECT_TRUE(IsOk(plan_of(a)));
}

TEST(EpiloguePlan, ClampBoundsAndAlphaAreChecked) {
  ConvTransposeArgs a = grouped();
  a.epilogue.activation = ctw::Activation::kClamp;
  a.epilogue.lo = 6;
  a.epilogue.hi = 0;
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"clamp", "minValue <= maxValue", "activation.minValue=6", "activation.maxValue=0"}));
  a.epilogue.lo = std::nan("");
  EXPECT_TRUE(IsErrorWith(filter_plan_of(a), {"clamp", "activation.minValue=NaN"}));
  a.epilogue.activation = ctw::Activation::kLeakyRelu;
  a.epilogue.alpha = INFINITY;
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"leakyRelu", "finite alpha", "activation.alpha=Infinity"}));
}

TEST(EpiloguePlan, ActivationNamesRoundTrip) {
  for (const char* name : {"linear", "relu", "clamp", "leakyRelu", "elu", "sigmoid", "tanh", "gelu", "silu"}) {
    ctw::Activation a;
    ASSERT_TRUE(ctw::activation_from_name(name, &a)) << name;
    EXPECT_STREQ(ctw::activation_name(a), name);
  }
  ctw::Activation a;
  EXPECT_FALSE(ctw::activation_from_name("Relu", &a));
}

}  // namespace
