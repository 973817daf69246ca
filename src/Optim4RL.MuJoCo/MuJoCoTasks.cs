using Optim4RL.Tensors;

namespace Optim4RL.Envs.MuJoCo;

/// <summary>
/// Ant-v4 (docs/environments.md, "Continuous control"): frame skip 5 (dt 0.05 s).
/// Observation (27): qpos[2:] (torso z, quaternion w x y z, hip_1, ankle_1 … hip_4, ankle_4) then qvel (14);
/// with <see cref="UseContactForces"/>, clip(cfrc_ext, ±1) of all 14 bodies follows (84 more, 111 in all).
/// Reward: torso x velocity (from xpos) + 1 − 0.5·Σa² (− 5e−4·Σclip(cfrc_ext, ±1)² with contact forces).
/// Healthy: qpos and qvel finite and 0.2 ≤ z ≤ 1.0. Reset: qpos0 + U(±0.1), qvel 0.1·N.
/// </summary>
public sealed class AntTask : MuJoCoTask
{
    private int _torso;

    /// <summary>Creates the task.</summary>
    /// <param name="useContactForces">Gymnasium v4's <c>use_contact_forces</c>: add the clipped contact forces to the
    /// observation and the contact cost to the reward.</param>
    public AntTask(bool useContactForces = false) => UseContactForces = useContactForces;

    /// <summary>Whether contact forces are observed and penalised.</summary>
    public bool UseContactForces { get; }

    /// <inheritdoc/>
    public override string Name => "ant";

    /// <inheritdoc/>
    public override int FrameSkip => 5;

    /// <summary>27, or 111 with contact forces.</summary>
    public override int ObservationSize => UseContactForces ? 111 : 27;

    /// <inheritdoc/>
    public override bool NeedsRnePostConstraint => UseContactForces;

    /// <inheritdoc/>
    protected override (int Nq, int Nv, int Nu) ExpectedSizes => (15, 14, 8);

    /// <inheritdoc/>
    protected override void OnBind(MjModel model) => _torso = model.RequireId(MjObjectType.Body, "torso");

    /// <inheritdoc/>
    public override void SampleInitialState(ref Rng rng, Span<double> qpos, Span<double> qvel) => UniformNormalReset(ref rng, qpos, qvel, 0.1, 0.1);

    /// <summary>The torso's x position (body frame, <c>xpos</c>).</summary>
    public override void ReadProgress(MjData data, Span<double> progress) => progress[0] = data.Xpos[3 * _torso];

    /// <inheritdoc/>
    public override MuJoCoRewardTerms Reward(MjData data, ReadOnlySpan<double> ctrl, ReadOnlySpan<double> before, ReadOnlySpan<double> after)
    {
        double v = (after[0] - before[0]) / Dt;
        double contact = 0;
        if (UseContactForces)
        {
            foreach (double f in data.CfrcExt)
            {
                double c = Math.Clamp(f, -1.0, 1.0);
                contact += c * c;
            }

            contact *= 5e-4;
        }

        return new MuJoCoRewardTerms(v, 1.0, 0.5 * SumSquares(ctrl), contact, 0, v);
    }

    /// <inheritdoc/>
    public override bool IsHealthy(MjData data)
    {
        double z = data.Qpos[2];
        return AllFinite(data.Qpos) && AllFinite(data.Qvel) && z >= 0.2 && z <= 1.0;
    }

    /// <inheritdoc/>
    public override void Observe(MjData data, Span<float> observation)
    {
        int o = Put(observation, 0, data.Qpos[2..]);
        o = Put(observation, o, data.Qvel);
        if (UseContactForces) PutClipped(observation, o, data.CfrcExt, 1.0);
    }
}

/// <summary>
/// HalfCheetah-v4: frame skip 5 (dt 0.05 s). Observation (17): qpos[1:] then qvel.
/// Reward: x velocity (from qpos[0]) − 0.1·Σa². Never terminates. Reset: qpos0 + U(±0.1), qvel 0.1·N.
/// </summary>
public sealed class HalfCheetahTask : MuJoCoTask
{
    /// <inheritdoc/>
    public override string Name => "halfcheetah";

    /// <inheritdoc/>
    public override int FrameSkip => 5;

    /// <summary>17.</summary>
    public override int ObservationSize => 17;

    /// <summary>False: HalfCheetah episodes end only by the time limit.</summary>
    public override bool Terminates => false;

    /// <inheritdoc/>
    protected override (int Nq, int Nv, int Nu) ExpectedSizes => (9, 9, 6);

    /// <inheritdoc/>
    public override void SampleInitialState(ref Rng rng, Span<double> qpos, Span<double> qvel) => UniformNormalReset(ref rng, qpos, qvel, 0.1, 0.1);

    /// <summary>qpos[0] (rootx).</summary>
    public override void ReadProgress(MjData data, Span<double> progress) => progress[0] = data.Qpos[0];

    /// <inheritdoc/>
    public override MuJoCoRewardTerms Reward(MjData data, ReadOnlySpan<double> ctrl, ReadOnlySpan<double> before, ReadOnlySpan<double> after)
    {
        double v = (after[0] - before[0]) / Dt;
        return new MuJoCoRewardTerms(v, 0, 0.1 * SumSquares(ctrl), 0, 0, v);
    }

    /// <summary>Always true.</summary>
    public override bool IsHealthy(MjData data) => true;

    /// <inheritdoc/>
    public override void Observe(MjData data, Span<float> observation)
    {
        int o = Put(observation, 0, data.Qpos[1..]);
        Put(observation, o, data.Qvel);
    }
}

/// <summary>
/// The planar walkers of Gymnasium v4 (<see cref="HopperTask"/>, <see cref="Walker2dTask"/>): frame skip 4
/// (dt 0.008 s), progress qpos[0] (rootx), reward x velocity + 1 − 1e−3·Σa², observation qpos[1:] then
/// clip(qvel, ±10), reset qpos0 + U(±0.005), qvel U(±0.005). They differ in their model and when they are healthy.
/// </summary>
public abstract class PlanarWalkerTask : MuJoCoTask
{
    private readonly (int Nq, int Nv, int Nu) _sizes;

    /// <summary>A walker named <paramref name="name"/> with <paramref name="observationSize"/> = nq − 1 + nv observations and the model sizes <paramref name="sizes"/>.</summary>
    private protected PlanarWalkerTask(string name, int observationSize, (int Nq, int Nv, int Nu) sizes)
    {
        Name = name;
        ObservationSize = observationSize;
        _sizes = sizes;
    }

    /// <inheritdoc/>
    public override string Name { get; }

    /// <inheritdoc/>
    public override int ObservationSize { get; }

    /// <inheritdoc/>
    protected override (int Nq, int Nv, int Nu) ExpectedSizes => _sizes;

    /// <inheritdoc/>
    public override int FrameSkip => 4;

    /// <inheritdoc/>
    public override void SampleInitialState(ref Rng rng, Span<double> qpos, Span<double> qvel) => UniformReset(ref rng, qpos, qvel, 5e-3, 5e-3);

    /// <summary>qpos[0] (rootx).</summary>
    public override void ReadProgress(MjData data, Span<double> progress) => progress[0] = data.Qpos[0];

    /// <inheritdoc/>
    public override MuJoCoRewardTerms Reward(MjData data, ReadOnlySpan<double> ctrl, ReadOnlySpan<double> before, ReadOnlySpan<double> after)
    {
        double v = (after[0] - before[0]) / Dt;
        return new MuJoCoRewardTerms(v, 1.0, 1e-3 * SumSquares(ctrl), 0, 0, v);
    }

    /// <inheritdoc/>
    public override void Observe(MjData data, Span<float> observation)
    {
        int o = Put(observation, 0, data.Qpos[1..]);
        PutClipped(observation, o, data.Qvel, 10.0);
    }
}

/// <summary>
/// Hopper-v4 (a <see cref="PlanarWalkerTask"/>). Observation (11): qpos[1:] (z, torso angle, thigh, leg, foot) then
/// clip(qvel, ±10). Healthy (all strict): every element of (qpos[2:], unclipped qvel) in (−100, 100), qpos[1] &gt; 0.7,
/// |qpos[2]| &lt; 0.2.
/// </summary>
public sealed class HopperTask() : PlanarWalkerTask("hopper", 11, (6, 6, 3))
{
    /// <inheritdoc/>
    public override bool IsHealthy(MjData data)
    {
        var q = data.Qpos;
        foreach (double x in q[2..])
        {
            if (!(x > -100 && x < 100)) return false;
        }

        foreach (double x in data.Qvel)
        {
            if (!(x > -100 && x < 100)) return false;
        }

        return q[1] > 0.7 && q[2] > -0.2 && q[2] < 0.2;
    }
}

/// <summary>
/// Walker2d-v4 (a <see cref="PlanarWalkerTask"/>). Observation (17): qpos[1:] then clip(qvel, ±10).
/// Healthy: 0.8 &lt; qpos[1] &lt; 2 and |qpos[2]| &lt; 1. Feet friction as in v4 (right 0.9, left 1.9).
/// </summary>
public sealed class Walker2dTask() : PlanarWalkerTask("walker2d", 17, (9, 9, 6))
{
    /// <inheritdoc/>
    public override bool IsHealthy(MjData data)
    {
        var q = data.Qpos;
        return q[1] > 0.8 && q[1] < 2.0 && q[2] > -1.0 && q[2] < 1.0;
    }
}

/// <summary>
/// Humanoid-v4: frame skip 5 (dt 0.015 s). Observation (376): qpos[2:] (22), qvel (23),
/// cinert (14×10), cvel (14×6), qfrc_actuator (23), cfrc_ext (14×6), world-body rows included.
/// Reward: 1.25·v_com,x + 5 − 0.1·Σctrl² (no contact term in v4), with COM = Σ body_mass·xipos / Σ body_mass.
/// Healthy: 1.0 &lt; qpos[2] &lt; 2.0. Reset: qpos0 + U(±0.01), qvel U(±0.01).
/// </summary>
public sealed class HumanoidTask : MuJoCoTask
{
    private double[] _mass = [];
    private double _totalMass;

    /// <inheritdoc/>
    public override string Name => "humanoid";

    /// <inheritdoc/>
    public override int FrameSkip => 5;

    /// <summary>376.</summary>
    public override int ObservationSize => 376;

    /// <summary>True: the observation holds cfrc_ext.</summary>
    public override bool NeedsRnePostConstraint => true;

    /// <inheritdoc/>
    protected override (int Nq, int Nv, int Nu) ExpectedSizes => (24, 23, 17);

    /// <inheritdoc/>
    protected override void OnBind(MjModel model)
    {
        _mass = model.BodyMass.ToArray();
        _totalMass = _mass.Sum();
    }

    /// <inheritdoc/>
    public override void SampleInitialState(ref Rng rng, Span<double> qpos, Span<double> qvel) => UniformReset(ref rng, qpos, qvel, 1e-2, 1e-2);

    /// <summary>The x of the centre of mass, Σ body_mass·xipos.x / Σ body_mass.</summary>
    public override void ReadProgress(MjData data, Span<double> progress)
    {
        var xipos = data.Xipos;
        double s = 0;
        for (int b = 0; b < _mass.Length; b++) s += _mass[b] * xipos[3 * b];
        progress[0] = s / _totalMass;
    }

    /// <inheritdoc/>
    public override MuJoCoRewardTerms Reward(MjData data, ReadOnlySpan<double> ctrl, ReadOnlySpan<double> before, ReadOnlySpan<double> after)
    {
        double v = (after[0] - before[0]) / Dt;
        return new MuJoCoRewardTerms(1.25 * v, 5.0, 0.1 * SumSquares(ctrl), 0, 0, v);
    }

    /// <inheritdoc/>
    public override bool IsHealthy(MjData data)
    {
        double z = data.Qpos[2];
        return z > 1.0 && z < 2.0;
    }

    /// <inheritdoc/>
    public override void Observe(MjData data, Span<float> observation)
    {
        int o = Put(observation, 0, data.Qpos[2..]);
        o = Put(observation, o, data.Qvel);
        o = Put(observation, o, data.Cinert);
        o = Put(observation, o, data.Cvel);
        o = Put(observation, o, data.QfrcActuator);
        Put(observation, o, data.CfrcExt);
    }
}

/// <summary>
/// InvertedPendulum-v4: frame skip 2 (dt 0.04 s). Observation (4): qpos (cart x, pole
/// angle) then qvel. Reward: +1 per step. Terminates when any observed value is non-finite or |qpos[1]| &gt; 0.2.
/// Reset: qpos0 + U(±0.01), qvel U(±0.01).
/// </summary>
public sealed class InvertedPendulumTask : MuJoCoTask
{
    /// <inheritdoc/>
    public override string Name => "inverted_pendulum";

    /// <inheritdoc/>
    public override int FrameSkip => 2;

    /// <summary>4.</summary>
    public override int ObservationSize => 4;

    /// <summary>None: the reward does not compare states.</summary>
    public override int ProgressSize => 0;

    /// <inheritdoc/>
    protected override (int Nq, int Nv, int Nu) ExpectedSizes => (2, 2, 1);

    /// <inheritdoc/>
    public override void SampleInitialState(ref Rng rng, Span<double> qpos, Span<double> qvel) => UniformReset(ref rng, qpos, qvel, 1e-2, 1e-2);

    /// <inheritdoc/>
    public override void ReadProgress(MjData data, Span<double> progress)
    {
    }

    /// <inheritdoc/>
    public override MuJoCoRewardTerms Reward(MjData data, ReadOnlySpan<double> ctrl, ReadOnlySpan<double> before, ReadOnlySpan<double> after) =>
        new(0, 1.0, 0, 0, 0, 0);

    /// <inheritdoc/>
    public override bool IsHealthy(MjData data) =>
        AllFinite(data.Qpos) && AllFinite(data.Qvel) && Math.Abs(data.Qpos[1]) <= 0.2;

    /// <inheritdoc/>
    public override void Observe(MjData data, Span<float> observation)
    {
        int o = Put(observation, 0, data.Qpos);
        Put(observation, o, data.Qvel);
    }
}

/// <summary>
/// InvertedDoublePendulum-v4: frame skip 5 (dt 0.05 s). Observation (11):
/// qpos[0], sin qpos[1..2], cos qpos[1..2], clip(qvel, ±10), clip(qfrc_constraint, ±10).
/// Reward: 10 − (0.01·x_tip² + (z_tip − 2)²) − (1e−3·qvel[1]² + 5e−3·qvel[2]²), the tip being site "tip"
/// (<c>site_xpos</c>); the +10 is paid on every step. Terminates when z_tip ≤ 1. Reset: qpos0 + U(±0.1), qvel 0.1·N.
/// </summary>
public sealed class InvertedDoublePendulumTask : MuJoCoTask
{
    private int _tip;

    /// <inheritdoc/>
    public override string Name => "inverted_double_pendulum";

    /// <inheritdoc/>
    public override int FrameSkip => 5;

    /// <summary>11.</summary>
    public override int ObservationSize => 11;

    /// <summary>None: the reward reads the state after the step only.</summary>
    public override int ProgressSize => 0;

    /// <inheritdoc/>
    protected override (int Nq, int Nv, int Nu) ExpectedSizes => (3, 3, 1);

    /// <inheritdoc/>
    protected override void OnBind(MjModel model) => _tip = model.RequireId(MjObjectType.Site, "tip");

    /// <inheritdoc/>
    public override void SampleInitialState(ref Rng rng, Span<double> qpos, Span<double> qvel) => UniformNormalReset(ref rng, qpos, qvel, 0.1, 0.1);

    /// <inheritdoc/>
    public override void ReadProgress(MjData data, Span<double> progress)
    {
    }

    /// <inheritdoc/>
    public override MuJoCoRewardTerms Reward(MjData data, ReadOnlySpan<double> ctrl, ReadOnlySpan<double> before, ReadOnlySpan<double> after)
    {
        var tip = data.SiteXpos.Slice(3 * _tip, 3);
        double x = tip[0], z = tip[2];
        var qv = data.Qvel;
        double dist = 0.01 * x * x + (z - 2) * (z - 2);
        double vel = 1e-3 * qv[1] * qv[1] + 5e-3 * qv[2] * qv[2];
        return new MuJoCoRewardTerms(0, 10.0, 0, 0, dist + vel, 0);
    }

    /// <summary>True while the tip is above z = 1.</summary>
    public override bool IsHealthy(MjData data) => data.SiteXpos[3 * _tip + 2] > 1.0;

    /// <inheritdoc/>
    public override void Observe(MjData data, Span<float> observation)
    {
        var q = data.Qpos;
        observation[0] = (float)q[0];
        observation[1] = (float)Math.Sin(q[1]);
        observation[2] = (float)Math.Sin(q[2]);
        observation[3] = (float)Math.Cos(q[1]);
        observation[4] = (float)Math.Cos(q[2]);
        int o = PutClipped(observation, 5, data.Qvel, 10.0);
        PutClipped(observation, o, data.QfrcConstraint, 10.0);
    }
}
