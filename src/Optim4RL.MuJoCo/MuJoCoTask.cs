using Optim4RL.Tensors;

namespace Optim4RL.Envs.MuJoCo;

/// <summary>
/// The terms of one step's reward (before reward scaling):
/// <c>Total = Forward + Healthy − ControlCost − ContactCost − Penalty</c>.
/// </summary>
/// <param name="Forward">The forward-progress term, weight included (e.g. 1.25·v_com,x for Humanoid).</param>
/// <param name="Healthy">The alive bonus (Gymnasium v4 pays it on every step, the terminating one included).</param>
/// <param name="ControlCost">The control cost (weight·Σctrl²).</param>
/// <param name="ContactCost">The contact cost (Ant with contact forces only).</param>
/// <param name="Penalty">Other penalties (InvertedDoublePendulum's distance and velocity penalties).</param>
/// <param name="XVelocity">The x velocity the forward term is made of, in m/s (0 for the pendulums).</param>
public readonly record struct MuJoCoRewardTerms(
    double Forward, double Healthy, double ControlCost, double ContactCost, double Penalty, double XVelocity)
{
    /// <summary>Forward + Healthy − ControlCost − ContactCost − Penalty.</summary>
    public double Total => Forward + Healthy - ControlCost - ContactCost - Penalty;
}

/// <summary>
/// One continuous-control task on MuJoCo with Gymnasium v4 semantics (docs/environments.md, "Continuous control"): which
/// model, the frame skip, the reset noise, the observation, the reward and the health rule. A
/// <see cref="MuJoCoVectorEnv"/> runs it on many environments. Create tasks with <see cref="Create"/> or the
/// concrete classes; an instance binds to one model (<see cref="Bind"/>), so give every vector environment its own.
/// </summary>
/// <remarks>
/// <para>"Progress" values are what the reward compares before and after a step (the torso's x for Ant, the
/// centre-of-mass x for Humanoid, qpos[0] for the planar walkers). Gymnasium reads them from the data just
/// before <c>mj_step</c>, i.e. as the previous step (or reset) left them; the environment keeps the values read
/// at the end of the previous step, which is the same thing and survives a checkpoint.</para>
/// </remarks>
public abstract class MuJoCoTask
{
    private MjModel? _model;

    /// <summary>The task name used by the registry, e.g. <c>ant</c>.</summary>
    public abstract string Name { get; }

    /// <summary>The embedded model (<see cref="MuJoCoModels"/>) the task runs on.</summary>
    public virtual string ModelName => Name;

    /// <summary>How many <c>mj_step</c>s one environment step takes.</summary>
    public abstract int FrameSkip { get; }

    /// <summary>Values per observation (Gymnasium v4).</summary>
    public abstract int ObservationSize { get; }

    /// <summary>Whether episodes end when the state becomes unhealthy (false only for HalfCheetah).</summary>
    public virtual bool Terminates => true;

    /// <summary>Whether the step must run <c>mj_rnePostConstraint</c> (tasks that read cfrc_ext).</summary>
    public virtual bool NeedsRnePostConstraint => false;

    /// <summary>How many progress values the reward compares across a step.</summary>
    public virtual int ProgressSize => 1;

    /// <summary>Expected (nq, nv, nu) of the model, checked by <see cref="Bind"/>.</summary>
    protected abstract (int Nq, int Nv, int Nu) ExpectedSizes { get; }

    /// <summary>The bound model.</summary>
    /// <exception cref="InvalidOperationException">Not bound yet.</exception>
    protected MjModel Model => _model ?? throw new InvalidOperationException($"Task '{Name}' is not bound to a model.");

    /// <summary>The environment step length dt = timestep × frame skip, in seconds.</summary>
    public double Dt => Model.Timestep * FrameSkip;

    /// <summary>Creates a task by canonical name (see <see cref="EnvRegistry.ContinuousNames"/>).</summary>
    /// <exception cref="ArgumentException">Unknown name.</exception>
    public static MuJoCoTask Create(string name) => name switch
    {
        "ant" => new AntTask(),
        "halfcheetah" => new HalfCheetahTask(),
        "hopper" => new HopperTask(),
        "walker2d" => new Walker2dTask(),
        "humanoid" => new HumanoidTask(),
        "inverted_pendulum" => new InvertedPendulumTask(),
        "inverted_double_pendulum" => new InvertedDoublePendulumTask(),
        _ => throw new ArgumentException($"Unknown continuous-control task '{name}'.", nameof(name)),
    };

    /// <summary>Binds the task to a loaded model: checks its sizes and resolves the names the task needs.</summary>
    /// <exception cref="InvalidOperationException">Already bound to another model.</exception>
    /// <exception cref="ArgumentException">The model's sizes are not the task's.</exception>
    public void Bind(MjModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (_model is not null && !ReferenceEquals(_model, model)) throw new InvalidOperationException($"Task '{Name}' is already bound to another model.");
        var (nq, nv, nu) = ExpectedSizes;
        if (model.Nq != nq || model.Nv != nv || model.Nu != nu)
        {
            throw new ArgumentException(
                $"Model '{model.Source}' has nq={model.Nq}, nv={model.Nv}, nu={model.Nu}; task '{Name}' needs nq={nq}, nv={nv}, nu={nu}.", nameof(model));
        }

        _model = model;
        OnBind(model);
    }

    /// <summary>Resolves ids and caches model constants (called once by <see cref="Bind"/>).</summary>
    protected virtual void OnBind(MjModel model)
    {
    }

    /// <summary>
    /// Draws the initial state of an episode (Gymnasium's reset): qpos = qpos0 + noise, qvel = noise.
    /// </summary>
    /// <param name="rng">The environment's own stream (advanced).</param>
    /// <param name="qpos">[nq] receives the positions.</param>
    /// <param name="qvel">[nv] receives the velocities.</param>
    public abstract void SampleInitialState(ref Rng rng, Span<double> qpos, Span<double> qvel);

    /// <summary>Reads the progress values from the data (e.g. the torso's x).</summary>
    public abstract void ReadProgress(MjData data, Span<double> progress);

    /// <summary>The reward terms of a step that went from <paramref name="before"/> to the current data with controls <paramref name="ctrl"/>.</summary>
    public abstract MuJoCoRewardTerms Reward(MjData data, ReadOnlySpan<double> ctrl, ReadOnlySpan<double> before, ReadOnlySpan<double> after);

    /// <summary>Whether the state is healthy (the episode goes on). Only consulted when <see cref="Terminates"/>.</summary>
    public abstract bool IsHealthy(MjData data);

    /// <summary>Writes the observation ([<see cref="ObservationSize"/>], float32) of the current data.</summary>
    public abstract void Observe(MjData data, Span<float> observation);

    /// <summary>U(±scale) noise added to each element.</summary>
    protected static void AddUniform(ref Rng rng, Span<double> x, double scale)
    {
        for (int i = 0; i < x.Length; i++) x[i] += scale * (2.0 * rng.NextDouble() - 1.0);
    }

    /// <summary>scale·N(0, 1) noise added to each element.</summary>
    protected static void AddNormal(ref Rng rng, Span<double> x, double scale)
    {
        for (int i = 0; i < x.Length; i++) x[i] += scale * rng.NextNormal();
    }

    /// <summary>Σ x².</summary>
    protected static double SumSquares(ReadOnlySpan<double> x)
    {
        double s = 0;
        foreach (double v in x) s += v * v;
        return s;
    }

    /// <summary>Copies doubles to floats, element by element, starting at <paramref name="offset"/>; returns the new offset.</summary>
    protected static int Put(Span<float> obs, int offset, ReadOnlySpan<double> values)
    {
        for (int i = 0; i < values.Length; i++) obs[offset + i] = (float)values[i];
        return offset + values.Length;
    }

    /// <summary>Like <see cref="Put"/> with every value clipped to [−limit, limit] first.</summary>
    protected static int PutClipped(Span<float> obs, int offset, ReadOnlySpan<double> values, double limit)
    {
        for (int i = 0; i < values.Length; i++) obs[offset + i] = (float)Math.Clamp(values[i], -limit, limit);
        return offset + values.Length;
    }

    /// <summary>Whether every value is finite.</summary>
    protected static bool AllFinite(ReadOnlySpan<double> values)
    {
        foreach (double v in values)
        {
            if (!double.IsFinite(v)) return false;
        }

        return true;
    }

    /// <summary>qpos0 + U(±posScale) for positions and U(±velScale) for velocities (Hopper, Walker2d, Humanoid, InvertedPendulum).</summary>
    protected void UniformReset(ref Rng rng, Span<double> qpos, Span<double> qvel, double posScale, double velScale)
    {
        Model.Qpos0.CopyTo(qpos);
        AddUniform(ref rng, qpos, posScale);
        qvel.Clear();
        AddUniform(ref rng, qvel, velScale);
    }

    /// <summary>qpos0 + U(±posScale) for positions and velScale·N for velocities (Ant, HalfCheetah, InvertedDoublePendulum).</summary>
    protected void UniformNormalReset(ref Rng rng, Span<double> qpos, Span<double> qvel, double posScale, double velScale)
    {
        Model.Qpos0.CopyTo(qpos);
        AddUniform(ref rng, qpos, posScale);
        qvel.Clear();
        AddNormal(ref rng, qvel, velScale);
    }
}
