using Optim4RL.Agents;

namespace Optim4RL.Meta;

/// <summary>
/// Settings of <see cref="MetaPpo"/> (docs/algorithms.md, "MetaPPO"; the reference's MetaPPO/MetapPPO keys).
/// </summary>
/// <param name="Env">Task name, e.g. <c>ant</c>.</param>
/// <param name="NumEnvs">Environments over all agents (<c>env.num_envs</c>), split evenly among them.</param>
/// <param name="NumAgents">B, agents trained in parallel with staggered resets (<c>agent.num_agents</c>; ours: the reference
/// runs one agent per accelerator device).</param>
/// <param name="TrainSteps">Environment steps (<c>env.train_steps</c>); iterations = TrainSteps ÷ (batch_size × unroll × num_minibatches × inner_updates).</param>
/// <param name="InnerUpdates">PPO training steps per meta-iteration (<c>agent.inner_updates</c>, 4).</param>
/// <param name="Pipeline">True for MetaPPO (staggered resets), false for MetapPPO (never reset).</param>
/// <param name="ResetInterval">R, in meta-iterations (<c>agent.reset_interval</c>; ignored without pipeline).</param>
/// <param name="LearningRate">α of the learned optimizer (<c>agent_optim.kwargs.learning_rate</c>).</param>
/// <param name="GradClip">Elementwise clip of g before the learned optimizer (<c>agent_optim.kwargs.grad_clip</c>; ≤ 0 = off).</param>
/// <param name="MaxNorm">Meta-gradient rescaled to exactly this global norm (<c>meta_optim.kwargs.max_norm</c>; ≤ 0 = off).</param>
/// <param name="Agent">PPO hyper-parameters with the global <c>batch_size</c>; each agent gets BatchSize ÷ B.</param>
/// <param name="Seed">Seed of every random stream of the run.</param>
public sealed record MetaPpoConfig(
    string Env,
    int NumEnvs,
    int NumAgents,
    long TrainSteps,
    int InnerUpdates,
    bool Pipeline,
    int ResetInterval,
    float LearningRate,
    double GradClip,
    double MaxNorm,
    PpoConfig Agent,
    ulong Seed)
{
    /// <summary>Environment steps per meta-iteration as the reference counts them (all agents, meta rollout excluded).</summary>
    public long StepsPerIteration => Agent.EnvStepsPerTrainingStep * InnerUpdates;

    /// <summary>Meta-iterations of the run (at least 1).</summary>
    public long Iterations => Math.Max(1, TrainSteps / StepsPerIteration);

    /// <summary>K, learned-optimizer steps per agent and meta-iteration: inner_updates × update_epochs × num_minibatches.</summary>
    public int StepsPerMetaIteration => InnerUpdates * Agent.OptimizerStepsPerTrainingStep;

    /// <summary>One agent's PPO settings: the global batch divided among the agents.</summary>
    public PpoConfig AgentConfig => Agent with { BatchSize = Agent.BatchSize / NumAgents };

    /// <summary>Environments per agent.</summary>
    public int EnvsPerAgent => NumEnvs / NumAgents;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid value.</summary>
    public void Validate()
    {
        if (NumAgents < 1) throw new ArgumentException($"num_agents must be ≥ 1 (got {NumAgents}).");
        if (NumEnvs < NumAgents || NumEnvs % NumAgents != 0) throw new ArgumentException($"num_envs ({NumEnvs}) must be a positive multiple of num_agents ({NumAgents}).");
        if (Agent.BatchSize % NumAgents != 0) throw new ArgumentException($"batch_size ({Agent.BatchSize}) must be a multiple of num_agents ({NumAgents}).");
        if (InnerUpdates < 1) throw new ArgumentException($"inner_updates must be ≥ 1 (got {InnerUpdates}).");
        if (Pipeline && ResetInterval < 1) throw new ArgumentException($"reset_interval must be ≥ 1 with pipeline training (got {ResetInterval}).");
        AgentConfig.Validate(EnvsPerAgent);
    }
}
