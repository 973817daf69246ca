using Optim4RL.Agents;
using Optim4RL.Autodiff;
using Optim4RL.Tensors;

namespace Optim4RL.Tests.Ppo;

/// <summary>Synthetic PPO batches and tiny networks for gradient tests.</summary>
internal static class PpoTestData
{
    public const int Obs = 3, Act = 2, T = 4;

    public static PpoConfig TinyConfig(int batchSize = 4, int lossChunks = 1) => new()
    {
        UnrollLength = T,
        BatchSize = batchSize,
        NumMinibatches = 2,
        UpdateEpochs = 2,
        Discount = 0.9,
        GaeLambda = 0.8,
        ClippingEpsilon = 0.3,
        EntropyCost = 0.05,
        RewardScaling = 2,
        PolicyHiddenSizes = [5, 4],
        ValueHiddenSizes = [6, 3],
        LossChunks = lossChunks,
    };

    public static PpoNetworks TinyNets(PpoConfig cfg) => PpoNetworks.For(Obs, Act, cfg);

    /// <summary>θ from the networks' init plus noise, so biases are non-zero.</summary>
    public static double[] Theta(PpoNetworks nets, ulong seed)
    {
        var theta = new double[nets.ParamCount];
        var rng = new Rng(seed);
        nets.InitParams<double>(theta, ref rng);
        for (int i = 0; i < theta.Length; i++) theta[i] += 0.1 * rng.NextNormal();
        return theta;
    }

    /// <summary>
    /// A batch of <paramref name="segments"/> random segments with terminations and truncations in
    /// the middle and at the end of segments, and behaviour log-probabilities that put some
    /// ratios inside and some outside the clip range.
    /// </summary>
    public static PpoBatch Batch(PpoNetworks nets, double[] theta, int segments, ulong seed)
    {
        var rng = new Rng(seed);
        var b = new PpoBatch(segments, T, Obs, Act);
        for (int i = 0; i < b.Observations.Length; i++) b.Observations[i] = (float)rng.NextNormal();
        for (int i = 0; i < b.RawActions.Length; i++) b.RawActions[i] = (float)(1.2 * rng.NextNormal());
        for (int i = 0; i < b.Rewards.Length; i++) b.Rewards[i] = (float)rng.NextNormal();
        // Flags: segment 0 terminates at t = 1, segment 1 truncates at t = 2, segment 2 truncates at the
        // last step, segment 3 terminates at the last step; further segments repeat the pattern.
        for (int s = 0; s < segments; s++)
        {
            switch (s % 5)
            {
                case 0: b.Terminations[s * T + 1] = true; break;
                case 1: b.Truncations[s * T + 2] = true; break;
                case 2: b.Truncations[s * T + T - 1] = true; break;
                case 3: b.Terminations[s * T + T - 1] = true; break;
            }
        }
        // Behaviour log-probs = current log-probs − δ, so ρ = e^δ covers clipped and unclipped rows.
        double[] deltas = [-0.6, -0.1, 0.1, 0.6, 0.0];
        var logp = CurrentLogProbs(nets, theta, b);
        for (int i = 0; i < logp.Length; i++) b.LogProbs[i] = (float)(logp[i] - deltas[i % deltas.Length]);
        return b;
    }

    /// <summary>log π_θ of the batch's raw actions, computed independently of the loss (own graph, direct formula).</summary>
    public static double[] CurrentLogProbs(PpoNetworks nets, double[] theta, PpoBatch b) => LogProbs(nets, theta, b);

    /// <summary>log π_θ of a batch's raw actions: an own graph for the policy, then the Gaussian density over |d tanh(u)/du| = 1 − tanh²(u).</summary>
    public static double[] LogProbs(PpoNetworks nets, double[] theta, PpoBatch b)
    {
        int rows = b.Segments * b.Unroll, a = b.ActionSize, o = b.ObservationSize;
        var g = new Graph<double>();
        var x = g.Input(rows, o);
        var y = nets.BuildPolicy(g, x, theta, new double[theta.Length], 0);
        for (int s = 0; s < b.Segments; s++)
            for (int t = 0; t < b.Unroll; t++)
                for (int k = 0; k < o; k++)
                    x.Value.Span[(s * b.Unroll + t) * o + k] = b.Observation(s, t)[k];
        g.Forward();
        var result = new double[rows];
        for (int r = 0; r < rows; r++)
            for (int i = 0; i < a; i++)
            {
                double loc = y.Value.Span[r * 2 * a + i];
                double scale = Math.Log(1 + Math.Exp(y.Value.Span[r * 2 * a + a + i])) + 0.001;
                double u = b.RawActions[r * a + i];
                double gauss = Math.Exp(-0.5 * Math.Pow((u - loc) / scale, 2)) / (scale * Math.Sqrt(2 * Math.PI));
                result[r] += Math.Log(gauss) - Math.Log(1 - Math.Pow(Math.Tanh(u), 2));
            }
        return result;
    }

    public static void FillNoise(double[] noise, ulong seed)
    {
        var rng = new Rng(seed);
        for (int i = 0; i < noise.Length; i++) noise[i] = rng.NextNormal();
    }
}
