using System.Numerics.Tensors;
using Optim4RL.Optimizers;
using Optim4RL.Optimizers.Learned;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Optim4RL.Tests.Optimizers;

/// <summary>
/// <see cref="GroupedOptimizer"/>: the same numbers as the flat-span API whatever the parameters' layout,
/// per-group learning-rate scales, state save/load, and training a model written against Tensor&lt;float&gt;.
/// </summary>
public class GroupedOptimizerTests
{
    /// <summary>Shapes of a small network's tensors; 2,600 coordinates in all, so the learned kernel's 2048-blocks are crossed.</summary>
    private static readonly int[][] Shapes = [[40, 50], [50], [50, 11], [11], [1]];

    public enum Layout
    {
        SeparateArrays,
        SlicesOfOneArray,
        SeparateTensors,
        TensorViewsOfOneArray,
    }

    /// <summary>The parameters of <see cref="Shapes"/> in a layout, filled with θ0 (and zero gradients).</summary>
    private sealed class Model
    {
        public readonly List<(string Name, Func<Span<float>> Value, Func<Span<float>> Grad, Action<ParameterGroup> AddTo)> Params = [];

        public Model(Layout layout, float[] theta0)
        {
            int p = theta0.Length;
            float[] theta = new float[p], grad = new float[p];
            int offset = 0;
            for (int i = 0; i < Shapes.Length; i++)
            {
                int[] shape = Shapes[i];
                int n = shape.Aggregate(1, (a, b) => a * b);
                string name = $"p{i}";
                switch (layout)
                {
                    case Layout.SeparateArrays:
                    {
                        float[] v = theta0.AsSpan(offset, n).ToArray(), g = new float[n];
                        Params.Add((name, () => v, () => g, grp => grp.Add(name, v, g)));
                        break;
                    }
                    case Layout.SlicesOfOneArray:
                    {
                        theta0.AsSpan(offset, n).CopyTo(theta.AsSpan(offset));
                        Memory<float> v = theta.AsMemory(offset, n), g = grad.AsMemory(offset, n);
                        Params.Add((name, () => v.Span, () => g.Span, grp => grp.Add(name, v, g)));
                        break;
                    }
                    case Layout.SeparateTensors:
                    {
                        nint[] lengths = Array.ConvertAll(shape, d => (nint)d);
                        var v = Tensor.CreateFromShape<float>(lengths);
                        var g = Tensor.CreateFromShape<float>(lengths);
                        theta0.AsSpan(offset, n).CopyTo(Flat(v));
                        Params.Add((name, () => Flat(v), () => Flat(g), grp => grp.Add(name, v, g)));
                        break;
                    }
                    case Layout.TensorViewsOfOneArray:
                    {
                        theta0.AsSpan(offset, n).CopyTo(theta.AsSpan(offset));
                        nint[] lengths = Array.ConvertAll(shape, d => (nint)d);
                        var v = Tensor.Create(theta, offset, lengths, []);
                        var g = Tensor.Create(grad, offset, lengths, []);
                        Params.Add((name, () => Flat(v), () => Flat(g), grp => grp.Add(name, v, g)));
                        break;
                    }
                }

                offset += n;
            }
        }

        /// <summary>Two groups: the first two tensors, then the rest.</summary>
        public ParameterGroup[] Groups(float scale0 = 1f, float scale1 = 1f)
        {
            var a = new ParameterGroup("torso", scale0);
            var b = new ParameterGroup("head", scale1);
            for (int i = 0; i < Params.Count; i++) Params[i].AddTo(i < 2 ? a : b);
            return [a, b];
        }

        public void SetGrad(float[] flat)
        {
            int offset = 0;
            foreach (var p in Params)
            {
                var g = p.Grad();
                flat.AsSpan(offset, g.Length).CopyTo(g);
                offset += g.Length;
            }
        }

        public float[] Theta()
        {
            var all = new List<float>();
            foreach (var p in Params) all.AddRange(p.Value().ToArray());
            return [.. all];
        }
    }

    private static Span<float> Flat(Tensor<float> t) => t.GetSpan(new nint[t.Rank], (int)t.FlattenedLength);

    private static int P => Shapes.Sum(s => s.Aggregate(1, (a, b) => a * b));

    private static IOptimizer Create(string name) => name switch
    {
        "adam" => Optax.Adam(1e-2),
        "learned" => LearnedOptimizer.Load("optim4rl-catch"),
        "learned-clipped" => LearnedOptimizer.Load("optim4rl-catch", learningRate: 3e-3, gradClip: 0.5),
        "chain" => Optax.Chain(Optax.ClipByGlobalNorm(5), Optax.RmsProp(1e-3)),
        _ => throw new ArgumentException(name),
    };

    public static TheoryData<string, Layout> OptimizersAndLayouts()
    {
        var data = new TheoryData<string, Layout>();
        foreach (string o in new[] { "adam", "learned", "learned-clipped", "chain" })
        {
            foreach (var l in Enum.GetValues<Layout>()) data.Add(o, l);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(OptimizersAndLayouts))]
    public void Steps_are_bit_identical_to_the_flat_span_API(string optimizer, Layout layout)
    {
        float[] theta0 = OptimizerTestUtil.Gaussian(7, P, 0.1);
        var model = new Model(layout, theta0);
        var grouped = new GroupedOptimizer(Create(optimizer), model.Groups());
        Assert.Equal(layout is Layout.SlicesOfOneArray or Layout.TensorViewsOfOneArray, grouped.GradientsAreContiguous);

        var flatOpt = Create(optimizer);
        var state = flatOpt.Init(P);
        float[] theta = (float[])theta0.Clone(), updates = new float[P];
        for (int k = 0; k < 6; k++)
        {
            float[] g = OptimizerTestUtil.Gaussian(100 + k, P, k % 2 == 0 ? 1.0 : 1e-3);
            flatOpt.Update(g, state, updates);
            TP.Add(theta, updates, theta);

            model.SetGrad(g);
            grouped.Step();
            Assert.Equal(theta, model.Theta());
        }

        Assert.Equal(6, grouped.StepCount);
        AssertSameState(state, grouped.State);
    }

    [Fact]
    public void A_groups_scale_multiplies_its_update_and_leaves_the_other_group_as_the_flat_API_does()
    {
        float[] theta0 = OptimizerTestUtil.Gaussian(3, P, 0.1);
        var model = new Model(Layout.SeparateArrays, theta0);
        var groups = model.Groups(scale0: 1f, scale1: 0.25f);
        var grouped = new GroupedOptimizer(LearnedOptimizer.Load("optim4rl-catch"), groups);
        int split = groups[0].Count;

        var flatOpt = LearnedOptimizer.Load("optim4rl-catch");
        var state = flatOpt.Init(P);
        float[] theta = (float[])theta0.Clone(), updates = new float[P];
        for (int k = 0; k < 4; k++)
        {
            if (k == 2) groups[1].LearningRateScale = 0f; // a schedule: freeze the head from step 3 on
            float[] g = OptimizerTestUtil.Gaussian(200 + k, P);
            flatOpt.Update(g, state, updates);
            TP.Add(theta.AsSpan(0, split), updates.AsSpan(0, split), theta.AsSpan(0, split));
            float s = groups[1].LearningRateScale;
            for (int i = split; i < P; i++) theta[i] += updates[i] * s;

            model.SetGrad(g);
            grouped.Step();
            Assert.Equal(theta, model.Theta());
        }

        AssertSameState(state, grouped.State); // the frozen group's state still advanced
    }

    [Theory]
    [InlineData("sgd")]
    [InlineData("adam")]
    [InlineData("rmsprop")]
    public void For_hand_designed_optimizers_a_scale_s_is_the_learning_rate_s_alpha(string name)
    {
        const double alpha = 1e-2;
        const float s = 0.3f;
        float[] theta0 = OptimizerTestUtil.Gaussian(5, P, 0.1);
        var model = new Model(Layout.SeparateTensors, theta0);
        var groups = model.Groups(scale0: s, scale1: s);
        var grouped = new GroupedOptimizer(Optax.FromConfig(name, alpha), groups);

        var flatOpt = Optax.FromConfig(name, s * alpha);
        var state = flatOpt.Init(P);
        float[] theta = (float[])theta0.Clone(), updates = new float[P];
        for (int k = 0; k < 5; k++)
        {
            float[] g = OptimizerTestUtil.Gaussian(300 + k, P);
            flatOpt.Update(g, state, updates);
            TP.Add(theta, updates, theta);
            model.SetGrad(g);
            grouped.Step();
        }

        float[] got = model.Theta();
        for (int i = 0; i < P; i++) OptimizerTestUtil.Close(theta[i], got[i], 1e-5, 1e-7, $"θ[{i}]");
    }

    [Theory]
    [InlineData("adam", Layout.SeparateArrays)]
    [InlineData("learned", Layout.TensorViewsOfOneArray)]
    [InlineData("chain", Layout.SeparateTensors)]
    public void Saving_and_loading_the_state_continues_training_identically(string optimizer, Layout layout)
    {
        float[] theta0 = OptimizerTestUtil.Gaussian(11, P, 0.1);
        var model = new Model(layout, theta0);
        var groups = model.Groups(scale1: 0.5f);
        var opt = new GroupedOptimizer(Create(optimizer), groups);
        for (int k = 0; k < 3; k++)
        {
            model.SetGrad(OptimizerTestUtil.Gaussian(400 + k, P));
            opt.Step();
        }

        var saved = new MemoryStream();
        using (var w = new BinaryWriter(saved, System.Text.Encoding.UTF8, leaveOpen: true)) opt.SaveState(w);
        float[] thetaAtSave = model.Theta();

        for (int k = 3; k < 6; k++)
        {
            model.SetGrad(OptimizerTestUtil.Gaussian(400 + k, P));
            opt.Step();
        }

        // A fresh process: new parameters restored from the saved θ, a new optimizer whose scale differs until loaded.
        var model2 = new Model(layout, thetaAtSave);
        var groups2 = model2.Groups(scale1: 1f);
        var opt2 = new GroupedOptimizer(Create(optimizer), groups2);
        saved.Position = 0;
        using (var r = new BinaryReader(saved)) opt2.LoadState(r);
        Assert.Equal(0.5f, groups2[1].LearningRateScale);
        Assert.Equal(3, opt2.StepCount);
        for (int k = 3; k < 6; k++)
        {
            model2.SetGrad(OptimizerTestUtil.Gaussian(400 + k, P));
            opt2.Step();
        }

        Assert.Equal(model.Theta(), model2.Theta());
        AssertSameState(opt.State, opt2.State);
    }

    [Fact]
    public void Loading_a_state_of_another_layout_or_optimizer_is_refused_and_changes_nothing()
    {
        float[] theta0 = OptimizerTestUtil.Gaussian(13, P, 0.1);
        var adam = new GroupedOptimizer(Optax.Adam(1e-3), new Model(Layout.SeparateArrays, theta0).Groups());
        adam.Step();
        byte[] adamState = Save(adam);

        var learned = new GroupedOptimizer(LearnedOptimizer.Load("optim4rl-catch"), new Model(Layout.SeparateArrays, theta0).Groups());
        var e = Assert.Throws<InvalidDataException>(() => Load(learned, adamState));
        Assert.Contains("does not fit", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, learned.StepCount);

        var single = new ParameterGroup("all");
        new Model(Layout.SeparateArrays, theta0).Params.ForEach(p => p.AddTo(single));
        var other = new GroupedOptimizer(Optax.Adam(1e-3), single);
        e = Assert.Throws<InvalidDataException>(() => Load(other, adamState));
        Assert.Contains("groups", e.Message, StringComparison.Ordinal);

        // Truncated: nothing changed.
        var again = new GroupedOptimizer(Optax.Adam(1e-3), new Model(Layout.SeparateArrays, theta0).Groups());
        Assert.Throws<EndOfStreamException>(() => Load(again, adamState[..^100]));
        Assert.Equal(0, again.StepCount);
        Assert.All(again.State.Buffers, b => Assert.All(b, x => Assert.Equal(0f, x)));
    }

    [Fact]
    public void Invalid_groups_are_refused_with_a_message()
    {
        float[] a = new float[4], ga = new float[4], b = new float[3];
        Assert.Throws<ArgumentException>(() => new ParameterGroup("g").Add("a", a, b));
        Assert.Throws<ArgumentException>(() => new ParameterGroup("g").Add("a", a, ga).Add("a", new float[1], new float[1]));
        Assert.Throws<ArgumentException>(() => new ParameterGroup("g").Add("a", [], []));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ParameterGroup("g", -1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ParameterGroup("g", float.NaN));

        var t = Tensor.CreateFromShape<float>([3, 4]);
        var tg = Tensor.CreateFromShape<float>([4, 3]);
        Assert.Throws<ArgumentException>(() => new ParameterGroup("g").Add("t", t, tg));
        var broadcast = Tensor.Create(new float[4], [3, 4], [0, 1]);
        Assert.Throws<ArgumentException>(() => new ParameterGroup("g").Add("t", broadcast, Tensor.CreateFromShape<float>([3, 4])));

        // The same memory twice (torch: "some parameters appear in more than one parameter group").
        var g1 = new ParameterGroup("one").Add("a", a, ga);
        var g2 = new ParameterGroup("two").Add("a-again", a.AsMemory(1, 2), new float[2]);
        var e = Assert.Throws<ArgumentException>(() => new GroupedOptimizer(Optax.Sgd(1), g1, g2));
        Assert.Contains("share memory", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new GroupedOptimizer(Optax.Sgd(1), new ParameterGroup("x").Add("a", a, ga), new ParameterGroup("x").Add("b", b, new float[3])));
        Assert.Throws<ArgumentException>(() => new GroupedOptimizer(Optax.Sgd(1), new ParameterGroup("empty")));

        // Frozen once an optimizer holds the group.
        var held = new ParameterGroup("held").Add("a", a, ga);
        var opt = new GroupedOptimizer(Optax.Sgd(1), held);
        Assert.True(held.IsFrozen);
        Assert.Throws<InvalidOperationException>(() => held.Add("b", b, new float[3]));
        Assert.Equal(0, held.Parameters[0].Offset);
        Assert.Equal(4, opt.ParameterCount);
    }

    [Fact]
    public void ZeroGrad_clears_every_gradient_buffer_and_Step_leaves_them()
    {
        var model = new Model(Layout.SeparateTensors, OptimizerTestUtil.Gaussian(1, P, 0.1));
        var opt = new GroupedOptimizer(Optax.Sgd(0.1), model.Groups());
        float[] g = OptimizerTestUtil.Gaussian(2, P);
        model.SetGrad(g);
        opt.Step();
        Assert.Equal(g, model.Params.SelectMany(p => p.Grad().ToArray()).ToArray());
        opt.ZeroGrad();
        Assert.All(model.Params, p => Assert.All(p.Grad().ToArray(), x => Assert.Equal(0f, x)));
    }

    // ---- Training a model written directly against Tensor<float> -------------------------------------

    /// <summary>
    /// y = tanh(x·W1 + b1)·W2 + b2 on a fixed regression problem (4 inputs, 32 hidden units), full-batch
    /// mean squared error, gradients by hand: only System.Numerics.Tensors types in the model.
    /// </summary>
    private sealed class TwoLayerNet
    {
        public const int Inputs = 4, Hidden = 32, Samples = 256;
        public readonly Tensor<float> W1, B1, W2, B2, GW1, GB1, GW2, GB2;
        private readonly Tensor<float> _x, _y, _h, _out;

        public TwoLayerNet(int seed)
        {
            var r = new Random(seed);
            float Normal() => (float)(Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble()));
            W1 = Tensor.CreateFromShape<float>([Inputs, Hidden]);
            B1 = Tensor.CreateFromShape<float>([Hidden]);
            W2 = Tensor.CreateFromShape<float>([Hidden, 1]);
            B2 = Tensor.CreateFromShape<float>([1]);
            GW1 = Tensor.CreateFromShape<float>([Inputs, Hidden]);
            GB1 = Tensor.CreateFromShape<float>([Hidden]);
            GW2 = Tensor.CreateFromShape<float>([Hidden, 1]);
            GB2 = Tensor.CreateFromShape<float>([1]);
            foreach (ref float w in Flat(W1)) w = Normal() / MathF.Sqrt(Inputs);
            foreach (ref float w in Flat(W2)) w = Normal() / MathF.Sqrt(Hidden);

            // The data: a fixed smooth target of the 4 inputs (the same for every seed).
            var d = new Random(12345);
            _x = Tensor.CreateFromShape<float>([Samples, Inputs]);
            _y = Tensor.CreateFromShape<float>([Samples]);
            _h = Tensor.CreateFromShape<float>([Samples, Hidden]);
            _out = Tensor.CreateFromShape<float>([Samples]);
            Span<float> x = Flat(_x), y = Flat(_y);
            for (int n = 0; n < Samples; n++)
            {
                for (int i = 0; i < Inputs; i++) x[n * Inputs + i] = (float)(2 * d.NextDouble() - 1);
                float x0 = x[n * Inputs], x1 = x[n * Inputs + 1], x2 = x[n * Inputs + 2], x3 = x[n * Inputs + 3];
                y[n] = MathF.Sin(2 * x0) + 0.5f * x1 * x1 - x2 * x3;
            }
        }

        /// <summary>The loss; with <paramref name="backward"/>, also writes the gradient into GW1, GB1, GW2, GB2.</summary>
        public float Loss(bool backward)
        {
            Span<float> x = Flat(_x), y = Flat(_y), h = Flat(_h), o = Flat(_out);
            Span<float> w1 = Flat(W1), b1 = Flat(B1), w2 = Flat(W2);
            float b2 = Flat(B2)[0];
            double loss = 0;
            for (int n = 0; n < Samples; n++)
            {
                float acc = b2;
                for (int j = 0; j < Hidden; j++)
                {
                    float pre = b1[j];
                    for (int i = 0; i < Inputs; i++) pre += x[n * Inputs + i] * w1[i * Hidden + j];
                    h[n * Hidden + j] = MathF.Tanh(pre);
                    acc += h[n * Hidden + j] * w2[j];
                }

                o[n] = acc;
                loss += (double)(acc - y[n]) * (acc - y[n]);
            }

            if (backward)
            {
                Span<float> gw1 = Flat(GW1), gb1 = Flat(GB1), gw2 = Flat(GW2), gb2 = Flat(GB2);
                for (int n = 0; n < Samples; n++)
                {
                    float dout = 2f * (o[n] - y[n]) / Samples;
                    gb2[0] += dout;
                    for (int j = 0; j < Hidden; j++)
                    {
                        float hj = h[n * Hidden + j];
                        gw2[j] += hj * dout;
                        float dpre = dout * w2[j] * (1 - hj * hj);
                        gb1[j] += dpre;
                        for (int i = 0; i < Inputs; i++) gw1[i * Hidden + j] += x[n * Inputs + i] * dpre;
                    }
                }
            }

            return (float)(loss / Samples);
        }
    }

    [Fact]
    public void The_hand_written_gradient_of_the_test_network_matches_finite_differences()
    {
        var net = new TwoLayerNet(1);
        net.Loss(backward: true);
        foreach (var (w, g) in new[] { (net.W1, net.GW1), (net.B1, net.GB1), (net.W2, net.GW2), (net.B2, net.GB2) })
        {
            Span<float> ws = Flat(w);
            for (int i = 0; i < ws.Length; i += Math.Max(1, ws.Length / 7))
            {
                float keep = ws[i];
                ws[i] = keep + 1e-2f;
                double up = net.Loss(false);
                ws[i] = keep - 1e-2f;
                double down = net.Loss(false);
                ws[i] = keep;
                OptimizerTestUtil.Close((up - down) / 2e-2, Flat(g)[i], 0.02, 2e-4, "∂L/∂w");
            }
        }
    }

    [Theory]
    [InlineData("adam")]
    [InlineData("pretrained")]
    public void A_Tensor_model_trained_through_parameter_groups_learns_the_regression(string optimizer)
    {
        // Three seeds of the network's initialisation; each must lose most of its initial error.
        var ratios = new List<double>();
        foreach (int seed in new[] { 1, 2, 3 })
        {
            var net = new TwoLayerNet(seed);
            IOptimizer inner = optimizer == "adam" ? Optax.Adam(1e-2) : LearnedOptimizer.Load("optim4rl-catch", learningRate: 1e-2);
            var opt = new GroupedOptimizer(inner,
                new ParameterGroup("hidden").Add("w1", net.W1, net.GW1).Add("b1", net.B1, net.GB1),
                new ParameterGroup("output").Add("w2", net.W2, net.GW2).Add("b2", net.B2, net.GB2));
            float initial = net.Loss(false);
            for (int step = 0; step < 300; step++)
            {
                opt.ZeroGrad();
                net.Loss(backward: true);
                opt.Step();
            }

            float final = net.Loss(false);
            Assert.True(float.IsFinite(final), $"seed {seed}: loss {final}");
            ratios.Add(final / initial);
        }

        Assert.True(ratios.Max() < 0.1, $"{optimizer}: final/initial loss per seed {string.Join(", ", ratios.Select(r => r.ToString("F3")))}");
    }

    private static byte[] Save(GroupedOptimizer opt)
    {
        var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms)) opt.SaveState(w);
        return ms.ToArray();
    }

    private static void Load(GroupedOptimizer opt, byte[] data)
    {
        using var r = new BinaryReader(new MemoryStream(data));
        opt.LoadState(r);
    }

    private static void AssertSameState(OptimizerState expected, OptimizerState actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        Assert.Equal(expected.Names, actual.Names);
        for (int i = 0; i < expected.Buffers.Length; i++) Assert.Equal(expected.Buffers[i], actual.Buffers[i]);
        Assert.Equal(expected.Children.Length, actual.Children.Length);
        for (int i = 0; i < expected.Children.Length; i++) AssertSameState(expected.Children[i], actual.Children[i]);
    }
}
