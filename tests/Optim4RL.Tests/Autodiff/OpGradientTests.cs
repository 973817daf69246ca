using Optim4RL.Autodiff;
using Optim4RL.Tensors;

namespace Optim4RL.Tests.Autodiff;

public class OpGradientTests
{
    private static Node<double> P(Graph<double> g, double[] th, double[] gr, int offset, params int[] shape) => g.Parameter(th, gr, offset, shape);

    [Fact]
    public void Dense_gradient_matches_finite_differences()
    {
        // x [3,4], w [4,5], b [5]
        GradCheck.Check(12 + 20 + 5, (g, th, gr) =>
        {
            var x = P(g, th, gr, 0, 3, 4);
            var w = P(g, th, gr, 12, 4, 5);
            var b = P(g, th, gr, 32, 5);
            return GradCheck.WeightedSum(g, g.Dense(x, w, b));
        });
    }

    [Fact]
    public void Dense_with_constant_input_gives_weight_gradients_only()
    {
        GradCheck.Check(4 * 5 + 5, (g, th, gr) =>
        {
            var x = g.Input(3, 4);
            GradCheck.FillRandom(x, 5);
            var w = P(g, th, gr, 0, 4, 5);
            var b = P(g, th, gr, 20, 5);
            var y = g.Dense(x, w, b);
            Assert.Null(x.Grad);
            return GradCheck.WeightedSum(g, y);
        });
    }

    [Fact]
    public void Conv2x2Same_gradient_matches_finite_differences()
    {
        // x [2,3,4,2], k [2,2,2,3], b [3]
        int nx = 2 * 3 * 4 * 2, nk = 2 * 2 * 2 * 3;
        GradCheck.Check(nx + nk + 3, (g, th, gr) =>
        {
            var x = P(g, th, gr, 0, 2, 3, 4, 2);
            var k = P(g, th, gr, nx, 2, 2, 2, 3);
            var b = P(g, th, gr, nx + nk, 3);
            return GradCheck.WeightedSum(g, g.Conv2x2Same(x, k, b));
        });
    }

    [Fact]
    public void Conv2x2Same_and_Dense_gradients_with_many_rows_match_finite_differences()
    {
        // N·H·W = 189 and N = 150 rows: exercises the blocked bias-gradient reduction.
        GradCheck.Check(2 * 2 * 2 * 3 + 3, (g, th, gr) =>
        {
            var x = g.Input(3, 7, 9, 2);
            GradCheck.FillRandom(x, 21);
            var k = P(g, th, gr, 0, 2, 2, 2, 3);
            var b = P(g, th, gr, 24, 3);
            return GradCheck.WeightedSum(g, g.Tanh(g.Conv2x2Same(x, k, b)));
        });
        GradCheck.Check(3 * 2 + 2, (g, th, gr) =>
        {
            var x = g.Input(150, 3);
            GradCheck.FillRandom(x, 22);
            return GradCheck.WeightedSum(g, g.Dense(x, P(g, th, gr, 0, 3, 2), P(g, th, gr, 6, 2)));
        });
    }

    [Theory]
    [InlineData(1, 1, 1, 1, 1)]
    [InlineData(2, 3, 4, 2, 3)]
    [InlineData(1, 5, 2, 3, 4)]
    [InlineData(3, 12, 14, 5, 16)]
    public void Conv2x2Same_forward_matches_naive_loop_with_bottom_right_padding(int n, int h, int w, int c, int f)
    {
        var g = new Graph<double>();
        var x = g.Input(n, h, w, c);
        var k = g.Input(2, 2, c, f);
        var b = g.Input(f);
        GradCheck.FillRandom(x, 1);
        GradCheck.FillRandom(k, 2);
        GradCheck.FillRandom(b, 3);
        var y = g.Conv2x2Same(x, k, b);
        g.Forward();
        Assert.Equal(new[] { n, h, w, f }, y.Shape);
        Span<double> xs = x.Value.Span, ks = k.Value.Span, bs = b.Value.Span, ys = y.Value.Span;
        for (int bn = 0; bn < n; bn++)
        {
            for (int i = 0; i < h; i++)
            {
                for (int j = 0; j < w; j++)
                {
                    for (int ff = 0; ff < f; ff++)
                    {
                        double s = bs[ff];
                        for (int di = 0; di < 2; di++)
                        {
                            for (int dj = 0; dj < 2; dj++)
                            {
                                int ii = i + di, jj = j + dj;
                                if (ii >= h || jj >= w) continue; // zero padding after (bottom/right)
                                for (int cc = 0; cc < c; cc++)
                                {
                                    s += xs[((bn * h + ii) * w + jj) * c + cc] * ks[((di * 2 + dj) * c + cc) * f + ff];
                                }
                            }
                        }

                        Assert.Equal(s, ys[((bn * h + i) * w + j) * f + ff], 1e-12);
                    }
                }
            }
        }
    }

    [Fact]
    public void Conv2x2Same_bottom_right_corner_sees_only_itself()
    {
        // One channel, one filter with all-ones kernel: y[i,j] = x[i,j] + x[i,j+1] + x[i+1,j] + x[i+1,j+1] (zero outside).
        var g = new Graph<double>();
        var x = g.Input(1, 2, 2, 1);
        var k = g.Input(2, 2, 1, 1);
        var b = g.Input(1);
        x.Value.Span[0] = 1; x.Value.Span[1] = 2; x.Value.Span[2] = 3; x.Value.Span[3] = 4;
        k.Value.Span.Fill(1);
        var y = g.Conv2x2Same(x, k, b);
        g.Forward();
        Assert.Equal(new double[] { 10, 6, 7, 4 }, y.Value.Span.ToArray());
    }

    [Theory]
    [InlineData(new[] { 0, 3, 1, 2 })]
    [InlineData(new[] { 0, 2, 3, 1 })]
    [InlineData(new[] { 0, 1, 2, 3 })]
    [InlineData(new[] { 0, 3, 2, 1 })]
    public void Permute_gradient_matches_finite_differences(int[] axes)
    {
        // x [2, 3, 4, 5]: every axis a different length, so a wrong stride cannot go unnoticed.
        GradCheck.Check(2 * 3 * 4 * 5, (g, th, gr) =>
        {
            var x = P(g, th, gr, 0, 2, 3, 4, 5);
            var y = g.Permute(x, axes);
            Assert.Equal(axes.Select(a => x.Shape[a]).ToArray(), y.Shape);
            return GradCheck.WeightedSum(g, g.Tanh(y));
        });
    }

    [Fact]
    public void Permute_then_Conv2x2Same_gradient_matches_finite_differences()
    {
        // The reference network's torso: [N, H, W, C] → [N, C, H, W], conv with W input channels.
        int nx = 2 * 3 * 4 * 2, nk = 2 * 2 * 4 * 3;
        GradCheck.Check(nx + nk + 3, (g, th, gr) =>
        {
            var x = P(g, th, gr, 0, 2, 3, 4, 2);
            var k = P(g, th, gr, nx, 2, 2, 4, 3);
            var b = P(g, th, gr, nx + nk, 3);
            return GradCheck.WeightedSum(g, g.Conv2x2Same(g.Permute(x, 0, 3, 1, 2), k, b));
        });
    }

    [Fact]
    public void Permute_forward_moves_each_element_and_runs_by_row_blocks()
    {
        // [N, H, W, C] → [N, C, H, W]: y[n, c, h, w] = x[n, h, w, c].
        const int n = 3, h = 4, w = 2, c = 5;
        var g = new Graph<double>();
        var x = g.Input(n, h, w, c);
        GradCheck.FillRandom(x, 8);
        var y = g.Permute(x, 0, 3, 1, 2);
        g.Forward();
        Assert.Equal(new[] { n, c, h, w }, y.Shape);
        double[] expected = new double[y.Value.Length];
        for (int s = 0; s < n; s++)
        {
            for (int i = 0; i < h; i++)
            {
                for (int j = 0; j < w; j++)
                {
                    for (int m = 0; m < c; m++)
                    {
                        expected[((s * c + m) * h + i) * w + j] = x.Value.Span[((s * h + i) * w + j) * c + m];
                    }
                }
            }
        }

        Assert.Equal(expected, y.Value.Span.ToArray());
        Assert.Null(y.Grad); // a constant input gives a constant output

        y.Value.Span.Clear();
        g.ForwardRows(0, g.Count, 1, 2);
        g.ForwardRows(0, g.Count, 0, 1);
        Assert.Equal(expected, y.Value.Span.ToArray());
    }

    [Fact]
    public void Permute_rejects_what_is_not_a_permutation_keeping_the_first_axis()
    {
        var g = new Graph<double>();
        var x = g.Input(2, 3, 4);
        Assert.Throws<ArgumentException>(() => g.Permute(x, 1, 0, 2));
        Assert.Throws<ArgumentException>(() => g.Permute(x, 0, 1));
        Assert.Throws<ArgumentException>(() => g.Permute(x, 0, 1, 1));
        Assert.Throws<ArgumentException>(() => g.Permute(x, 0, 1, 3));
        var e = Assert.Throws<ArgumentException>(() => g.Permute(x, 0, 2, -1));
        Assert.Contains("[2, 3, 4]", e.Message);
    }

    public static TheoryData<string> UnaryOps => new() { "Relu", "Tanh", "Sigmoid", "Exp", "Silu", "Softplus", "Square", "Scale", "AddScalar" };

    [Theory]
    [MemberData(nameof(UnaryOps))]
    public void Elementwise_unary_gradient_matches_finite_differences(string op)
    {
        GradCheck.Check(3 * 5, (g, th, gr) =>
        {
            var x = P(g, th, gr, 0, 3, 5);
            Node<double> y = op switch
            {
                "Relu" => g.Relu(x),
                "Tanh" => g.Tanh(x),
                "Sigmoid" => g.Sigmoid(x),
                "Exp" => g.Exp(x),
                "Silu" => g.Silu(x),
                "Softplus" => g.Softplus(x),
                "Square" => g.Square(x),
                "Scale" => g.Scale(x, -1.7),
                "AddScalar" => g.AddScalar(x, 0.3),
                _ => throw new ArgumentException(op),
            };
            return GradCheck.WeightedSum(g, y);
        }, fill: th =>
        {
            // Values in ±[0.1, 3]: away from ReLU's kink.
            var rng = new Rng(11);
            for (int i = 0; i < th.Length; i++) th[i] = (0.1 + 2.9 * rng.NextDouble()) * (rng.NextDouble() < 0.5 ? -1 : 1);
        });
    }

    [Fact]
    public void Elementwise_unary_values_are_right()
    {
        var g = new Graph<double>();
        var x = g.Input(5);
        double[] xs = [-30, -1.5, 0.0, 0.7, 40];
        xs.CopyTo(x.Value.Span);
        var relu = g.Relu(x);
        var sp = g.Softplus(x);
        var silu = g.Silu(x);
        var sig = g.Sigmoid(x);
        g.Forward();
        for (int i = 0; i < xs.Length; i++)
        {
            double s = 1 / (1 + Math.Exp(-xs[i]));
            Assert.Equal(Math.Max(xs[i], 0), relu.Value.Span[i]);
            Assert.Equal(Math.Max(xs[i], 0) + Math.Log(1 + Math.Exp(-Math.Abs(xs[i]))), sp.Value.Span[i], 12);
            Assert.Equal(xs[i] * s, silu.Value.Span[i], 12);
            Assert.Equal(s, sig.Value.Span[i], 12);
        }

        Assert.True(double.IsFinite(sp.Value.Span[4]));
        Assert.Equal(40, sp.Value.Span[4], 10);
    }

    [Theory]
    [InlineData("Add")]
    [InlineData("Sub")]
    [InlineData("Mul")]
    [InlineData("MulSelf")]
    public void Elementwise_binary_gradient_matches_finite_differences(string op)
    {
        GradCheck.Check(2 * 6, (g, th, gr) =>
        {
            var a = P(g, th, gr, 0, 2, 3);
            var b = P(g, th, gr, 6, 2, 3);
            Node<double> y = op switch
            {
                "Add" => g.Add(a, b),
                "Sub" => g.Sub(a, b),
                "Mul" => g.Mul(a, b),
                "MulSelf" => g.Add(g.Mul(a, a), b),
                _ => throw new ArgumentException(op),
            };
            return GradCheck.WeightedSum(g, y);
        });
    }

    [Fact]
    public void Binary_op_with_one_constant_side_works()
    {
        GradCheck.Check(6, (g, th, gr) =>
        {
            var a = P(g, th, gr, 0, 6);
            var c = g.Input(6);
            GradCheck.FillRandom(c, 4);
            return GradCheck.WeightedSum(g, g.Sub(g.Mul(c, a), c));
        });
    }

    [Fact]
    public void LogSoftmax_gradient_matches_finite_differences_and_rows_normalise()
    {
        GradCheck.Check(3 * 4, (g, th, gr) =>
        {
            var x = P(g, th, gr, 0, 3, 4);
            var lp = g.LogSoftmax(x);
            return GradCheck.WeightedSum(g, lp);
        });

        var g2 = new Graph<double>();
        var x2 = g2.Input(2, 3);
        double[] v = [1000, 1001, 1002, -5, 0, 5];
        v.CopyTo(x2.Value.Span);
        var y = g2.LogSoftmax(x2);
        g2.Forward();
        for (int r = 0; r < 2; r++)
        {
            double s = 0;
            for (int a = 0; a < 3; a++)
            {
                Assert.True(double.IsFinite(y.Value.Span[r * 3 + a]));
                s += Math.Exp(y.Value.Span[r * 3 + a]);
            }

            Assert.Equal(1.0, s, 12);
        }

        Assert.Equal(-2 - Math.Log(1 + Math.Exp(-1) + Math.Exp(-2)) + 2, y.Value.Span[0] + 2, 12);
    }

    [Fact]
    public void Entropy_gradient_matches_finite_differences()
    {
        // Directly on arbitrary log-probabilities…
        GradCheck.Check(3 * 4, (g, th, gr) => GradCheck.WeightedSum(g, g.Entropy(P(g, th, gr, 0, 3, 4))));
        // …and through LogSoftmax.
        GradCheck.Check(3 * 4, (g, th, gr) => GradCheck.WeightedSum(g, g.Entropy(g.LogSoftmax(P(g, th, gr, 0, 3, 4)))));
    }

    [Fact]
    public void Entropy_of_uniform_is_log_A()
    {
        var g = new Graph<double>();
        var x = g.Input(2, 4);
        var h = g.Entropy(g.LogSoftmax(x));
        g.Forward();
        Assert.Equal(Math.Log(4), h.Value.Span[0], 12);
        Assert.Equal(Math.Log(4), h.Value.Span[1], 12);
    }

    [Fact]
    public void Gather_gradient_matches_finite_differences()
    {
        GradCheck.Check(4 * 3, (g, th, gr) =>
        {
            var x = P(g, th, gr, 0, 4, 3);
            int[] idx = g.IndexInput(4);
            idx[0] = 2; idx[1] = 0; idx[2] = 2; idx[3] = 1;
            var y = g.Gather(x, idx);
            Assert.Equal(new[] { 4 }, y.Shape);
            return GradCheck.WeightedSum(g, y);
        });
    }

    [Fact]
    public void Gather_rejects_out_of_range_index()
    {
        var g = new Graph<double>();
        var x = g.Input(2, 3);
        int[] idx = g.IndexInput(2);
        var y = g.Gather(x, idx);
        idx[1] = 3;
        Assert.Throws<ArgumentOutOfRangeException>(() => g.Forward());
    }

    [Fact]
    public void Mean_and_Sum_gradients_match_finite_differences()
    {
        GradCheck.Check(7, (g, th, gr) => g.Scale(g.Mean(g.Square(P(g, th, gr, 0, 7))), 3.0));
        GradCheck.Check(7, (g, th, gr) => g.Sum(g.Exp(P(g, th, gr, 0, 7))));
    }

    [Fact]
    public void SliceRows_gradient_matches_finite_differences()
    {
        // Slice of a parameter and of a computed node.
        GradCheck.Check(5 * 3, (g, th, gr) =>
        {
            var x = P(g, th, gr, 0, 5, 3);
            var s1 = g.SliceRows(x, 1, 3);
            var t = g.Tanh(x);
            var s2 = g.SliceRows(t, 2, 3);
            Assert.Equal(new[] { 3, 3 }, s1.Shape);
            return g.Add(GradCheck.WeightedSum(g, s1, 7), GradCheck.WeightedSum(g, s2, 8));
        });
    }

    [Fact]
    public void Reshape_and_Flatten_share_buffers_and_pass_gradients()
    {
        GradCheck.Check(2 * 3 * 4, (g, th, gr) =>
        {
            var x = P(g, th, gr, 0, 2, 3, 4);
            var t = g.Sigmoid(x);
            var f = g.Flatten(t);
            var r = g.Reshape(t, 4, -1);
            Assert.Equal(new[] { 2, 12 }, f.Shape);
            Assert.Equal(new[] { 4, 6 }, r.Shape);
            Assert.Same(t.Value.Data, f.Value.Data);
            Assert.Same(t.Grad!.Data, r.Grad!.Data);
            return g.Add(GradCheck.WeightedSum(g, g.Square(f), 3), GradCheck.WeightedSum(g, r, 4));
        });
    }

    [Fact]
    public void Parameter_gradients_accumulate_across_backward_calls()
    {
        var th = new double[] { 1, 2, 3 };
        var gr = new double[3];
        var g = new Graph<double>();
        var x = g.Parameter(th, gr, 0, 3);
        var loss = g.Sum(g.Square(x));
        g.Forward();
        g.Backward(loss);
        g.Backward(loss);
        Assert.Equal(new double[] { 4, 8, 12 }, gr);
    }

    [Fact]
    public void Two_graphs_can_view_slices_of_one_theta()
    {
        var th = new double[] { 1, 2, 3, 4 };
        var gr = new double[4];
        var g1 = new Graph<double>();
        var g2 = new Graph<double>();
        var l1 = g1.Sum(g1.Square(g1.Parameter(th, gr, 0, 2)));
        var l2 = g2.Sum(g2.Scale(g2.Parameter(th, gr, 2, 2), 5.0));
        g1.Forward();
        g2.Forward();
        g1.Backward(l1);
        g2.Backward(l2);
        Assert.Equal(5.0, l1.Value.Span[0]);
        Assert.Equal(35.0, l2.Value.Span[0]);
        Assert.Equal(new double[] { 2, 4, 5, 5 }, gr);
    }
}
