using Optim4RL.Envs;
using Optim4RL.Tensors;

namespace Optim4RL.Tests.Ppo;

/// <summary>
/// A test-only continuous-control task: a 1-D point mass that must move to a target and stay there.
/// State: position x and target g. Reset: x ~ U(−0.9, 0.9), g ~ U(−0.8, 0.8). Action a ∈ [−1, 1]
/// (clipped): x ← x + 0.1·a. Reward 1 − |x − g|. Terminates when |x| &gt; 1 (off the track);
/// truncated after <see cref="MaxEpisodeSteps"/> steps. Observation [x, g].
/// </summary>
/// <remarks>Random policies score about 15 per episode of 50 steps; reaching the target quickly
/// scores about 45. Every environment has its own RNG stream (rng.Split(i)).</remarks>
internal sealed class PointMass : IContinuousVectorEnv
{
    public const string TaskName = "point_mass";
    private readonly double[] _x, _g;
    private readonly int[] _t;
    private readonly Rng[] _rng;

    public PointMass(int numEnvs, Rng rng, int maxEpisodeSteps = 50)
    {
        NumEnvs = numEnvs;
        MaxEpisodeSteps = maxEpisodeSteps;
        _x = new double[numEnvs];
        _g = new double[numEnvs];
        _t = new int[numEnvs];
        _rng = new Rng[numEnvs];
        for (int i = 0; i < numEnvs; i++) _rng[i] = rng.Split((ulong)i);
        Reset();
    }

    public string Name => TaskName;
    public int NumEnvs { get; }
    public IReadOnlyList<int> ObservationShape { get; } = [2];
    public int ObservationSize => 2;
    public int ActionSize => 1;
    public int MaxEpisodeSteps { get; }

    public void Reset()
    {
        for (int i = 0; i < NumEnvs; i++) Reset(i);
    }

    public void Reset(int env)
    {
        _x[env] = (2 * _rng[env].NextDouble() - 1) * 0.9;
        _g[env] = (2 * _rng[env].NextDouble() - 1) * 0.8;
        _t[env] = 0;
    }

    public void Observe(Span<float> destination)
    {
        if (destination.Length < NumEnvs * 2) throw new ArgumentException("Observation buffer too short.", nameof(destination));
        for (int i = 0; i < NumEnvs; i++)
        {
            destination[2 * i] = (float)_x[i];
            destination[2 * i + 1] = (float)_g[i];
        }
    }

    public void Step(ReadOnlySpan<float> actions, Span<float> rewards, Span<bool> terminated, Span<bool> truncated)
    {
        for (int i = 0; i < NumEnvs; i++)
        {
            double a = Math.Clamp(actions[i], -1f, 1f);
            _x[i] += 0.1 * a;
            _t[i]++;
            rewards[i] = (float)(1 - Math.Abs(_x[i] - _g[i]));
            terminated[i] = Math.Abs(_x[i]) > 1;
            truncated[i] = !terminated[i] && _t[i] >= MaxEpisodeSteps;
            if (terminated[i] || truncated[i]) Reset(i);
        }
    }

    public void SaveState(BinaryWriter writer)
    {
        writer.Write(TaskName);
        writer.Write(NumEnvs);
        for (int i = 0; i < NumEnvs; i++)
        {
            writer.Write(_x[i]);
            writer.Write(_g[i]);
            writer.Write(_t[i]);
            writer.Write(_rng[i].Key);
            writer.Write(_rng[i].Counter);
        }
    }

    public void LoadState(BinaryReader reader)
    {
        if (reader.ReadString() != TaskName || reader.ReadInt32() != NumEnvs) throw new InvalidDataException("Saved state is for another task or size.");
        for (int i = 0; i < NumEnvs; i++)
        {
            _x[i] = reader.ReadDouble();
            _g[i] = reader.ReadDouble();
            _t[i] = reader.ReadInt32();
            _rng[i] = new Rng(reader.ReadUInt64(), reader.ReadUInt64());
        }
    }
}
