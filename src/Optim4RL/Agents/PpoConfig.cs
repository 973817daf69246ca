namespace Optim4RL.Agents;

/// <summary>
/// PPO hyper-parameters (docs/algorithms.md, "PPO"; Brax's <c>ppo.train</c> arguments under the reference's config
/// keys). Defaults are the reference's Ant values (<c>configs/ppo_ant.json</c>) and the networks of
/// plain PPO: policy 4 × 32, value 5 × 256 (Brax's defaults). MetaPPO / MetapPPO use a smaller value
/// network, <see cref="MetaValueHiddenSizes"/> (5 × 64); the runner picks it for those agents.
/// </summary>
/// <remarks>
/// One training step collects <see cref="SegmentsPerStep"/> = <c>batch_size × num_minibatches</c>
/// segments of <see cref="UnrollLength"/> transitions, i.e. <see cref="UnrollsPerStep"/> unrolls of
/// all N environments, then makes <see cref="UpdateEpochs"/> passes over
/// <see cref="NumMinibatches"/> shuffled minibatches of <see cref="BatchSize"/> segments, one
/// optimizer step per minibatch. In a multi-agent run (MetaPPO) every value here is per agent:
/// <see cref="BatchSize"/> is the agent's share of the global <c>batch_size</c>.
/// </remarks>
public sealed record PpoConfig
{
    /// <summary>Transitions per segment, and per unroll of every environment (<c>agent.rollout_steps</c>, Brax <c>unroll_length</c>; 5).</summary>
    public int UnrollLength { get; init; } = 5;

    /// <summary>Segments per minibatch (<c>batch_size</c>; 2048).</summary>
    public int BatchSize { get; init; } = 2048;

    /// <summary>Minibatches per epoch (<c>agent.num_minibatches</c>; 32).</summary>
    public int NumMinibatches { get; init; } = 32;

    /// <summary>Passes over the collected batch per training step (<c>agent.update_epochs</c>; 4).</summary>
    public int UpdateEpochs { get; init; } = 4;

    /// <summary>γ (<c>discount</c>; 0.97).</summary>
    public double Discount { get; init; } = 0.97;

    /// <summary>λ of GAE (<c>agent.gae_lambda</c>; 0.95).</summary>
    public double GaeLambda { get; init; } = 0.95;

    /// <summary>ε of the clipped surrogate (<c>agent.clipping_epsilon</c>; 0.3).</summary>
    public double ClippingEpsilon { get; init; } = 0.3;

    /// <summary>Weight of the entropy bonus (<c>agent.entropy_weight</c>, Brax <c>entropy_cost</c>; 1e−2).</summary>
    public double EntropyCost { get; init; } = 1e-2;

    /// <summary>Rewards are multiplied by this inside the loss only (<c>env.reward_scaling</c>; 10); reported returns are unscaled.</summary>
    public double RewardScaling { get; init; } = 10;

    /// <summary>Normalise observations by running mean/std (<c>env.normalize_obs</c>; true).</summary>
    public bool NormalizeObservations { get; init; } = true;

    /// <summary>Normalise advantages per minibatch to zero mean, unit std (Brax's <c>normalize_advantage</c>; always true in the reference).</summary>
    public bool NormalizeAdvantage { get; init; } = true;

    /// <summary>The policy network's hidden widths, 4 × 32 (plain PPO and MetaPPO alike).</summary>
    public static IReadOnlyList<int> DefaultPolicyHiddenSizes { get; } = Array.AsReadOnly(new[] { 32, 32, 32, 32 });

    /// <summary>
    /// The value network's hidden widths for plain PPO, 5 × 256: Brax's default networks, which the
    /// reference's PPO runs use (the hand-designed baselines and the evaluation of learned optimizers on MuJoCo).
    /// </summary>
    public static IReadOnlyList<int> PpoValueHiddenSizes { get; } = Array.AsReadOnly(new[] { 256, 256, 256, 256, 256 });

    /// <summary>The value network's hidden widths for MetaPPO / MetapPPO, 5 × 64 (the reference's meta-training networks).</summary>
    public static IReadOnlyList<int> MetaValueHiddenSizes { get; } = Array.AsReadOnly(new[] { 64, 64, 64, 64, 64 });

    /// <summary>Hidden widths of the policy MLP (<c>agent.policy_hidden_layer_sizes</c>; default <see cref="DefaultPolicyHiddenSizes"/>, 4 × 32).</summary>
    public IReadOnlyList<int> PolicyHiddenSizes { get; init; } = DefaultPolicyHiddenSizes;

    /// <summary>
    /// Hidden widths of the value MLP (<c>agent.value_hidden_layer_sizes</c>). Default
    /// <see cref="PpoValueHiddenSizes"/> (5 × 256, plain PPO); MetaPPO / MetapPPO runs default to
    /// <see cref="MetaValueHiddenSizes"/> (5 × 64) instead. The config key overrides either.
    /// </summary>
    public IReadOnlyList<int> ValueHiddenSizes { get; init; } = PpoValueHiddenSizes;

    /// <summary>
    /// Pieces a minibatch's loss is split into and computed in parallel (ours, for speed). Results do
    /// not depend on the thread count, only (in the last bits) on this number; 1 = no split.
    /// </summary>
    public int LossChunks { get; init; } = 1;

    /// <summary>Segments collected per training step: <c>BatchSize × NumMinibatches</c>.</summary>
    public int SegmentsPerStep => checked(BatchSize * NumMinibatches);

    /// <summary>Environment steps per training step: <c>BatchSize × NumMinibatches × UnrollLength</c>.</summary>
    public long EnvStepsPerTrainingStep => (long)SegmentsPerStep * UnrollLength;

    /// <summary>Optimizer steps per training step: <c>UpdateEpochs × NumMinibatches</c>.</summary>
    public int OptimizerStepsPerTrainingStep => UpdateEpochs * NumMinibatches;

    /// <summary>Unrolls of all <paramref name="numEnvs"/> environments per training step.</summary>
    public int UnrollsPerStep(int numEnvs) => SegmentsPerStep / numEnvs;

    /// <summary>Unrolls of the meta-loss rollout (MetaPPO): <c>max(batch_size ÷ num_envs, 1)</c>, as the reference.</summary>
    public int MetaUnrolls(int numEnvs) => Math.Max(BatchSize / numEnvs, 1);

    /// <summary>
    /// Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid value, e.g. when
    /// <c>batch_size × num_minibatches</c> is not a multiple of <paramref name="numEnvs"/> (Brax's assertion).
    /// </summary>
    public void Validate(int numEnvs)
    {
        if (numEnvs < 1) throw new ArgumentOutOfRangeException(nameof(numEnvs), numEnvs, "num_envs must be ≥ 1.");
        if (UnrollLength < 1) throw new ArgumentOutOfRangeException(nameof(UnrollLength), UnrollLength, "rollout_steps must be ≥ 1.");
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "batch_size must be ≥ 1.");
        if (NumMinibatches < 1) throw new ArgumentOutOfRangeException(nameof(NumMinibatches), NumMinibatches, "num_minibatches must be ≥ 1.");
        if (UpdateEpochs < 1) throw new ArgumentOutOfRangeException(nameof(UpdateEpochs), UpdateEpochs, "update_epochs must be ≥ 1.");
        if (Discount is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(Discount), Discount, "discount must be in [0, 1].");
        if (GaeLambda is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(GaeLambda), GaeLambda, "gae_lambda must be in [0, 1].");
        if (!(ClippingEpsilon >= 0)) throw new ArgumentOutOfRangeException(nameof(ClippingEpsilon), ClippingEpsilon, "clipping_epsilon must be ≥ 0.");
        if (!double.IsFinite(EntropyCost)) throw new ArgumentOutOfRangeException(nameof(EntropyCost), EntropyCost, "entropy_weight must be finite.");
        if (!double.IsFinite(RewardScaling)) throw new ArgumentOutOfRangeException(nameof(RewardScaling), RewardScaling, "reward_scaling must be finite.");
        if (LossChunks < 1 || BatchSize % LossChunks != 0)
            throw new ArgumentOutOfRangeException(nameof(LossChunks), LossChunks, $"LossChunks must be ≥ 1 and divide batch_size ({BatchSize}).");
        if (SegmentsPerStep % numEnvs != 0)
            throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize,
                $"batch_size × num_minibatches ({SegmentsPerStep}) must be a multiple of num_envs ({numEnvs}).");
        if (PolicyHiddenSizes.Any(h => h < 1) || ValueHiddenSizes.Any(h => h < 1))
            throw new ArgumentOutOfRangeException(nameof(PolicyHiddenSizes), "Hidden layer widths must be ≥ 1.");
    }
}
