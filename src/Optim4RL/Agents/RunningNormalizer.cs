using System.Numerics;

namespace Optim4RL.Agents;

/// <summary>
/// Running mean and standard deviation of observations, with Brax's <c>running_statistics</c>
/// semantics (as vendored by the reference, <c>components/running_statistics.py</c>): batch
/// Welford updates of (count, mean, summed variance), std = clip(√(max(summed variance, 1e−12) /
/// count), 1e−6, 1e6), and normalisation (x − mean) / std with no clipping of the result. The
/// initial state (count 0, mean 0, std 1) leaves observations unchanged.
/// </summary>
/// <remarks>Statistics are accumulated in double (Brax uses float32 unless x64 is enabled).
/// When disabled (<c>normalize_obs</c> false) the normaliser is the identity and ignores updates.</remarks>
public sealed class RunningNormalizer
{
    /// <summary>Smallest standard deviation (Brax <c>std_min_value</c>).</summary>
    public const double StdMin = 1e-6;

    /// <summary>Largest standard deviation (Brax <c>std_max_value</c>).</summary>
    public const double StdMax = 1e6;

    private readonly double[] _mean, _summedVariance, _std, _diff, _oldMean;
    private readonly float[] _meanF, _stdF;

    /// <summary>A fresh normaliser for vectors of <paramref name="size"/> values.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> is below 1.</exception>
    public RunningNormalizer(int size, bool enabled = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        Size = size;
        Enabled = enabled;
        _mean = new double[size];
        _summedVariance = new double[size];
        _std = new double[size];
        _diff = new double[size];
        _oldMean = new double[size];
        _meanF = new float[size];
        _stdF = new float[size];
        Reset();
    }

    /// <summary>Values per vector.</summary>
    public int Size { get; }

    /// <summary>False for the identity (no normalisation).</summary>
    public bool Enabled { get; }

    /// <summary>Vectors seen so far.</summary>
    public double Count { get; private set; }

    /// <summary>The running mean.</summary>
    public ReadOnlySpan<double> Mean => _mean;

    /// <summary>The running standard deviation (clipped to [<see cref="StdMin"/>, <see cref="StdMax"/>]).</summary>
    public ReadOnlySpan<double> Std => _std;

    /// <summary>Back to the initial state: count 0, mean 0, summed variance 0, std 1.</summary>
    public void Reset()
    {
        Count = 0;
        Array.Clear(_mean);
        Array.Clear(_summedVariance);
        Array.Fill(_std, 1.0);
        Refresh();
    }

    /// <summary>
    /// Adds a batch of vectors (row-major, <c>batch.Length / Size</c> rows): count += n;
    /// mean += Σ(x − mean_old) / count; summed variance += Σ(x − mean_old)(x − mean_new); std recomputed.
    /// </summary>
    /// <exception cref="ArgumentException">The batch length is not a multiple of <see cref="Size"/>.</exception>
    public void Update(ReadOnlySpan<float> batch)
    {
        if (batch.Length % Size != 0) throw new ArgumentException($"The batch has {batch.Length} values, not a multiple of {Size}.", nameof(batch));
        int rows = batch.Length / Size;
        Update(batch, Math.Max(rows, 1), Math.Max(rows, 1));
    }

    /// <summary>
    /// As <see cref="Update(ReadOnlySpan{float})"/> over a strided selection of rows, as one batch:
    /// the first <paramref name="blockRows"/> rows of every block of <paramref name="blockStride"/>
    /// rows (e.g. the T step observations of each PPO segment, skipping its bootstrap row).
    /// </summary>
    /// <exception cref="ArgumentException">The data is not a whole number of blocks, or blockRows &gt; blockStride.</exception>
    public void Update(ReadOnlySpan<float> data, int blockRows, int blockStride)
    {
        if (blockRows < 1 || blockStride < blockRows || data.Length % (blockStride * Size) != 0)
            throw new ArgumentException($"{data.Length} values are not whole blocks of {blockStride} rows of {Size} (using {blockRows} rows each).", nameof(data));
        if (!Enabled || data.Length == 0) return;
        int blocks = data.Length / (blockStride * Size);
        Count += (double)blocks * blockRows;
        double[] diff = _diff, oldMean = _oldMean;
        Array.Clear(diff);
        for (int b = 0; b < blocks; b++)
            for (int r = 0; r < blockRows; r++)
            {
                var x = data.Slice((b * blockStride + r) * Size, Size);
                for (int i = 0; i < Size; i++) diff[i] += x[i] - _mean[i];
            }
        _mean.CopyTo(oldMean, 0);
        for (int i = 0; i < Size; i++) _mean[i] += diff[i] / Count;
        for (int b = 0; b < blocks; b++)
            for (int r = 0; r < blockRows; r++)
            {
                var x = data.Slice((b * blockStride + r) * Size, Size);
                for (int i = 0; i < Size; i++) _summedVariance[i] += (x[i] - oldMean[i]) * (x[i] - _mean[i]);
            }
        for (int i = 0; i < Size; i++)
        {
            double sv = Math.Max(_summedVariance[i], StdMin * StdMin);
            _std[i] = Math.Clamp(Math.Sqrt(sv / Count), StdMin, StdMax);
        }
        Refresh();
    }

    /// <summary>Writes (x − mean) / std of every row of <paramref name="raw"/> into <paramref name="destination"/> (same length).</summary>
    /// <exception cref="ArgumentException">The lengths differ or are not a multiple of <see cref="Size"/>.</exception>
    public void Normalize<T>(ReadOnlySpan<float> raw, Span<T> destination) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (raw.Length != destination.Length || raw.Length % Size != 0)
            throw new ArgumentException($"Cannot normalise {raw.Length} values into {destination.Length} (rows of {Size}).", nameof(destination));
        int rows = raw.Length / Size;
        if (typeof(T) == typeof(float))
        {
            var dst = System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(destination);
            for (int r = 0; r < rows; r++)
            {
                var x = raw.Slice(r * Size, Size);
                var y = dst.Slice(r * Size, Size);
                if (Enabled)
                {
                    System.Numerics.Tensors.TensorPrimitives.Subtract(x, _meanF, y);
                    System.Numerics.Tensors.TensorPrimitives.Divide(y, _stdF, y);
                }
                else
                {
                    x.CopyTo(y);
                }
            }
            return;
        }
        for (int r = 0; r < rows; r++)
            for (int i = 0; i < Size; i++)
            {
                double x = raw[r * Size + i];
                destination[r * Size + i] = T.CreateChecked(Enabled ? (x - _mean[i]) / _std[i] : x);
            }
    }

    /// <summary>Normalises every row of <paramref name="data"/> in place.</summary>
    public void NormalizeInPlace(Span<float> data) => Normalize<float>(data, data);

    /// <summary>Writes the state (count, mean, summed variance, std).</summary>
    public void Save(BinaryWriter w)
    {
        w.Write(Size);
        w.Write(Count);
        for (int i = 0; i < Size; i++)
        {
            w.Write(_mean[i]);
            w.Write(_summedVariance[i]);
            w.Write(_std[i]);
        }
    }

    /// <summary>Restores a state written by <see cref="Save"/>.</summary>
    /// <exception cref="InvalidDataException">The saved normaliser has another size.</exception>
    public void Load(BinaryReader r)
    {
        int size = r.ReadInt32();
        if (size != Size) throw new InvalidDataException($"Normaliser of size {size} saved; this one has {Size}.");
        Count = r.ReadDouble();
        for (int i = 0; i < Size; i++)
        {
            _mean[i] = r.ReadDouble();
            _summedVariance[i] = r.ReadDouble();
            _std[i] = r.ReadDouble();
        }
        Refresh();
    }

    /// <summary>Copies the state of <paramref name="other"/> (same size) into this normaliser.</summary>
    public void CopyFrom(RunningNormalizer other)
    {
        if (other.Size != Size) throw new ArgumentException($"Sizes differ: {other.Size} vs {Size}.", nameof(other));
        Count = other.Count;
        other._mean.CopyTo(_mean, 0);
        other._summedVariance.CopyTo(_summedVariance, 0);
        other._std.CopyTo(_std, 0);
        Refresh();
    }

    private void Refresh()
    {
        for (int i = 0; i < Size; i++)
        {
            _meanF[i] = (float)_mean[i];
            _stdF[i] = (float)_std[i];
        }
    }
}
