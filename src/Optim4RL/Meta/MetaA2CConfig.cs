using Optim4RL.Agents;
using Optim4RL.Nn;
using Optim4RL.Optimizers.Learned;

namespace Optim4RL.Meta;

/// <summary>One meta-training task (docs/algorithms.md, "Meta-training"): an environment with its own agents and settings.</summary>
/// <param name="Env">Task name, e.g. <c>catch</c> or <c>small_dense_long</c>.</param>
/// <param name="NumAgents">B, agents for this task (<c>env.num_envs</c> ÷ <c>agent.envs_per_agent</c>).</param>
/// <param name="LearningRate">α of the learned optimizer for this task's agents.</param>
/// <param name="RewardScaling">Multiplies the environment's rewards.</param>
/// <param name="ResetInterval">R of the pipeline schedule, in meta-iterations.</param>
/// <param name="EnvsPerAgent">E, environments each agent steps in parallel; its A2C gradient averages over their E × T
/// transitions. 1 is the reference's setting (one environment per agent); plain A2C evaluation runs use 512 for one agent.</param>
public sealed record MetaTaskConfig(string Env, int NumAgents, float LearningRate, float RewardScaling = 1f, int ResetInterval = 64, int EnvsPerAgent = 1)
{
    /// <summary>Environments of the task over all its agents, B·E.</summary>
    public long NumEnvs => (long)NumAgents * EnvsPerAgent;
}

/// <summary>
/// Settings of <see cref="MetaA2C"/> (docs/algorithms.md, "Meta-training"; the reference's MetaA2C/MetapA2C keys).
/// </summary>
/// <param name="Tasks">One or more tasks; the meta-gradient is the mean over tasks.</param>
/// <param name="TrainSteps">Environment steps per task; iterations = TrainSteps ÷ (B·E·T·(K+1)).</param>
/// <param name="InnerUpdates">K, inner updates per meta-iteration (<c>inner_updates</c>, 4).</param>
/// <param name="Pipeline">True for MetaA2C (staggered resets), false for the MetapA2C ablation.</param>
/// <param name="GradClip">Elementwise clip of the agent gradient before the learned optimizer (<c>agent_optim.kwargs.grad_clip</c>; ≤ 0 = off).</param>
/// <param name="MaxNorm">Per-task meta-gradient rescaled to exactly this global norm before the mean (<c>meta_optim.kwargs.max_norm</c>; ≤ 0 = off).</param>
/// <param name="Agent">A2C hyper-parameters of the inner updates and the meta-loss.</param>
/// <param name="Seed">Seed of every random stream of the run.</param>
/// <param name="ConvLayout">How the big gridworlds' conv reads the observation (<c>agent.conv_layout</c>; the reference's by default).</param>
/// <param name="StateDtype">How the learned optimizer's recurrent state is stored (<c>agent_optim.kwargs.state_dtype</c>); null, the default,
/// picks <see cref="StateDtypes.DefaultFor"/>: bfloat16 where the learned optimizer supports it, float32 otherwise.</param>
public sealed record MetaA2CConfig(
    IReadOnlyList<MetaTaskConfig> Tasks,
    long TrainSteps,
    int InnerUpdates,
    bool Pipeline,
    double GradClip,
    double MaxNorm,
    A2CConfig Agent,
    ulong Seed,
    ConvLayout ConvLayout = ConvLayout.Reference,
    StateDtype? StateDtype = null)
{
    /// <summary>Environment steps per meta-iteration of one task: B·E·T·(K+1).</summary>
    public long StepsPerIteration(int task) => Tasks[task].NumEnvs * Agent.RolloutSteps * (InnerUpdates + 1);

    /// <summary>Meta-iterations of the run: TrainSteps ÷ the first task's steps per iteration (at least 1).</summary>
    public long Iterations => Math.Max(1, TrainSteps / StepsPerIteration(0));
}
