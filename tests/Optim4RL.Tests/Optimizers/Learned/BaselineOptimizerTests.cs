using Optim4RL.Agents;
using Optim4RL.Meta;
using Optim4RL.Optimizers;
using Optim4RL.Optimizers.Learned;
using Optim4RL.Tensors;
using Xunit.Abstractions;
using static Optim4RL.Tests.Optimizers.Learned.BaselineTestData;

namespace Optim4RL.Tests.Optimizers.Learned;

/// <summary>LinearOptim, L2LGD2 and STAR (docs/algorithms.md): kernels against double references, finite differences, determinism, meta-training.</summary>
public class BaselineOptimizerTests(ITestOutputHelper output)
{
    public static TheoryData<string> Architectures => Names;

    [Fact]
    public void Registry_creates_each_baseline_by_its_reference_name()
    {
        Assert.Contains("LinearOptim", LearnedOptimizers.Names);
        Assert.Contains("L2LGD2", LearnedOptimizers.Names);
        Assert.Contains("STAR", LearnedOptimizers.Names);
        Assert.IsType<LinearOptimOptimizer>(LearnedOptimizers.Create("LinearOptim"));
        Assert.IsType<L2LGD2Optimizer>(LearnedOptimizers.Create("l2lgd2"));
        Assert.IsType<StarOptimizer>(LearnedOptimizers.Create("Star")); // the reference's configs spell it "Star"
        Assert.Equal("STAR", LearnedOptimizers.Create("star").Name);
    }

    [Theory]
    [InlineData("LinearOptim", 275, 8, 8, new[] { 1, 8 }, "head.kernel", new[] { 8, 3 })]
    [InlineData("L2LGD2", 281, 8, 8, new[] { 2, 8 }, "head.kernel", new[] { 8, 1 })]
    [InlineData("STAR", 203, 4, 8, new[] { 38, 4 }, "nn.w2", new[] { 4, 4 })]
    public void Layout_names_every_array_with_its_shape(string name, int count, int hidden, int stateSize, int[] firstShape, string other, int[] otherShape)
    {
        var opt = LearnedOptimizers.Create(name);
        Assert.Equal(name, opt.Name);
        Assert.Equal(count, opt.Layout.Count);
        Assert.Equal(hidden, opt.HiddenSize);
        Assert.Equal(stateSize, opt.StateSize);
        int offset = 0;
        foreach (var e in opt.Layout.Entries)
        {
            Assert.Equal(offset, e.Offset);
            Assert.Equal(e.Shape.Aggregate(1, (a, b) => a * b), e.Length);
            offset += e.Length;
        }
        Assert.Equal(firstShape, opt.Layout[name == "STAR" ? "nn.w0" : "cell.W_ir"].Shape);
        Assert.Equal(otherShape, opt.Layout[other].Shape);
        if (name == "STAR")
            Assert.Equal(["momentum_decays", "rms_decays", "adafactor_decays", "nn.w0", "nn.b0", "nn.w1", "nn.b1", "nn.w2", "nn.b2"], opt.Layout.Entries.Select(e => e.Name));
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void Meta_parameters_round_trip_through_the_file_format(string name)
    {
        var opt = LearnedOptimizers.Create(name);
        var phi = Phi(opt, 3);
        string dir = Path.Combine(Path.GetTempPath(), "o4rl-baseline-" + Guid.NewGuid().ToString("N"));
        try
        {
            string path = Path.Combine(dir, "param.json");
            MetaParamsFile.Save(path, opt.Name, opt.HiddenSize, opt.Layout, phi);
            var loaded = MetaParamsFile.Load(path, name.ToLowerInvariant(), opt.HiddenSize, LearnedOptimizers.Create(name).Layout);
            Assert.Equal(phi, loaded);
            Assert.Throws<MetaParamsFileException>(() => MetaParamsFile.Load(path, "Optim4RL", 8, LearnedOptimizers.Create("Optim4RL").Layout));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    [Theory]
    [InlineData("LinearOptim", 0)]
    [InlineData("LinearOptim", 4)]
    [InlineData("L2LGD2", 0)]
    [InlineData("L2LGD2", 8)]
    [InlineData("STAR", 0)]
    [InlineData("STAR", 4)]
    public void Step_matches_double_reference(string name, int width)
    {
        var opt = Create(name, width);
        const int n = 3 * 67, group = 67, k = 5; // N not a multiple of any SIMD width; three parameter vectors for STAR
        const float alpha = 0.01f;
        var phi = Phi(opt, 1);
        var state0 = State(opt, n, 2, group);
        var grads = Grads(k * n, 3);
        var expected = ReferenceSteps(opt, phi, state0, grads, k, n, alpha, group);
        var state = (float[])state0.Clone();
        var upd = new float[n];
        double maxRel = 0;
        for (int s = 0; s < k; s++)
        {
            opt.StepGrouped(phi, state, grads.AsSpan(s * n, n), upd, alpha, group);
            double scale = 0;
            for (int c = 0; c < n; c++) scale = Math.Max(scale, Math.Abs(expected[s * n + c]));
            for (int c = 0; c < n; c++)
            {
                double d = expected[s * n + c];
                double err = Math.Abs(upd[c] - d);
                maxRel = Math.Max(maxRel, err / scale);
                Assert.True(err <= 2e-5 * Math.Abs(d) + 2e-6 * scale, $"{name} step {s} coordinate {c}: g={grads[s * n + c]} Δ={upd[c]} reference={d}");
            }
        }
        output.WriteLine($"{name}, width {Width(opt)}: max |Δ − reference| / max|Δ| = {maxRel:E2}");
        if (opt is StarOptimizer)
            for (int c = 0; c < n; c++) Assert.Equal(state0[7 * n + c] + k, state[7 * n + c]); // the step count
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void Meta_gradient_matches_central_finite_differences_of_the_double_reference(string name)
    {
        var opt = LearnedOptimizers.Create(name);
        const int group = 23, n = 2 * group, k = 4;
        const double alpha = 0.01;
        var phi = Phi(opt, 11);
        var state0 = State(opt, n, 12, group);
        var grads = Grads(k * n, 13);
        var lambda = LearnedTestData.RandomNormal(n, 14);

        var phiD = phi.Select(v => (double)v).ToArray();
        var fd = new double[phi.Length];
        for (int p = 0; p < phi.Length; p++)
        {
            double h = 1e-6 * Math.Max(1, Math.Abs(phiD[p]));
            double saved = phiD[p];
            phiD[p] = saved + h;
            double lp = ReferenceLoss(opt, phiD, state0, grads, k, lambda, alpha, group);
            phiD[p] = saved - h;
            double lm = ReferenceLoss(opt, phiD, state0, grads, k, lambda, alpha, group);
            phiD[p] = saved;
            fd[p] = (lp - lm) / (2 * h);
        }
        double scale = fd.Max(Math.Abs);
        Assert.True(scale > 0);

        // The reference's own backward agrees with finite differences to double-precision accuracy…
        var analytic = ReferenceGradient(opt, phi, state0, grads, k, lambda, alpha, group);
        double maxRefErr = 0;
        for (int p = 0; p < phi.Length; p++)
        {
            double err = Math.Abs(analytic[p] - fd[p]);
            maxRefErr = Math.Max(maxRefErr, err / scale);
            Assert.True(err <= 1e-6 * Math.Abs(fd[p]) + 1e-8 * scale, $"{name} reference {NameOf(opt, p)}: {analytic[p]} vs FD {fd[p]}");
        }

        // …and the float SIMD kernel agrees with finite differences to float accuracy, for every φ component.
        var mg = new float[phi.Length];
        opt.MetaGradientGrouped(phi, state0, grads, k, lambda, (float)alpha, mg, group);
        double maxKernelErr = 0;
        int nonzero = 0;
        for (int p = 0; p < phi.Length; p++)
        {
            double err = Math.Abs(mg[p] - fd[p]);
            maxKernelErr = Math.Max(maxKernelErr, err / scale);
            Assert.True(err <= 1e-3 * Math.Abs(fd[p]) + 1e-5 * scale, $"{name} kernel {NameOf(opt, p)}: {mg[p]} vs FD {fd[p]}");
            if (Math.Abs(fd[p]) > 1e-7 * scale) nonzero++;
        }
        // Every component moves L except, in STAR, the two unused output columns of nn.w2/nn.b2 (10 entries).
        Assert.True(nonzero >= phi.Length - (opt is StarOptimizer ? 10 : 0) - 3, $"only {nonzero} of {phi.Length} meta-gradient components are nonzero");
        if (opt is StarOptimizer)
            for (int d = 0; d < 7; d++) Assert.True(Math.Abs(fd[d]) > 1e-9 * scale, $"decay {d} has no effect");
        output.WriteLine($"{name}: max |ref − FD|/max|FD| = {maxRefErr:E2}; max |kernel − FD|/max|FD| = {maxKernelErr:E2}; max|FD| = {scale:E3}; {nonzero} nonzero");
    }

    [Theory]
    [InlineData("LinearOptim", 1, 1)]
    [InlineData("LinearOptim", 17, 17)]
    [InlineData("LinearOptim", 8192 + 33, 8192 + 33)]
    [InlineData("L2LGD2", 15, 15)]
    [InlineData("L2LGD2", 4097, 4097)]
    [InlineData("STAR", 1, 1)]
    [InlineData("STAR", 5 * 7, 7)]
    [InlineData("STAR", 3 * 2741, 2741)]     // parameter vectors straddling chunk boundaries
    [InlineData("STAR", 2 * 4096, 4096)]     // one vector per chunk
    [InlineData("STAR", 4097, 4097)]
    public void Meta_gradient_matches_double_reference_for_any_n(string name, int n, int group)
    {
        var opt = LearnedOptimizers.Create(name);
        const int k = 3;
        const float alpha = 0.003f;
        var phi = Phi(opt, 21);
        var state0 = State(opt, n, 22, group);
        var grads = Grads(k * n, 23);
        var lambda = LearnedTestData.RandomNormal(n, 24);
        var mg = new float[phi.Length];
        opt.MetaGradientGrouped(phi, state0, grads, k, lambda, alpha, mg, group);
        var expected = ReferenceGradient(opt, phi, state0, grads, k, lambda, alpha, group);
        double scale = expected.Max(Math.Abs), maxErr = 0;
        for (int p = 0; p < phi.Length; p++)
        {
            double err = Math.Abs(mg[p] - expected[p]);
            maxErr = Math.Max(maxErr, err / scale);
            Assert.True(err <= 1e-4 * scale + 1e-3 * Math.Abs(expected[p]), $"{name} n={n}: {NameOf(opt, p)} {mg[p]} vs reference {expected[p]}");
        }
        output.WriteLine($"{name} n={n} group={group}: max |kernel − reference| / max|reference| = {maxErr:E2}");
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void Results_are_bitwise_identical_for_any_thread_count(string name)
    {
        const int n = 5 * 3001, group = 3001, k = 4;
        float[]? firstMg = null, firstUpd = null, firstState = null;
        foreach (int? threads in new int?[] { 1, null, 2, 3 })
        {
            var opt = Create(name, threads: threads);
            var phi = Phi(opt, 31);
            var state = State(opt, n, 32, group);
            var grads = Grads(k * n, 33);
            var lambda = LearnedTestData.RandomNormal(n, 34);
            var mg = new float[phi.Length];
            opt.MetaGradientGrouped(phi, state, grads, k, lambda, 0.01f, mg, group);
            var upd = new float[n];
            for (int s = 0; s < k; s++) opt.StepGrouped(phi, state, grads.AsSpan(s * n, n), upd, 0.01f, group);
            if (firstMg is null) { firstMg = mg; firstUpd = upd; firstState = state; continue; }
            Assert.Equal(firstMg, mg);
            Assert.Equal(firstUpd, upd);
            Assert.Equal(firstState, state);
        }
    }

    [Theory]
    [InlineData("LinearOptim")]
    [InlineData("L2LGD2")]
    public void Gru_baseline_step_is_bitwise_identical_across_simd_widths_and_tail_positions(string name)
    {
        const int n = 77, big = 96;
        var results = new List<(float[] Upd, float[] State)>();
        foreach (int width in new[] { 16, 8, 4 })
        {
            var opt = Create(name, width);
            var phi = Phi(opt, 3);
            var state = State(opt, n, 4);
            var upd = new float[n];
            for (int s = 0; s < 3; s++) opt.Step(phi, state, Grads(n, 20 + (ulong)s), upd, 0.01f);
            results.Add((upd, state));
        }
        Assert.Equal(results[0].Upd, results[1].Upd);
        Assert.Equal(results[0].Upd, results[2].Upd);
        Assert.Equal(results[0].State, results[2].State);

        // The same coordinates in the zero-padded tail (n = 77) and inside full vectors (n = 96).
        var opt2 = Create(name);
        var phi2 = Phi(opt2, 3);
        var small = State(opt2, n, 4);
        var large = new float[8 * big];
        for (int u = 0; u < 8; u++) Array.Copy(small, u * n, large, u * big, n);
        var updLarge = new float[big];
        for (int s = 0; s < 3; s++)
        {
            var gBig = new float[big];
            Array.Copy(Grads(n, 20 + (ulong)s), gBig, n);
            opt2.Step(phi2, large, gBig, updLarge, 0.01f);
        }
        Assert.Equal(results[0].Upd, updLarge.AsSpan(0, n).ToArray());
    }

    [Fact]
    public void Star_normalises_each_parameter_vector_on_its_own()
    {
        var opt = new StarOptimizer();
        const int group = 300, n = 3 * group;
        var phi = Phi(opt, 41);
        var state = State(opt, n, 42, group);
        var g = Grads(n, 43);
        for (int c = group; c < 2 * group; c++) g[c] *= 1e-3f; // a vector with much smaller gradients

        var grouped = (float[])state.Clone();
        var updGrouped = new float[n];
        opt.StepGrouped(phi, grouped, g, updGrouped, 0.01f, group);

        // The same as three separate calls, one per vector.
        for (int v = 0; v < 3; v++)
        {
            var sv = new float[8 * group];
            for (int u = 0; u < 8; u++) Array.Copy(state, u * n + v * group, sv, u * group, group);
            var upd = new float[group];
            opt.Step(phi, sv, g.AsSpan(v * group, group), upd, 0.01f);
            for (int c = 0; c < group; c++)
                Assert.True(Math.Abs(upd[c] - updGrouped[v * group + c]) <= 1e-6 * Math.Abs(upd[c]) + 1e-9, $"vector {v} coordinate {c}");
            for (int u = 0; u < 8; u++)
                Assert.Equal(sv.AsSpan(u * group, group).ToArray(), grouped.AsSpan(u * n + v * group, group).ToArray());
        }

        // Normalising over all three vectors at once gives other updates.
        var whole = (float[])state.Clone();
        var updWhole = new float[n];
        opt.Step(phi, whole, g, updWhole, 0.01f);
        Assert.NotEqual(updGrouped, updWhole);
    }

    /// <summary>
    /// The training-step features of a vector whose lanes share t are computed once (scalar twin of
    /// the vector tanh); a vector with mixed t takes the per-lane path. t is not a normalised feature,
    /// so changing one coordinate's t must leave every other coordinate's Δ bit for bit unchanged.
    /// </summary>
    [Theory]
    [InlineData(16)]
    [InlineData(8)]
    [InlineData(4)]
    public void Star_step_features_are_identical_on_the_shared_and_per_lane_paths(int width)
    {
        var opt = new StarOptimizer { Execution = { VectorWidthOverride = width } };
        const int n = 40;
        var phi = Phi(opt, 71);
        var a = State(opt, n, 72);
        for (int c = 0; c < n; c++) a[7 * n + c] = 5;
        var b = (float[])a.Clone();
        b[7 * n + 3] = 6;
        var g = Grads(n, 73);
        var ua = new float[n];
        var ub = new float[n];
        opt.Step(phi, a, g, ua, 0.01f);
        opt.Step(phi, b, g, ub, 0.01f);
        for (int c = 0; c < n; c++)
            if (c != 3) Assert.Equal(ua[c], ub[c]);
        Assert.NotEqual(ua[3], ub[3]);
    }

    /// <summary>
    /// With the MLP's direction output zero, STAR is exactly its nominal term: from the zero state,
    /// mᵢ = (1 − βmᵢ)·g, r = (1 − βr)·g², Δ = −10⁻³·e^{10⁻³}·mean(mᵢ)/√(r + 10⁻⁶).
    /// </summary>
    [Fact]
    public void Star_with_a_silent_mlp_takes_the_nominal_adam_aggmo_step()
    {
        var opt = new StarOptimizer();
        var phi = Phi(opt, 51);
        foreach (string a in new[] { "nn.w2", "nn.b2" })
        {
            var e = opt.Layout[a];
            for (int i = 0; i < e.Length; i++) phi[e.Offset + i] = 0;
        }
        var beta = StarOptimizer.DecaysOf(phi);
        float[] g = [0f, 1e-6f, -1e-3f, 0.1f, -0.5f, 1f, 3e-5f];
        int n = g.Length;
        var state = new float[8 * n];
        var upd = new float[n];
        opt.Step(phi, state, g, upd, 0.01f);
        for (int c = 0; c < n; c++)
        {
            double mean = 0;
            for (int i = 0; i < 3; i++) mean += (1 - beta[i]) * g[c] / 3;
            double expected = -1e-3 * Math.Exp(1e-3) * mean / Math.Sqrt((1 - beta[3]) * g[c] * g[c] + 1e-6);
            Assert.True(Math.Abs(upd[c] - expected) <= 1e-5 * Math.Abs(expected) + 1e-12, $"g={g[c]}: {upd[c]} vs {expected}");
            Assert.Equal(1f, state[7 * n + c]);
        }
        // At φ = 0 the decays are MLPNomLOpt's initial ones.
        var zero = StarOptimizer.DecaysOf(new float[opt.Layout.Count]);
        Assert.Equal([0.9, 0.99, 0.999, 0.999, 0.9, 0.99, 0.999], zero.Select(b => Math.Round(b, 12)));
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void Wrong_lengths_throw(string name)
    {
        var opt = LearnedOptimizers.Create(name);
        int p = opt.Layout.Count, u = opt.StateSize;
        var phi = new float[p];
        const int n = 10;
        Assert.Throws<ArgumentException>(() => opt.Step(new float[p - 1], new float[u * n], new float[n], new float[n], 0.1f));
        Assert.Throws<ArgumentException>(() => opt.Step(phi, new float[u * n - 1], new float[n], new float[n], 0.1f));
        Assert.Throws<ArgumentException>(() => opt.Step(phi, new float[u * n], new float[n], new float[n + 1], 0.1f));
        var mg = new float[p];
        Assert.Throws<ArgumentException>(() => opt.MetaGradient(phi, new float[u * n], new float[2 * n], 3, new float[n], 0.1f, mg));
        Assert.Throws<ArgumentException>(() => opt.MetaGradient(phi, new float[u * n], new float[2 * n], 2, new float[n], 0.1f, new float[3]));
        Assert.Throws<ArgumentException>(() => opt.MetaGradient(phi, new float[u * n], new float[2 * n], -1, new float[n], 0.1f, mg));
        var rng = new Rng(1);
        Assert.Throws<ArgumentException>(() => opt.InitMetaParams(ref rng, new float[3]));
        if (opt is StarOptimizer)
        {
            Assert.Throws<ArgumentException>(() => opt.StepGrouped(phi, new float[u * n], new float[n], new float[n], 0.1f, 3));
            Assert.Throws<ArgumentException>(() => opt.MetaGradientGrouped(phi, new float[u * n], new float[2 * n], 2, new float[n], 0.1f, mg, 0));
        }
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void Step_and_meta_gradient_allocate_nothing_in_the_steady_state(string name)
    {
        var opt = LearnedOptimizers.Create(name);
        const int n = 3000, k = 4, group = 1000; // one chunk: no Parallel.For
        var phi = Phi(opt, 61);
        var state = State(opt, n, 62, group);
        var grads = Grads(k * n, 63);
        var lambda = LearnedTestData.RandomNormal(n, 64);
        var upd = new float[n];
        var mg = new float[phi.Length];
        opt.StepGrouped(phi, state, grads.AsSpan(0, n), upd, 0.01f, group);
        opt.MetaGradientGrouped(phi, state, grads, k, lambda, 0.01f, mg, group);
        // The minimum over a few calls, so one-time runtime work (tiering) cannot flake the test; a
        // per-call buffer would show every time.
        long bytes = long.MaxValue;
        for (int i = 0; i < 5; i++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            opt.StepGrouped(phi, state, grads.AsSpan(0, n), upd, 0.01f, group);
            opt.MetaGradientGrouped(phi, state, grads, k, lambda, 0.01f, mg, group);
            bytes = Math.Min(bytes, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        Assert.Equal(0, bytes);
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void MetaA2C_meta_trains_each_baseline_for_two_iterations(string name)
    {
        var cfg = new MetaA2CConfig([new MetaTaskConfig("small_sparse_short", 4, 3e-3f, 1f, 3)], 4 * 20 * 5 * 100, 4, true, 1.0, -1, new A2CConfig(), 7);
        var meta = new MetaA2C(cfg, LearnedOptimizers.Create(name), Optax.FromConfig("Adam", 1e-3, gradClip: 1));
        var phi0 = (float[])meta.Phi.Clone();
        for (int i = 0; i < 2; i++)
        {
            var log = meta.Step();
            Assert.True(double.IsFinite(log.MetaLoss), $"{name}: meta-loss {log.MetaLoss}");
            Assert.True(double.IsFinite(log.MetaGradNorm) && log.MetaGradNorm > 0, $"{name}: meta-gradient norm {log.MetaGradNorm}");
        }
        Assert.Equal(2, meta.Iteration);
        Assert.All(meta.Phi, v => Assert.True(float.IsFinite(v)));
        Assert.NotEqual(phi0, meta.Phi);
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void Untrained_baseline_trains_an_a2c_agent_as_an_ioptimizer(string name)
    {
        var kernel = LearnedOptimizers.Create(name);
        var rng = new Rng(5);
        var phi = new float[kernel.Layout.Count];
        kernel.InitMetaParams(ref rng, phi);
        var opt = new LearnedOptimizer(kernel, phi, 1e-3f, gradClip: 1f);
        var state = opt.Init(40);
        var g = Grads(40, 6);
        var upd = new float[40];
        for (int s = 0; s < 3; s++) opt.Update(g, state, upd);
        Assert.Equal(3, state.Count);
        Assert.All(upd, v => Assert.True(float.IsFinite(v)));
        Assert.Contains(upd, v => v != 0);
    }
}
