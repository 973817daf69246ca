using Optim4RL.Tensors;

namespace Optim4RL.Tests.Autodiff;

public class GemmTests
{
    public static TheoryData<bool, bool, int, int, int> Cases()
    {
        var d = new TheoryData<bool, bool, int, int, int>();
        int[][] sizes = [[1, 1, 1], [3, 5, 7], [17, 13, 9], [4, 16, 3], [33, 65, 31], [21, 256, 50], [7, 32, 130], [5, 3, 0]];
        foreach (bool ta in new[] { false, true })
        {
            foreach (bool tb in new[] { false, true })
            {
                foreach (int[] s in sizes) d.Add(ta, tb, s[0], s[1], s[2]);
            }
        }

        return d;
    }

    private static double[] Naive(bool ta, bool tb, int m, int n, int k, double alpha, double[] a, int lda, double[] b, int ldb, double beta, double[] c, int ldc)
    {
        var r = (double[])c.Clone();
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++)
                {
                    double av = ta ? a[p * lda + i] : a[i * lda + p];
                    double bv = tb ? b[j * ldb + p] : b[p * ldb + j];
                    s += av * bv;
                }

                r[i * ldc + j] = alpha * s + (beta == 0 ? 0 : beta * c[i * ldc + j]);
            }
        }

        return r;
    }

    private static double[] Random(int len, ulong seed)
    {
        var rng = new Rng(seed);
        var x = new double[len];
        for (int i = 0; i < len; i++) x[i] = rng.NextNormal();
        return x;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Gemm_backends_match_naive_double(bool ta, bool tb, int m, int n, int k)
    {
        // Padded leading dimensions (+3) exercise strides.
        int aRows = ta ? k : m, aCols = ta ? m : k, bRows = tb ? n : k, bCols = tb ? k : n;
        int lda = aCols + 3, ldb = bCols + 3, ldc = n + 3;
        double[] a = Random(Math.Max(1, aRows * lda), 1), b = Random(Math.Max(1, bRows * ldb), 2), c = Random(m * ldc, 3);
        const double alpha = 0.7, beta = -1.3;
        double[] expected = Naive(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        double scale = 1 + Math.Sqrt(k);

        // double: native (or managed fallback) and managed
        var cd = (double[])c.Clone();
        Blas.Gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, cd, ldc);
        var cm = (double[])c.Clone();
        Blas.ManagedGemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, cm, ldc);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], cd[i], 1e-12 * scale);
            Assert.Equal(expected[i], cm[i], 1e-12 * scale);
        }

        // float: native (or managed fallback) and managed
        float[] af = a.Select(v => (float)v).ToArray(), bf = b.Select(v => (float)v).ToArray(), cf0 = c.Select(v => (float)v).ToArray();
        var cf = (float[])cf0.Clone();
        Blas.Gemm(ta, tb, m, n, k, (float)alpha, af, lda, bf, ldb, (float)beta, cf, ldc);
        var cfm = (float[])cf0.Clone();
        Blas.ManagedGemm(ta, tb, m, n, k, (float)alpha, af, lda, bf, ldb, (float)beta, cfm, ldc);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], cf[i], 1e-5 * scale);
            Assert.Equal(expected[i], cfm[i], 1e-5 * scale);
        }
    }

    [Fact]
    public void Beta_zero_ignores_nan_in_c()
    {
        var a = new float[] { 1, 2, 3, 4 };
        var b = new float[] { 1, 0, 0, 1 };
        var c = new float[] { float.NaN, float.NaN, float.NaN, float.NaN };
        Blas.Gemm(false, false, 2, 2, 2, 1f, a, 2, b, 2, 0f, c, 2);
        Assert.Equal(a, c);
        c.AsSpan().Fill(float.NaN);
        Blas.ManagedGemm(false, false, 2, 2, 2, 1f, a, 2, b, 2, 0f, c, 2);
        Assert.Equal(a, c);
    }

    [Fact]
    public void Too_short_spans_are_rejected()
    {
        var a = new float[5];
        var b = new float[6];
        var c = new float[6];
        Assert.Throws<ArgumentException>(() => Blas.Gemm(false, false, 2, 3, 3, 1f, a, 3, b, 3, 0f, c, 3));
        Assert.Throws<ArgumentException>(() => Blas.Gemm(false, false, 2, 3, 2, 1f, a, 1, b, 3, 0f, c, 3));
    }

    [Fact]
    public void Backend_is_reported()
    {
        Assert.Contains(Blas.Backend, new[] { "openblas (pthread, locking)", "openblas", "blas", "managed" });
        if (File.Exists("/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0") && Environment.GetEnvironmentVariable("OPTIM4RL_BLAS") == null)
        {
            // setup.sh installs the thread-safe flavour; parallel agents rely on its locking.
            Assert.Equal("openblas (pthread, locking)", Blas.Backend);
        }
    }
}
