using Optim4RL.Autodiff;
using Optim4RL.Envs;
using Optim4RL.Nn;
using Optim4RL.Tensors;
using Optim4RL.Tests.Autodiff;

namespace Optim4RL.Tests.Nn;

public class NetworkTests
{
    [Fact]
    public void LeCunNormal_has_the_right_statistics()
    {
        const int fanIn = 50, n = 200_000;
        var w = new double[n];
        var rng = new Rng(123);
        Init.LeCunNormal<double>(w, fanIn, ref rng);
        double mean = w.Average();
        double std = Math.Sqrt(w.Select(v => (v - mean) * (v - mean)).Average());
        double target = Math.Sqrt(1.0 / fanIn);
        Assert.InRange(mean, -0.01 * target, 0.01 * target);
        Assert.InRange(std, 0.99 * target, 1.01 * target);
        double bound = 2 * target / Init.TruncatedNormalStd;
        Assert.All(w, v => Assert.InRange(v, -bound, bound));
        Assert.True(w.Max(Math.Abs) > 0.95 * bound); // truncation bound is reached, not a narrower law
    }

    [Fact]
    public void LeCunUniform_has_the_right_statistics()
    {
        const int fanIn = 64, n = 200_000;
        var w = new float[n];
        var rng = new Rng(5);
        Init.LeCunUniform<float>(w, fanIn, ref rng);
        double std = Math.Sqrt(w.Select(v => (double)v * v).Average());
        Assert.InRange(std, 0.99 / 8, 1.01 / 8);
        Assert.All(w, v => Assert.InRange(v, -Math.Sqrt(3.0 / fanIn), Math.Sqrt(3.0 / fanIn)));
    }

    [Fact]
    public void Catch_network_layout_matches_spec()
    {
        var net = NetworkSpec.ForTask("catch", [10, 5], 3);
        Assert.Equal(50 * 256 + 256 + 256 * 3 + 3 + 256 + 1, net.Layout.Count);
        Assert.Equal(
            ["torso/dense/kernel", "torso/dense/bias", "actor/kernel", "actor/bias", "critic/kernel", "critic/bias"],
            net.Layout.Entries.Select(e => e.Name));
        Assert.Equal(0, net.ConvFilters);
        Assert.Equal(256, net.HiddenSize);
    }

    [Fact]
    public void Small_gridworld_network_layout_matches_spec()
    {
        // small_sparse_short: 5×10 map, 2 objects + agent = 3 channels, 9 actions.
        var net = NetworkSpec.ForTask("small_sparse_short", [5, 10, 3], 9);
        Assert.Equal(150 * 32 + 32 + 32 * 9 + 9 + 32 + 1, net.Layout.Count);
    }

    [Fact]
    public void Big_gridworld_network_layout_matches_spec()
    {
        // big_sparse_short: 12×14 map, 4 objects + agent = 5 channels, 9 actions.
        // Reference layout (default): conv over (channel, row) with the 14 columns as input channels.
        var net = NetworkSpec.ForTask("big_sparse_short", [12, 14, 5], 9);
        Assert.Equal(ConvLayout.Reference, net.ConvLayout);
        int conv = 2 * 2 * 14 * 16 + 16;
        int dense = 5 * 12 * 16 * 32 + 32;
        Assert.Equal(conv + dense + 32 * 9 + 9 + 32 + 1, net.Layout.Count);
        Assert.Equal(16, net.ConvFilters);
        Assert.Equal(new[] { 2, 2, 14, 16 }, net.Layout["torso/conv/kernel"].Shape);
        Assert.Equal(new[] { 5 * 12 * 16, 32 }, net.Layout["torso/dense/kernel"].Shape);
        Assert.Equal(0, net.Layout.OffsetOf("torso/conv/kernel"));
        Assert.Equal(
            ["torso/conv/kernel", "torso/conv/bias", "torso/dense/kernel", "torso/dense/bias", "actor/kernel", "actor/bias", "critic/kernel", "critic/bias"],
            net.Layout.Entries.Select(e => e.Name));
        Assert.Equal(NetworkSpec.ForTask("bss", [12, 14, 5], 9).Layout.Count, net.Layout.Count);

        // Rows × columns with the object maps as input channels.
        var rc = NetworkSpec.ForTask("big_sparse_short", [12, 14, 5], 9, ConvLayout.RowsCols);
        Assert.Equal(ConvLayout.RowsCols, rc.ConvLayout);
        Assert.Equal(2 * 2 * 5 * 16 + 16 + 12 * 14 * 16 * 32 + 32 + 32 * 9 + 9 + 32 + 1, rc.Layout.Count);
        Assert.Equal(new[] { 2, 2, 5, 16 }, rc.Layout["torso/conv/kernel"].Shape);
        Assert.Equal(new[] { 12 * 14 * 16, 32 }, rc.Layout["torso/dense/kernel"].Shape);
    }

    [Theory]
    [InlineData("big_dense_long", 39_482, 85_178)]
    [InlineData("big_dense_short", 29_498, 85_178)]
    [InlineData("big_sparse_short", 31_994, 86_714)]
    [InlineData("big_sparse_long", 36_986, 86_714)]
    public void Big_gridworld_parameter_counts_on_the_real_observation_shapes(string task, int reference, int rowsCols)
    {
        var env = EnvRegistry.CreateDiscrete(task, 1, new Rng(1));
        int[] shape = env.ObservationShape.ToArray();
        Assert.Equal(reference, NetworkSpec.ForTask(env.Name, shape, env.ActionCount).Layout.Count);
        Assert.Equal(reference, NetworkSpec.ForTask(env.Name, shape, env.ActionCount, ConvLayout.Reference).Layout.Count);
        Assert.Equal(rowsCols, NetworkSpec.ForTask(env.Name, shape, env.ActionCount, ConvLayout.RowsCols).Layout.Count);
    }

    [Theory]
    [InlineData("catch")]
    [InlineData("small_dense_long")]
    public void Conv_layout_changes_nothing_without_a_conv(string task)
    {
        var env = EnvRegistry.CreateDiscrete(task, 1, new Rng(1));
        var a = NetworkSpec.ForTask(env.Name, env.ObservationShape.ToArray(), env.ActionCount, ConvLayout.Reference);
        var b = NetworkSpec.ForTask(env.Name, env.ObservationShape.ToArray(), env.ActionCount, ConvLayout.RowsCols);
        Assert.Equal(a.Layout.Entries.Select(e => (e.Name, e.Offset, string.Join(",", e.Shape))), b.Layout.Entries.Select(e => (e.Name, e.Offset, string.Join(",", e.Shape))));
        var theta = new float[a.Layout.Count];
        var rng = new Rng(3);
        a.InitParams(theta, ref rng);
        var g = new Graph<float>();
        var obs = g.Input([2, .. env.ObservationShape]);
        obs.Value.Span[1] = 1;
        var (la, _) = a.Build(g, obs, theta, new float[theta.Length], 0);
        var (lb, _) = b.Build(g, obs, theta, new float[theta.Length], 0);
        g.Forward();
        Assert.Equal(la.Value.Span.ToArray(), lb.Value.Span.ToArray());
    }

    [Theory]
    [InlineData(ConvLayout.Reference)]
    [InlineData(ConvLayout.RowsCols)]
    public void Conv_network_forward_matches_a_plain_loop_computation(ConvLayout layout)
    {
        // Small, non-square, all axes different: H = 4 rows, W = 3 columns, C = 2 maps; F = 3, hidden 5, 4 actions.
        const int n = 2, h = 4, w = 3, c = 2, f = 3, hidden = 5, actions = 4;
        var net = new NetworkSpec([h, w, c], actions, hidden, convFilters: f, convLayout: layout);
        var theta = new double[net.Layout.Count];
        var rng = new Rng(17);
        net.InitParams<double>(theta, ref rng);
        for (int i = 0; i < theta.Length; i++) theta[i] += 0.1 * rng.NextNormal(); // non-zero biases too
        var g = new Graph<double>();
        var obs = g.Input(n, h, w, c);
        GradCheck.FillRandom(obs, 5);
        var (logits, value) = net.Build(g, obs, theta, new double[theta.Length], 0);
        g.Forward();

        double[] Block(string name) => theta.AsSpan(net.Layout.OffsetOf(name), net.Layout[name].Length).ToArray();
        double[] k = Block("torso/conv/kernel"), kb = Block("torso/conv/bias");
        double[] dw = Block("torso/dense/kernel"), db = Block("torso/dense/bias");
        double[] aw = Block("actor/kernel"), ab = Block("actor/bias"), cw = Block("critic/kernel"), cb = Block("critic/bias");
        double[] o = obs.Value.Span.ToArray();
        for (int s = 0; s < n; s++)
        {
            // The conv input as [spatial 1, spatial 2, channels], written out from the [H, W, C] observation.
            double[,,] x = layout == ConvLayout.Reference ? new double[c, h, w] : new double[h, w, c];
            for (int i = 0; i < h; i++)
            {
                for (int j = 0; j < w; j++)
                {
                    for (int m = 0; m < c; m++)
                    {
                        double v = o[((s * h + i) * w + j) * c + m];
                        if (layout == ConvLayout.Reference) x[m, i, j] = v; // [C, H, W]
                        else x[i, j, m] = v;
                    }
                }
            }

            double[] features = ConvSameChannelsLastRelu(x, k, kb, f);
            double[] hid = DenseRelu(features, dw, db, hidden, relu: true);
            double[] lg = DenseRelu(hid, aw, ab, actions, relu: false);
            double[] v1 = DenseRelu(hid, cw, cb, 1, relu: false);
            for (int a = 0; a < actions; a++) Assert.Equal(lg[a], logits.Value.Span[s * actions + a], 1e-12);
            Assert.Equal(v1[0], value.Value.Span[s], 1e-12);
        }
    }

    /// <summary>
    /// A channels-last 2×2 "same" convolution (padding after), ReLU, flattened row-major:
    /// x [A, B, Cin], k [2, 2, Cin, F] → [A·B·F].
    /// </summary>
    private static double[] ConvSameChannelsLastRelu(double[,,] x, double[] k, double[] bias, int f)
    {
        int a = x.GetLength(0), b = x.GetLength(1), cin = x.GetLength(2);
        Assert.Equal(4 * cin * f, k.Length);
        var y = new double[a * b * f];
        for (int i = 0; i < a; i++)
        {
            for (int j = 0; j < b; j++)
            {
                for (int ff = 0; ff < f; ff++)
                {
                    double sum = bias[ff];
                    for (int di = 0; di < 2; di++)
                    {
                        for (int dj = 0; dj < 2; dj++)
                        {
                            if (i + di >= a || j + dj >= b) continue;
                            for (int ch = 0; ch < cin; ch++) sum += x[i + di, j + dj, ch] * k[((di * 2 + dj) * cin + ch) * f + ff];
                        }
                    }

                    y[(i * b + j) * f + ff] = Math.Max(sum, 0);
                }
            }
        }

        return y;
    }

    private static double[] DenseRelu(double[] x, double[] kernel, double[] bias, int outputs, bool relu)
    {
        Assert.Equal(x.Length * outputs, kernel.Length);
        var y = new double[outputs];
        for (int o = 0; o < outputs; o++)
        {
            double sum = bias[o];
            for (int i = 0; i < x.Length; i++) sum += x[i] * kernel[i * outputs + o];
            y[o] = relu ? Math.Max(sum, 0) : sum;
        }

        return y;
    }

    [Fact]
    public void Unknown_task_and_bad_observation_shapes_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => NetworkSpec.ForTask("pong", [10, 5], 3));
        Assert.Throws<ArgumentException>(() => NetworkSpec.ForTask("big_dense_long", [15, 11], 9));
        var net = NetworkSpec.ForTask("catch", [10, 5], 3);
        var g = new Graph<float>();
        var ex = Assert.Throws<ArgumentException>(() => net.Build(g, g.Input(4, 50), new float[net.Layout.Count], new float[net.Layout.Count], 0));
        Assert.Contains("[4, 50]", ex.Message);
        Assert.Contains("10, 5", ex.Message);
    }

    [Fact]
    public void InitParams_gives_lecun_kernels_and_zero_biases()
    {
        var net = NetworkSpec.ForTask("big_dense_short", [11, 15, 5], 9);
        var theta = new float[net.Layout.Count];
        theta.AsSpan().Fill(7f);
        var rng = new Rng(2);
        net.InitParams(theta, ref rng);
        foreach (var e in net.Layout.Entries)
        {
            var s = theta.AsSpan(e.Offset, e.Length).ToArray();
            if (e.Name.EndsWith("/bias", StringComparison.Ordinal))
            {
                Assert.All(s, v => Assert.Equal(0f, v));
            }
            else
            {
                int fanIn = e.Length / e.Shape[^1];
                double bound = 2 * Math.Sqrt(1.0 / fanIn) / Init.TruncatedNormalStd + 1e-6;
                Assert.All(s, v => Assert.InRange(v, -bound, bound));
                Assert.Contains(s, v => v != 0f);
            }
        }

        // Same seed, same parameters; float and double overloads agree.
        var again = new float[theta.Length];
        var rng2 = new Rng(2);
        net.InitParams(again, ref rng2);
        Assert.Equal(theta, again);
        var d = new double[theta.Length];
        var rng3 = new Rng(2);
        net.InitParams<double>(d, ref rng3);
        Assert.Equal(theta, d.Select(v => (float)v).ToArray());
    }

    [Fact]
    public void Build_returns_logits_and_values_of_the_right_shapes()
    {
        var net = NetworkSpec.ForTask("big_sparse_long", [14, 12, 5], 9);
        var theta = new float[net.Layout.Count];
        var rng = new Rng(4);
        net.InitParams(theta, ref rng);
        var g = new Graph<float>();
        var obs = g.Input(21, 14, 12, 5);
        obs.Value.Span[7] = 1;
        var (logits, value) = net.Build(g, obs, theta, new float[theta.Length], 0);
        g.Forward();
        Assert.Equal(new[] { 21, 9 }, logits.Shape);
        Assert.Equal(new[] { 21, 1 }, value.Shape);
        Assert.All(logits.Value.Span.ToArray(), v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void Mlp_layout_matches_ppo_sizes()
    {
        var policy = new Mlp(27, [32, 32, 32, 32], 16, Activation.Silu, name: "policy");
        Assert.Equal(27 * 32 + 32 + 3 * (32 * 32 + 32) + 32 * 16 + 16, policy.Layout.Count);
        var shared = new ParameterLayout();
        var p = new Mlp(27, [32, 32, 32, 32], 16, Activation.Silu, shared, "policy");
        var v = new Mlp(27, [64, 64, 64, 64, 64], 1, Activation.Silu, shared, "value", KernelInit.LeCunUniform);
        Assert.Equal(policy.Layout.Count + 27 * 64 + 64 + 4 * (64 * 64 + 64) + 64 + 1, shared.Count);
        Assert.Equal(policy.Layout.Count, shared.OffsetOf("value/dense0/kernel"));
        Assert.Equal(5, p.Layers.Count);
        Assert.Equal(6, v.Layers.Count);
    }

    [Theory]
    [InlineData(Activation.Relu)]
    [InlineData(Activation.Silu)]
    [InlineData(Activation.Tanh)]
    public void Mlp_gradient_matches_finite_differences(Activation act)
    {
        var layout = new ParameterLayout();
        var mlp = new Mlp(3, [5, 4], 2, act, layout, activateFinal: act == Activation.Tanh);
        GradCheck.Check(layout.Count + 4 * 3, (g, th, gr) =>
        {
            var x = g.Parameter(th, gr, layout.Count, 4, 3); // the inputs are differentiated too
            var y = mlp.Build(g, x, th, gr, 0);
            Assert.Equal(new[] { 4, 2 }, y.Shape);
            return GradCheck.WeightedSum(g, y);
        }, fill: th =>
        {
            var rng = new Rng(8);
            mlp.InitParams<double>(th, ref rng);
            for (int i = 0; i < th.Length; i++) th[i] += 0.1 * rng.NextNormal();
        });
    }

    [Fact]
    public void ParameterLayout_rejects_duplicates_and_reports_entries()
    {
        var l = new ParameterLayout();
        Assert.Equal(0, l.Add("a", 2, 3));
        Assert.Equal(6, l.Add("b", 4));
        Assert.Equal(10, l.Count);
        Assert.Throws<ArgumentException>(() => l.Add("a", 1));
        Assert.Throws<KeyNotFoundException>(() => l.OffsetOf("c"));
        Assert.Equal(4, l["b"].Length);
    }
}
