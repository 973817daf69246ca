using System.Runtime.Intrinsics;
using Optim4RL.Optimizers.Learned;
using Optim4RL.Tensors;
using Xunit.Abstractions;
using TP = System.Numerics.Tensors.TensorPrimitives;
using static Optim4RL.Tests.Optimizers.Learned.BaselineTestData;

namespace Optim4RL.Tests.Optimizers.Learned;

/// <summary>
/// The kernels' state-generic calls: bfloat16 storage (exactly the float32 step applied to the
/// widened state, rounded to nearest even when stored), steps from one state buffer to another,
/// and the fused clip → step → θ += Δ update, all bit-identical to the float32 in-place calls
/// they replace.
/// </summary>
public unsafe class StateStorageTests(ITestOutputHelper output)
{
    public static TheoryData<string> All => new() { "Optim4RL", "LinearOptim", "L2LGD2", "STAR" };

    public static TheoryData<string, int> Bf16Widths
    {
        get
        {
            var d = new TheoryData<string, int>();
            foreach (string name in new[] { "Optim4RL", "LinearOptim", "L2LGD2" })
                foreach (int w in new[] { 16, 8, 4 })
                    if (w == 4 || (w == 8 && Vector256.IsHardwareAccelerated) || (w == 16 && Vector512.IsHardwareAccelerated)) d.Add(name, w);
            return d;
        }
    }

    // Two parameter vectors of 4,133 coordinates: chunks of 4,096 and 37, the last vector partial at every width.
    private const int Group = 4133, Agents = 2, N = Agents * Group;

    private static ushort[] ToBf16(float[] x) => Array.ConvertAll(x, BFloat16Bits.FromSingle);

    private static float[] Widen(ushort[] x) => Array.ConvertAll(x, BFloat16Bits.ToSingle);

    [Fact]
    public void Bfloat16_rounding_is_to_nearest_even()
    {
        static float F(uint bits) => BitConverter.UInt32BitsToSingle(bits);
        Assert.Equal(0x3F80, BFloat16Bits.FromSingle(1f));
        Assert.Equal(0x3F80, BFloat16Bits.FromSingle(F(0x3F808000))); // tie, even below
        Assert.Equal(0x3F82, BFloat16Bits.FromSingle(F(0x3F818000))); // tie, odd below: up
        Assert.Equal(0x3F81, BFloat16Bits.FromSingle(F(0x3F808001))); // above the tie
        Assert.Equal(0x3F80, BFloat16Bits.FromSingle(F(0x3F807FFF))); // below the tie
        Assert.Equal(0xBF81, BFloat16Bits.FromSingle(F(0xBF808001))); // sign kept
        Assert.Equal(0x7F80, BFloat16Bits.FromSingle(float.MaxValue)); // overflow to +∞
        Assert.Equal(0x7F80, BFloat16Bits.FromSingle(float.PositiveInfinity));
        Assert.Equal(0xFF80, BFloat16Bits.FromSingle(float.NegativeInfinity));
        Assert.Equal(0x8000, BFloat16Bits.FromSingle(-0f));
        Assert.Equal(0x0001, BFloat16Bits.FromSingle(F(0x00010000))); // subnormal, exact
        Assert.True(float.IsNaN(BFloat16Bits.ToSingle(BFloat16Bits.FromSingle(float.NaN))));
        Assert.True(float.IsNaN(BFloat16Bits.ToSingle(BFloat16Bits.FromSingle(F(0x7F800001))))); // a NaN whose payload would round to ∞

        // Against a double-precision nearest-even search over the two neighbours, for random floats.
        var rng = new Rng(5);
        for (int i = 0; i < 200_000; i++)
        {
            uint bits = (uint)rng.NextUInt64();
            float x = F(bits);
            if (!float.IsFinite(x)) continue;
            ushort lo = (ushort)(bits >> 16), hi = (ushort)(lo + 1);
            // The neighbour past the largest finite bfloat16 is ∞, which rounding treats as ±2¹²⁸.
            double vh = (hi & 0x7F80) == 0x7F80 ? Math.CopySign(Math.Pow(2, 128), x) : BFloat16Bits.ToSingle(hi);
            double dl = Math.Abs((double)x - BFloat16Bits.ToSingle(lo)), dh = Math.Abs(vh - x);
            ushort expected = dl < dh ? lo : dh < dl ? hi : (lo & 1) == 0 ? lo : hi;
            Assert.Equal(expected, BFloat16Bits.FromSingle(x));
            Assert.Equal((float)BFloat16Bits.ToSingle(expected), BFloat16Bits.Round(x));
        }
    }

    [Fact]
    public void Simd_conversions_equal_the_scalar_ones_at_every_width()
    {
        var rng = new Rng(8);
        var x = new float[64];
        for (int i = 0; i < x.Length; i++) x[i] = BitConverter.UInt32BitsToSingle((uint)rng.NextUInt64());
        x[0] = float.NaN; x[1] = -0f; x[2] = float.MaxValue; x[3] = BitConverter.UInt32BitsToSingle(0x3F818000);
        Check<Vector128<float>>(x);
        if (Vector256.IsHardwareAccelerated) Check<Vector256<float>>(x);
        if (Vector512.IsHardwareAccelerated) Check<Vector512<float>>(x);

        static void Check<TV>(float[] x) where TV : struct
        {
            var bits = new ushort[x.Length];
            var back = new float[x.Length];
            int w = LearnedSimd.Count<TV>();
            fixed (float* px = x, pb = back)
            fixed (ushort* pu = bits)
            {
                for (int i = 0; i < x.Length; i += w) LearnedSimd.StoreBf16(pu + i, LearnedSimd.Load<TV>(px + i));
                for (int i = 0; i < x.Length; i += w) LearnedSimd.Store(pb + i, LearnedSimd.LoadBf16<TV>(pu + i));
            }
            for (int i = 0; i < x.Length; i++)
            {
                ushort e = BFloat16Bits.FromSingle(x[i]);
                Assert.True(float.IsNaN(x[i]) ? float.IsNaN(BFloat16Bits.ToSingle(bits[i])) : bits[i] == e, $"width {w}, x = {x[i]}");
                Assert.Equal(BitConverter.SingleToUInt32Bits(BFloat16Bits.ToSingle(bits[i])), BitConverter.SingleToUInt32Bits(back[i]));
            }
        }
    }

    [Theory]
    [MemberData(nameof(Bf16Widths))]
    public void Bfloat16_step_equals_the_float32_step_on_the_widened_state_rounded(string name, int width)
    {
        var opt = Create(name, width);
        var phi = Phi(opt, 31);
        var state = ToBf16(State(opt, N, 32, Group));
        var grads = Grads(3 * N, 33);
        for (int s = 0; s < 3; s++)
        {
            var g = grads.AsSpan(s * N, N);
            var expectedState = Widen(state);
            var expectedUpd = new float[N];
            opt.StepGrouped(phi, expectedState, g, expectedUpd, 0.01f, Group);

            var before = (ushort[])state.Clone();
            var next = new ushort[state.Length];
            var upd = new float[N];
            opt.StepGrouped(phi, new StateSpan(state), new StateSpan(next), g, upd, 0.01f, Group); // from one buffer to another
            Assert.Equal(before, state);
            Assert.Equal(expectedUpd, upd);
            Assert.Equal(ToBf16(expectedState), next);

            var upd2 = new float[N];
            opt.StepGrouped(phi, new StateSpan(state), new StateSpan(state), g, upd2, 0.01f, Group); // in place
            Assert.Equal(expectedUpd, upd2);
            Assert.Equal(next, state);
        }
    }

    [Theory]
    [MemberData(nameof(All))]
    public void A_step_to_another_buffer_equals_the_step_in_place(string name)
    {
        var opt = Create(name);
        var phi = Phi(opt, 41);
        var state0 = State(opt, N, 42, Group);
        var grads = Grads(N, 43);
        var inPlace = (float[])state0.Clone();
        var updA = new float[N];
        opt.StepGrouped(phi, inPlace, grads, updA, 0.01f, Group);

        var from = (float[])state0.Clone();
        var to = new float[state0.Length];
        to.AsSpan().Fill(float.NaN); // nothing of the destination's old contents survives
        var updB = new float[N];
        opt.StepGrouped(phi, new StateSpan(from), new StateSpan(to), grads, updB, 0.01f, Group);
        Assert.Equal(state0, from);
        Assert.Equal(inPlace, to);
        Assert.Equal(updA, updB);
    }

    [Theory]
    [InlineData("Optim4RL", 1f, false)]
    [InlineData("Optim4RL", -1f, false)]
    [InlineData("Optim4RL", 0.5f, true)]
    [InlineData("LinearOptim", 1f, true)]
    [InlineData("L2LGD2", 1f, false)]
    [InlineData("STAR", 1f, false)]
    [InlineData("STAR", -1f, false)]
    public void Fused_update_equals_clip_then_step_then_add(string name, float clip, bool bf16)
    {
        var opt = Create(name);
        var phi = Phi(opt, 51);
        var state0 = State(opt, N, 52, Group);
        var raw = LearnedTestData.RandomGrads(N, 53); // up to ±10: the clip matters
        var theta0 = LearnedTestData.RandomNormal(N, 54);

        // The three passes, as meta-training ran them before.
        var clipped = new float[N];
        if (clip > 0) { TP.Min(raw, clip, clipped); TP.Max(clipped, -clip, clipped); }
        else raw.CopyTo(clipped, 0);
        var upd = new float[N];
        var theta = (float[])theta0.Clone();
        float[] s32 = (float[])state0.Clone();
        ushort[] s16 = ToBf16(state0);
        if (bf16) opt.StepGrouped(phi, new StateSpan(s16), new StateSpan(s16), clipped, upd, 0.01f, Group);
        else opt.StepGrouped(phi, s32, clipped, upd, 0.01f, Group);
        TP.Add(theta, upd, theta);

        foreach (bool inPlace in new[] { true, false })
        {
            var fClipped = new float[N];
            var fTheta = (float[])theta0.Clone();
            float[] f32 = (float[])state0.Clone(), t32 = inPlace ? f32 : new float[state0.Length];
            ushort[] f16 = ToBf16(state0), t16 = inPlace ? f16 : new ushort[f16.Length];
            StateSpan from = bf16 ? new StateSpan(f16) : new StateSpan(f32), to = bf16 ? new StateSpan(t16) : new StateSpan(t32);
            opt.UpdateGrouped(phi, from, to, raw, clip, fClipped, fTheta, 0.01f, Group);
            Assert.Equal(clipped, fClipped);
            Assert.Equal(theta, fTheta);
            if (bf16) Assert.Equal(s16, t16);
            else Assert.Equal(s32, t32);
        }

        // Clipping in place: the gradients themselves receive the clipped values.
        var own = (float[])raw.Clone();
        var oTheta = (float[])theta0.Clone();
        float[] o32 = (float[])state0.Clone();
        ushort[] o16 = ToBf16(state0);
        opt.UpdateGrouped(phi, bf16 ? new StateSpan(o16) : new StateSpan(o32), bf16 ? new StateSpan(o16) : new StateSpan(o32), own, clip, own, oTheta, 0.01f, Group);
        Assert.Equal(clipped, own);
        Assert.Equal(theta, oTheta);
    }

    [Theory]
    [MemberData(nameof(Bf16Widths))]
    public void Bfloat16_meta_gradient_is_the_float32_meta_gradient_from_the_widened_state(string name, int width)
    {
        const int k = 3;
        var opt = Create(name, width);
        var phi = Phi(opt, 61);
        var state0 = ToBf16(State(opt, N, 62, Group));
        var grads = Grads(k * N, 63);
        var lambda = LearnedTestData.RandomNormal(N, 64);
        var expected = new float[phi.Length];
        opt.MetaGradientGrouped(phi, Widen(state0), grads, k, lambda, 0.01f, expected, Group);
        var mg = new float[phi.Length];
        opt.MetaGradientGrouped(phi, new StateSpan(state0), grads, k, lambda, 0.01f, mg, Group);
        Assert.Equal(expected, mg);
    }

    [Theory]
    [InlineData("Optim4RL")]
    [InlineData("LinearOptim")]
    [InlineData("L2LGD2")]
    public void Bfloat16_meta_gradient_matches_central_finite_differences_in_double(string name)
    {
        // The meta-gradient from a bfloat16 state0 is the gradient of the float32 trajectory that
        // starts from the stored (bf16-exact) state; finite differences of the double reference
        // from that same state measure it.
        const int n = 40, k = 4;
        const double alpha = 0.01;
        var opt = Create(name);
        var phi = Phi(opt, 71);
        var state16 = ToBf16(State(opt, n, 72));
        var state0 = Widen(state16);
        var grads = Grads(k * n, 73);
        var lambda = LearnedTestData.RandomNormal(n, 74);
        var phiD = Array.ConvertAll(phi, x => (double)x);
        var fd = new double[phi.Length];
        for (int p = 0; p < phi.Length; p++)
        {
            double h = 1e-6 * Math.Max(1, Math.Abs(phiD[p]));
            double saved = phiD[p];
            phiD[p] = saved + h;
            double lp = Loss(opt, phiD, state0, grads, k, lambda, alpha);
            phiD[p] = saved - h;
            double lm = Loss(opt, phiD, state0, grads, k, lambda, alpha);
            phiD[p] = saved;
            fd[p] = (lp - lm) / (2 * h);
        }
        double scale = fd.Max(Math.Abs);
        Assert.True(scale > 0);
        var mg = new float[phi.Length];
        opt.MetaGradientGrouped(phi, new StateSpan(state16), grads, k, lambda, (float)alpha, mg, n);
        double worst = 0;
        for (int p = 0; p < phi.Length; p++)
        {
            double err = Math.Abs(mg[p] - fd[p]);
            worst = Math.Max(worst, err / scale);
            Assert.True(err <= 1e-3 * Math.Abs(fd[p]) + 1e-5 * scale, $"{name} φ[{p}] ({NameOf(opt, p)}): {mg[p]} vs FD {fd[p]}");
        }
        output.WriteLine($"{name}: max |kernel − FD| / max|FD| = {worst:E2}");
    }

    private static double Loss(ILearnedOptimizer opt, double[] phi, float[] state0, float[] grads, int k, float[] lambda, double alpha) =>
        opt is Optim4RLOptimizer
            ? new Optim4RLReference(opt.Layout, phi).Loss(state0, grads, k, lambda, alpha)
            : ReferenceLoss(opt, phi, state0, grads, k, lambda, alpha, lambda.Length);

    [Theory]
    [InlineData("Optim4RL")]
    [InlineData("LinearOptim")]
    public void Bfloat16_results_are_bitwise_identical_for_thread_counts_1_2_3(string name)
    {
        const int k = 3, group = 5000, n = 3 * group;
        (ushort[] State, float[] Upd, float[] Mg)? first = null;
        foreach (int threads in new[] { 1, 2, 3 })
        {
            var opt = Create(name, threads: threads);
            var phi = Phi(opt, 81);
            var s0 = ToBf16(State(opt, n, 82, group));
            var grads = Grads(k * n, 83);
            var lambda = LearnedTestData.RandomNormal(n, 84);
            var theta = new float[n];
            var clipped = new float[k * n];
            var state = new ushort[s0.Length];
            opt.UpdateGrouped(phi, new StateSpan(s0), new StateSpan(state), grads.AsSpan(0, n), 0.5f, clipped.AsSpan(0, n), theta, 0.01f, group);
            var upd = new float[n];
            for (int s = 1; s < k; s++) opt.StepGrouped(phi, new StateSpan(state), new StateSpan(state), grads.AsSpan(s * n, n), upd, 0.01f, group);
            var mg = new float[phi.Length];
            opt.MetaGradientGrouped(phi, new StateSpan(s0), grads, k, lambda, 0.01f, mg, group);
            if (first is null) { first = (state, upd, mg); continue; }
            Assert.Equal(first.Value.State, state);
            Assert.Equal(first.Value.Upd, upd);
            Assert.Equal(first.Value.Mg, mg);
        }
    }

    [Fact]
    public void Unsupported_types_mismatched_or_overlapping_states_are_rejected()
    {
        var star = Create("STAR");
        Assert.False(star.Supports(StateDtype.BFloat16));
        Assert.True(star.Supports(StateDtype.Float32));
        var phi = Phi(star, 1);
        var s16 = new ushort[8 * 10];
        Assert.Throws<NotSupportedException>(() => star.StepGrouped(phi, new StateSpan(s16), new StateSpan(s16), new float[10], new float[10], 0.01f, 10));
        Assert.Throws<NotSupportedException>(() => star.MetaGradientGrouped(phi, new StateSpan(s16), new float[10], 1, new float[10], 0.01f, new float[phi.Length], 10));

        var opt = Create("Optim4RL");
        Assert.True(opt.Supports(StateDtype.BFloat16));
        var p = Phi(opt, 2);
        var a = new float[16 * 10];
        var b16 = new ushort[16 * 10];
        var big = new float[16 * 10 + 5];
        Assert.Throws<ArgumentException>(() => opt.StepGrouped(p, new StateSpan(a), new StateSpan(b16), new float[10], new float[10], 0.01f, 10));
        Assert.Throws<ArgumentException>(() => opt.StepGrouped(p, new StateSpan(big.AsSpan(0, 160)), new StateSpan(big.AsSpan(5, 160)), new float[10], new float[10], 0.01f, 10));
        Assert.Throws<ArgumentException>(() => opt.StepGrouped(p, new StateSpan(a), new StateSpan(new float[15 * 10]), new float[10], new float[10], 0.01f, 10));
        var g = new float[20];
        Assert.Throws<ArgumentException>(() => opt.UpdateGrouped(p, new StateSpan(a), new StateSpan(a), g.AsSpan(0, 10), 1f, g.AsSpan(5, 10), new float[10], 0.01f, 10));
        Assert.Throws<ArgumentException>(() => opt.UpdateGrouped(p, new StateSpan(a), new StateSpan(a), g.AsSpan(0, 10), 1f, g.AsSpan(10, 10), g.AsSpan(0, 10), 0.01f, 10));
        Assert.Throws<ArgumentException>(() => opt.UpdateGrouped(p, new StateSpan(a), new StateSpan(a), new float[10], 1f, new float[10], a.AsSpan(0, 10), 0.01f, 10));
    }

    [Fact]
    public void Recurrent_state_buffers_clear_agents_and_round_trip_in_their_own_type()
    {
        foreach (var dtype in new[] { StateDtype.Float32, StateDtype.BFloat16 })
        {
            var st = new RecurrentState(dtype, 3, 10);
            Assert.Equal(30, st.Length);
            var values = LearnedTestData.RandomNormal(30, 9);
            if (dtype == StateDtype.Float32) values.CopyTo(st.Span.Float32);
            else ToBf16(values).CopyTo(st.Span.BFloat16);
            st.ClearCoordinates(4, 3);
            for (int u = 0; u < 3; u++)
                for (int c = 0; c < 10; c++)
                {
                    float expected = c is >= 4 and < 7 ? 0f : dtype == StateDtype.Float32 ? values[u * 10 + c] : BFloat16Bits.Round(values[u * 10 + c]);
                    Assert.Equal(expected, st.Span[u * 10 + c]);
                }

            using var ms = new MemoryStream();
            using (var w = new BinaryWriter(ms, System.Text.Encoding.UTF8, leaveOpen: true)) st.Write(w);
            Assert.Equal(4 + 30 * dtype.Bytes(), ms.Length);
            ms.Position = 0;
            var back = new RecurrentState(dtype, 3, 10);
            using (var r = new BinaryReader(ms, System.Text.Encoding.UTF8, leaveOpen: true)) back.Read(r, dtype);
            Assert.Equal(st.Span.ToFloat32(), back.Span.ToFloat32());

            // Read into the other type: float32 → bfloat16 rounds, bfloat16 → float32 is exact.
            ms.Position = 0;
            var other = new RecurrentState(dtype == StateDtype.Float32 ? StateDtype.BFloat16 : StateDtype.Float32, 3, 10);
            using (var r = new BinaryReader(ms, System.Text.Encoding.UTF8, leaveOpen: true)) other.Read(r, dtype);
            Assert.Equal(st.Span.ToFloat32().Select(BFloat16Bits.Round), other.Span.ToFloat32().Select(BFloat16Bits.Round));
        }

        Assert.True(StateDtypes.TryParse("BFloat16", out var d) && d == StateDtype.BFloat16);
        Assert.True(StateDtypes.TryParse("float32", out d) && d == StateDtype.Float32);
        Assert.False(StateDtypes.TryParse("fp16", out _));
        Assert.Equal("bfloat16", StateDtype.BFloat16.Name());
    }
}
