using Optim4RL.Tensors;

namespace Optim4RL.Optimizers.Learned;

/// <summary>
/// The initialisers the reference's learned optimizers use (flax <c>nn.GRUCell</c> and
/// <c>nn.Dense</c>; haiku's <c>TruncatedNormal</c> for STAR), for the baseline kernels.
/// </summary>
internal static class FlaxInit
{
    /// <summary>The standard deviation of a standard normal truncated to [−2, 2].</summary>
    internal const double TruncatedNormalStd = 0.87962566103423978;

    /// <summary>
    /// flax <c>lecun_normal</c>: variance_scaling(1, fan_in, "truncated_normal"), i.e. a standard
    /// normal truncated to [−2, 2], scaled to variance 1/fan_in.
    /// </summary>
    internal static void LecunNormal(ref Rng rng, Span<float> dst, int fanIn)
    {
        double std = Math.Sqrt(1.0 / fanIn) / TruncatedNormalStd;
        for (int i = 0; i < dst.Length; i++) dst[i] = (float)(rng.NextTruncatedNormal() * std);
    }

    /// <summary>
    /// haiku <c>TruncatedNormal(stddev)</c>: stddev × a standard normal truncated to [−2, 2]
    /// (haiku does not correct for the truncation, unlike flax's variance scaling).
    /// </summary>
    internal static void HaikuTruncatedNormal(ref Rng rng, Span<float> dst, double stddev)
    {
        for (int i = 0; i < dst.Length; i++) dst[i] = (float)(rng.NextTruncatedNormal() * stddev);
    }

    /// <summary>
    /// flax <c>orthogonal()</c> for a square n × n kernel (row-major): the Q factor of a standard
    /// normal matrix, with the sign convention diag(R) &gt; 0 (modified Gram–Schmidt on the columns).
    /// </summary>
    internal static void Orthogonal(ref Rng rng, Span<float> dst, int n)
    {
        var a = new double[n * n];
        for (int i = 0; i < a.Length; i++) a[i] = rng.NextNormal();
        for (int j = 0; j < n; j++)
        {
            for (int p = 0; p < j; p++)
            {
                double dot = 0;
                for (int i = 0; i < n; i++) dot += a[i * n + p] * a[i * n + j];
                for (int i = 0; i < n; i++) a[i * n + j] -= dot * a[i * n + p];
            }
            double norm = 0;
            for (int i = 0; i < n; i++) norm += a[i * n + j] * a[i * n + j];
            norm = Math.Sqrt(norm); // R's diagonal entry, > 0 with probability 1
            for (int i = 0; i < n; i++) a[i * n + j] /= norm;
        }
        for (int i = 0; i < a.Length; i++) dst[i] = (float)a[i];
    }
}
