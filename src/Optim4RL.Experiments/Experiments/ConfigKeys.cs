using Optim4RL.Supervised;

namespace Optim4RL.Experiments;

/// <summary>
/// The key definitions of every run kind (<see cref="ConfigSchema"/>): what <see cref="ExperimentRunner"/>,
/// <see cref="CollectRunner"/> and the meta-training builders read, with the defaults they use.
/// A key added to a runner must be added here too (a run rejects keys its schema does not list), and
/// docs/configs.md regenerated (the test <c>ConfigDocsTests</c> says how).
/// </summary>
public static class ConfigKeys
{
    private const string A2CName = "A2C", MetaA2CName = "MetaA2C", MetapA2CName = "MetapA2C";
    private const string PpoName = "PPO", MetaPpoName = "MetaPPO", MetapPpoName = "MetapPPO";

    private static readonly Lazy<IReadOnlyList<RunKind>> All = new(Build);

    /// <summary>Every run kind, in the order of <see cref="ExperimentRunner.AgentNames"/>.</summary>
    public static IReadOnlyList<RunKind> Kinds => All.Value;

    /// <summary>Docs text on the names of the agent's optimizer section.</summary>
    public const string AliasNotes =
        "The agent's optimizer is the section `agent_optim` in A2C, A2Ccollect and meta-training files. PPO files may\n" +
        "call it `optim` instead (the reference's Brax-style PPO files do; give one of the two). SLCollect, the supervised\n" +
        "contrast, reads its optimizer from `optimizer` (the reference's supervised files), which no other kind reads.";

    private static IReadOnlyList<RunKind> Build()
    {
        var kinds = new List<RunKind>
        {
            A2CKind(A2CName, "Advantage actor-critic on the discrete tasks (catch, gridworlds) with a hand-designed optimizer, or a learned one loaded from a φ file. Tasks of `env.name` run one after the other; results in `result_<task>.csv`."),
            MetaA2CKind(MetaA2CName, pipeline: true, "Meta-trains a learned optimizer (`agent_optim.name`) with A2C agents on one or more discrete tasks at once, with pipeline training: each task's agents are reset in a staggered way every `agent.reset_interval` meta-iterations. Writes `param.json` (φ), `meta_train.csv` and checkpoints."),
            MetaA2CKind(MetapA2CName, pipeline: false, "The no-pipeline ablation of MetaA2C: the same meta-training, but agents are never reset."),
            PpoKind(),
            MetaPpoKind(MetaPpoName, pipeline: true, "Meta-trains a learned optimizer with `agent.num_agents` PPO agents on one continuous-control task, with pipeline training (staggered resets every `agent.reset_interval` meta-iterations). Writes `param.json`, `meta_train.csv` and checkpoints."),
            MetaPpoKind(MetapPpoName, pipeline: false, "The no-pipeline ablation of MetaPPO: agents are never reset."),
            A2CKind(CollectRunner.A2CCollectName, "A2C (as `A2C`) that also writes every `agent.data_reduce`-th coordinate of g and Δθ at every update to `grads_<task>.bin`, for the gradient analysis."),
            SupervisedKind(),
        };
        return kinds;
    }

    // ---------- shared keys ----------

    private static ConfigKey Key(string path, ConfigType type, ConfigRange range, string? def, string meaning) => new(path, type, range, def, meaning);

    private static ConfigKey AgentName(string agent) => Key("agent.name", ConfigType.String, ConfigRange.OneOf("agent", [agent]), null, "the run kind");

    /// <summary>The keys every RL kind starts with: its name, then the tasks, their environments and the step budget.</summary>
    private static IEnumerable<ConfigKey> RunKeys(string agent, ConfigRange tasks, string tasksMeaning, ConfigType envsType, string envsMeaning, string trainStepsMeaning) =>
    [
        AgentName(agent),
        Key("env.name", ConfigType.StringList, tasks, null, tasksMeaning),
        Key("env.num_envs", envsType, ConfigRange.AtLeast(1), null, envsMeaning),
        Key("env.train_steps", ConfigType.Integer64, ConfigRange.AtLeast(1), null, trainStepsMeaning),
    ];

    private static readonly ConfigKey ActionRepeat = Key("env.action_repeat", ConfigType.Integer, ConfigRange.Exactly(1), "1", "only 1 is supported (the reference's value)");

    private static ConfigKey InnerUpdates(string meaning) => Key("agent.inner_updates", ConfigType.Integer, ConfigRange.AtLeast(1), "4", meaning);

    /// <summary><c>agent.reset_interval</c>: R with pipeline training, unused (any value) without.</summary>
    private static ConfigKey ResetInterval(ConfigType type, bool pipeline, string meaning) => pipeline
        ? Key("agent.reset_interval", type, ConfigRange.AtLeast(1), "1", meaning)
        : Key("agent.reset_interval", type, ConfigRange.Any, "1", "unused without pipeline training (the reference's files say −1)");

    /// <summary>The keys every meta-training kind ends with: the learned optimizer (then <paramref name="stateKeys"/>), φ's optimizer, the estimator, the seeds.</summary>
    private static IEnumerable<ConfigKey> MetaTrainingKeys(bool perTask, params ConfigKey[] stateKeys) =>
        [.. LearnedOptimizerKeys(perTask), .. stateKeys, .. MetaOptimizerKeys(), .. MetaEstimatorKeys(), .. Seeds()];

    private static IEnumerable<ConfigKey> Seeds(string generateMeaning = "true: run k uses seed + (k − 1), so every index and repeat gets its own repeatable seed; false: every run uses seed") =>
    [
        Key("seed", ConfigType.Integer64, ConfigRange.AtLeast(0), null, "base seed of every random stream of the run"),
        Key("generate_random_seed", ConfigType.Boolean, ConfigRange.Any, "false", generateMeaning),
    ];

    private static ConfigRange DiscreteTasks { get; } = ConfigRange.Named(
        "catch or a gridworld (small_*/big_*, abbreviations such as sdl)", "task", EnvRegistry.IsDiscrete, () => EnvRegistry.Names);

    private static ConfigRange ContinuousTasks { get; } = ConfigRange.Named(
        "a continuous-control task (ant, humanoid, walker2d, …)", "task", ContinuousEnvRegistry.IsAvailable, () => EnvRegistry.ContinuousNames);

    private static ConfigRange HandDesigned { get; } = ConfigRange.OneOf("optimizer", Optax.Names);

    private static ConfigRange Learned { get; } = ConfigRange.OneOf("learned optimizer", LearnedOptimizers.Names);

    private static ConfigRange AnyOptimizer { get; } = ConfigRange.Named(
        $"hand-designed ({string.Join(", ", Optax.Names)}) or learned ({string.Join(", ", LearnedOptimizers.Names)})", "optimizer",
        IsOptimizer, () => Optax.Names.Concat(LearnedOptimizers.Names));

    private static bool IsOptimizer(string name) => IsHandDesigned(name) || IsLearned(name);

    private static bool IsHandDesigned(string name) => Optax.Names.Contains(name.Trim(), StringComparer.OrdinalIgnoreCase);

    private static bool IsLearned(string name) => LearnedOptimizers.Names.Contains(name, StringComparer.OrdinalIgnoreCase);

    private static IEnumerable<ConfigKey> A2CAgentKeys(bool convLayout = true) =>
    [
        Key("agent.rollout_steps", ConfigType.Integer, ConfigRange.AtLeast(1), "20", "T: environment steps per rollout, one update per rollout"),
        Key("agent.gae_lambda", ConfigType.Number, ConfigRange.Between(0, 1), "0.95", "λ of the λ-returns (critic targets, advantages)"),
        Key("agent.critic_loss_weight", ConfigType.Number, ConfigRange.AtLeast(0), "0.5", "weight of the critic's mean squared TD error"),
        Key("agent.entropy_weight", ConfigType.Number, ConfigRange.AtLeast(0), "0.01", "weight of the entropy bonus"),
        .. convLayout
            ? new[] { Key("agent.conv_layout", ConfigType.String, ConfigRange.OneOf("layout", ["reference", "rows_cols"]), "reference", "how the big gridworlds' 2×2 conv reads the observation: as the reference's network does, or over rows × columns") }
            : [],
        Key("discount", ConfigType.Number, ConfigRange.Between(0, 1), "0.995", "γ"),
    ];

    private static IEnumerable<ConfigKey> PpoAgentKeys(string envsMeaning) =>
    [
        Key("agent.rollout_steps", ConfigType.Integer, ConfigRange.AtLeast(1), "5", "unroll length T of a segment"),
        Key("batch_size", ConfigType.Integer, ConfigRange.AtLeast(1), "2048", "segments per minibatch" + envsMeaning),
        Key("agent.num_minibatches", ConfigType.Integer, ConfigRange.AtLeast(1), "32", "minibatches per epoch; a training step collects batch_size × num_minibatches segments"),
        Key("agent.update_epochs", ConfigType.Integer, ConfigRange.AtLeast(1), "4", "passes over the collected segments per training step"),
        Key("agent.gae_lambda", ConfigType.Number, ConfigRange.Between(0, 1), "0.95", "λ of GAE"),
        Key("agent.clipping_epsilon", ConfigType.Number, ConfigRange.AtLeast(0), "0.3", "ε of the clipped surrogate objective"),
        Key("agent.entropy_weight", ConfigType.Number, ConfigRange.AtLeast(0), "0.01", "weight of the entropy bonus (Brax's entropy_cost)"),
        Key("agent.policy_hidden_layer_sizes", ConfigType.IntegerList, ConfigRange.AtLeast(1), "[32, 32, 32, 32]", "hidden widths of the policy MLP"),
        Key("agent.value_hidden_layer_sizes", ConfigType.IntegerList, ConfigRange.AtLeast(1), "[64, 64, 64, 64, 64]", "hidden widths of the value MLP"),
        Key("discount", ConfigType.Number, ConfigRange.Between(0, 1), "0.97", "γ"),
        Key("env.normalize_obs", ConfigType.Boolean, ConfigRange.Any, "true", "normalise observations by a running mean and standard deviation"),
    ];

    private static IEnumerable<ConfigKey> AgentOptimizerKeys(bool perTask) =>
    [
        Key("agent_optim.name", ConfigType.String, AnyOptimizer, null, "the agent's optimizer (letter case ignored)"),
        Key("agent_optim.kwargs.learning_rate", perTask ? ConfigType.NumberPerTask : ConfigType.Number, ConfigRange.Above(0), null,
            "step size α (for STAR: MLPNomLOpt's step_mult, which scales the MLP's step)"),
        Key("agent_optim.kwargs.grad_clip", ConfigType.Number, ConfigRange.Any, "-1", "clip every gradient coordinate to [−grad_clip, grad_clip]; ≤ 0: off"),
        Key("agent_optim.kwargs.grad_norm", ConfigType.Number, ConfigRange.Any, "-1", "hand-designed optimizers: rescale the gradient to at most this global norm; ≤ 0: off"),
        Key("agent_optim.kwargs.param_load_path", ConfigType.String, ConfigRange.Any, "\"\"", "learned optimizers: the φ file to load (param.json of a meta-training run)"),
    ];

    private static IEnumerable<ConfigKey> LearnedOptimizerKeys(bool perTask) =>
    [
        Key("agent_optim.name", ConfigType.String, Learned, null, "the learned optimizer being meta-trained (letter case ignored)"),
        Key("agent_optim.kwargs.learning_rate", perTask ? ConfigType.NumberPerTask : ConfigType.Number, ConfigRange.Above(0), null,
            "α: the learned optimizer's step scale for the agents" + (perTask ? " of each task" : "")),
        Key("agent_optim.kwargs.grad_clip", ConfigType.Number, ConfigRange.Any, "-1", "clip the agents' gradient coordinates to [−grad_clip, grad_clip] before the learned optimizer; ≤ 0: off"),
        Key("agent_optim.kwargs.param_load_path", ConfigType.String, ConfigRange.Any, "\"\"", "φ to start from (a param.json); \"\": the architecture's initial φ"),
    ];

    private static IEnumerable<ConfigKey> MetaOptimizerKeys() =>
    [
        Key("meta_optim.name", ConfigType.String, HandDesigned, null, "the optimizer of φ (letter case ignored)"),
        Key("meta_optim.kwargs.learning_rate", ConfigType.Number, ConfigRange.Above(0), null, "the meta learning rate"),
        Key("meta_optim.kwargs.grad_clip", ConfigType.Number, ConfigRange.Any, "-1", "clip every meta-gradient coordinate to [−grad_clip, grad_clip]; ≤ 0: off"),
        Key("meta_optim.kwargs.grad_norm", ConfigType.Number, ConfigRange.Any, "-1", "rescale the meta-gradient to at most this global norm; ≤ 0: off"),
        Key("meta_optim.kwargs.max_norm", ConfigType.Number, ConfigRange.Any, "-1", "rescale each task's meta-gradient to exactly this global norm before the mean over tasks; ≤ 0: off"),
        Key("display_interval", ConfigType.Integer, ConfigRange.AtLeast(1), "50", "meta-iterations between log lines"),
    ];

    private static IEnumerable<ConfigKey> MetaEstimatorKeys() =>
    [
        Key("meta_estimator.name", ConfigType.String, ConfigRange.OneOf("estimator", MetaEstimators.Names), "BPTT",
            "how the meta-gradient is estimated: BPTT (back-propagation through the K inner updates, minimising the RL loss) or ES (evolution strategies, maximising the reward collected; docs/estimators.md)"),
        Key("meta_estimator.population", ConfigType.Integer, ConfigRange.AtLeast(2), "32", "ES: N, perturbed φ per meta-iteration and task (antithetic pairs, so even)"),
        Key("meta_estimator.sigma", ConfigType.Number, ConfigRange.Above(0), "0.01", "ES: σ, standard deviation of the Gaussian perturbations of φ"),
        Key("meta_estimator.fitness_shaping", ConfigType.String, ConfigRange.OneOf("fitness shaping", ["centered_ranks", "none"]), "centered_ranks",
            "ES: centered_ranks (rank/(N − 1) − ½, ties share their average rank) or none (the raw fitness)"),
        Key("meta_estimator.inner_steps", ConfigType.Integer, ConfigRange.AtLeast(0), "0",
            "ES: 0 = truncated runs of `agent.inner_updates` from the population's state, on the pipeline schedule; L > 0 = full runs of L inner updates from freshly reset agents"),
    ];

    private static IEnumerable<ConfigRule> MetaEstimatorRules() =>
    [
        new("`meta_estimator.population` is even (ES evaluates antithetic pairs).", c =>
        {
            if (c.Run.Has("meta_estimator.population") && c.Int("meta_estimator.population") % 2 != 0)
                throw c.Error("meta_estimator.population", $"({c.Int("meta_estimator.population")}) must be even: ES evaluates antithetic pairs φ ± σε.");
        }),
    ];

    private static readonly IgnoredKey StarTrainSteps = new("agent_optim.kwargs.train_steps",
        "the reference's STAR files: it set MLPNomLOpt's num_steps, which nothing reads");

    private static readonly IgnoredKey MaxDevices = new("max_devices_per_host",
        "the reference's accelerator count per host; runs here use the CPU cores (`--threads`), and MetaPPO's agents are `agent.num_agents`");

    // ---------- run kinds ----------

    private static RunKind A2CKind(string agent, string description)
    {
        bool collect = agent == CollectRunner.A2CCollectName;
        List<ConfigKey> keys =
        [
            .. RunKeys(agent, DiscreteTasks, "task, or list of tasks trained one after the other",
                ConfigType.Integer, "N: environments of the agent (bounded by the memory estimate)",
                "environment steps per task; iterations = train_steps ÷ (num_envs × rollout_steps)"),
            Key("env.reward_scaling", ConfigType.NumberPerTask, ConfigRange.Above(0), "1", "multiplies the task's rewards"),
            .. A2CAgentKeys(),
            .. collect ? [Key("agent.data_reduce", ConfigType.Integer, ConfigRange.AtLeast(1), null, "record every data_reduce-th coordinate of g and Δθ at every update")] : Array.Empty<ConfigKey>(),
            .. AgentOptimizerKeys(perTask: true),
            .. Seeds(),
        ];
        List<ConfigRule> rules =
        [
            TrainStepsCover("`env.train_steps` ≥ `env.num_envs` × `agent.rollout_steps` (at least one update).",
                "one iteration, num_envs × rollout_steps", "update", c => (Int128)c.Int("env.num_envs") * c.Int("agent.rollout_steps")),
            .. AgentOptimizerRules(),
            new("Memory: the estimate for the largest task (network, optimizer state, `env.num_envs` rollouts) fits in the memory available; no buffer exceeds .NET's array limit.", A2CMemory),
        ];
        return new RunKind(agent, description, keys, [StarTrainSteps], [], rules);
    }

    private static RunKind MetaA2CKind(string agent, bool pipeline, string description)
    {
        List<ConfigKey> keys =
        [
            .. RunKeys(agent, DiscreteTasks, "task, or list of tasks meta-trained on together",
                ConfigType.IntegerPerTask, "environments per task over all its agents: B = num_envs ÷ envs_per_agent agents (bounded by the memory estimate)",
                "environment steps of the first task; meta-iterations = train_steps ÷ (num_envs × rollout_steps × (inner_updates + 1))"),
            Key("env.reward_scaling", ConfigType.NumberPerTask, ConfigRange.Above(0), "1", "multiplies the task's rewards"),
            Key("agent.envs_per_agent", ConfigType.IntegerPerTask, ConfigRange.AtLeast(1), "1",
                "E: environments each agent steps at once, its gradient averaging over E × rollout_steps transitions (1, the reference's, gives B = num_envs agents of one environment each)"),
            InnerUpdates("K: agent updates per meta-iteration, back-propagated through"),
            ResetInterval(ConfigType.IntegerPerTask, pipeline, "R: meta-iterations between two resets of an agent (resets staggered over the agents)"),
            .. A2CAgentKeys(),
            .. MetaTrainingKeys(perTask: true,
                Key("agent_optim.kwargs.state_dtype", ConfigType.String, ConfigRange.OneOf("state type", ["float32", "bfloat16"]), "bfloat16 (STAR: float32)",
                    "storage of the learned optimizer's recurrent state during meta-training: bfloat16 (2 bytes per value, float32 arithmetic; Optim4RL, LinearOptim and L2LGD2), or float32 (the reference's storage; every optimizer)")),
        ];
        List<ConfigRule> rules =
        [
            .. MetaEstimatorRules(),
            TrainStepsCover("`env.train_steps` ≥ one meta-iteration of the first task: `env.num_envs` × `agent.rollout_steps` × (`agent.inner_updates` + 1).",
                "one meta-iteration, num_envs × rollout_steps × (inner_updates + 1)", "meta-update",
                c => (Int128)c.IntPerTask("env.num_envs")[0] * c.Int("agent.rollout_steps") * ((Int128)c.Int("agent.inner_updates") + 1)),
            .. MetaOptimizerRules(),
            new("`env.num_envs` is a multiple of `agent.envs_per_agent` on every task.", c =>
            {
                int[] envs = c.IntPerTask("env.num_envs"), per = c.IntPerTask("agent.envs_per_agent");
                for (int i = 0; i < envs.Length; i++)
                    if (envs[i] % per[i] != 0)
                        throw c.Error("env.num_envs", $"({envs[i]}) must be a multiple of agent.envs_per_agent ({per[i]}){(envs.Length > 1 ? $" on task {i + 1}" : "")}: the agents share the environments evenly.");
            }),
            new("Memory: the estimate summed over all tasks' agents (P·(3 + K + 2·state size) values each, plus a rollout) fits in the memory available; B·P and every buffer stay within .NET's array limits.", MetaA2CMemory),
        ];
        return new RunKind(agent, description, keys, [StarTrainSteps], [], rules);
    }

    private static RunKind PpoKind()
    {
        List<ConfigKey> keys =
        [
            .. RunKeys(PpoName, ContinuousTasks, "task, or list of tasks trained one after the other",
                ConfigType.Integer, "environments stepped in parallel",
                "environment steps per task; training steps = train_steps ÷ (batch_size × num_minibatches × rollout_steps), rounded down per evaluation"),
            Key("env.num_evals", ConfigType.Integer, ConfigRange.AtLeast(1), "1", "evaluations over the run (plus one at step 0 when > 1)"),
            Key("env.num_eval_envs", ConfigType.Integer, ConfigRange.AtLeast(1), "128", "episodes per evaluation, one per environment"),
            Key("env.episode_length", ConfigType.Integer, ConfigRange.AtLeast(1), "the task's limit", "compared with the task's own time limit (1000 steps for the MuJoCo tasks), which is used; a warning when they differ"),
            ActionRepeat,
            Key("env.reward_scaling", ConfigType.NumberPerTask, ConfigRange.Above(0), "1", "multiplies rewards inside the PPO loss only; reported returns are unscaled"),
            .. PpoAgentKeys(""),
            .. AgentOptimizerKeys(perTask: true),
            .. Seeds(),
        ];
        List<ConfigRule> rules =
        [
            .. PpoBatchRules(agents: false),
            TrainStepsCover("`env.train_steps` ≥ `env.num_evals` × `batch_size` × `agent.num_minibatches` × `agent.rollout_steps` (at least one training step per evaluation).",
                "num_evals × batch_size × num_minibatches × rollout_steps", "training step",
                c => (Int128)c.Int("env.num_evals") * c.Int("batch_size") * c.Int("agent.num_minibatches") * c.Int("agent.rollout_steps")),
            .. AgentOptimizerRules(),
        ];
        var alias = new ConfigAlias("optim", "agent_optim", "the reference's Brax-style PPO files name the agent's optimizer `optim`");
        return new RunKind(PpoName, "Brax-style PPO on the continuous-control tasks with a hand-designed optimizer, or a learned one loaded from a φ file. Writes `result_<task>.csv` and the evaluation curves.",
            keys, [MaxDevices, StarTrainSteps], [alias], rules);
    }

    private static RunKind MetaPpoKind(string agent, bool pipeline, string description)
    {
        List<ConfigKey> keys =
        [
            .. RunKeys(agent, ContinuousTasks, "the task (exactly one)",
                ConfigType.Integer, "environments over all agents, split evenly among them",
                "environment steps; meta-iterations = train_steps ÷ (batch_size × num_minibatches × rollout_steps × inner_updates)"),
            ActionRepeat,
            Key("env.reward_scaling", ConfigType.Number, ConfigRange.Above(0), "1", "multiplies rewards inside the PPO loss only"),
            Key("agent.num_agents", ConfigType.Integer, ConfigRange.AtLeast(1), "1", "B: agents trained in parallel (the reference ran one per accelerator device)"),
            InnerUpdates("PPO training steps per agent and meta-iteration"),
            ResetInterval(ConfigType.Integer, pipeline, "R: meta-iterations between two resets of an agent (staggered)"),
            .. PpoAgentKeys(" over all agents (each agent gets batch_size ÷ num_agents)"),
            .. MetaTrainingKeys(perTask: false),
        ];
        List<ConfigRule> rules =
        [
            .. MetaEstimatorRules(),
            new("`env.name` names exactly one task.", c =>
            {
                int n = c.Run.GetStringList("env.name").Count;
                if (n != 1) throw c.Error("env.name", $"names {n} tasks: {agent} trains on one task.");
            }),
            .. PpoBatchRules(agents: true),
            TrainStepsCover("`env.train_steps` ≥ one meta-iteration: `batch_size` × `agent.num_minibatches` × `agent.rollout_steps` × `agent.inner_updates`.",
                "one meta-iteration, batch_size × num_minibatches × rollout_steps × inner_updates", "meta-update",
                c => (Int128)c.Int("batch_size") * c.Int("agent.num_minibatches") * c.Int("agent.rollout_steps") * c.Int("agent.inner_updates")),
            .. MetaOptimizerRules(),
        ];
        var ignored = new[]
        {
            MaxDevices,
            new IgnoredKey("env.episode_length", "the reference's files carry the time limit; MetaPPO runs each task with its own (1000 steps)"),
            StarTrainSteps,
        };
        return new RunKind(agent, description, keys, ignored, [], rules);
    }

    private static RunKind SupervisedKind()
    {
        var keys = new List<ConfigKey>
        {
            AgentName(CollectRunner.SupervisedCollectName),
            Key("task.name", ConfigType.String, ConfigRange.OneOf("supervised task", [GaussianMixtureConfig.TaskName]), GaussianMixtureConfig.TaskName, "the supervised task (generated; no data set is downloaded)"),
            Key("task.num_classes", ConfigType.Integer, ConfigRange.AtLeast(2), "10", "K: classes"),
            Key("task.input_dim", ConfigType.Integer, ConfigRange.AtLeast(1), "32", "D: input dimensions"),
            Key("task.components", ConfigType.Integer, ConfigRange.AtLeast(1), "3", "M: Gaussian components per class"),
            Key("task.separation", ConfigType.Number, ConfigRange.Above(0), "0.5", "standard deviation s of the component centres (larger: easier)"),
            Key("task.train_size", ConfigType.Integer, ConfigRange.AtLeast(1), "10000", "training examples"),
            Key("task.test_size", ConfigType.Integer, ConfigRange.AtLeast(1), "2000", "test examples"),
            Key("model.name", ConfigType.String, ConfigRange.OneOf("model", ["MLP"]), "MLP", "the model; an MLP classifier is the only one"),
            Key("model.kwargs.hidden_sizes", ConfigType.IntegerList, ConfigRange.AtLeast(1), "[64, 64]", "hidden widths of the MLP"),
            Key("epochs", ConfigType.Integer, ConfigRange.AtLeast(1), null, "passes over the training set"),
            Key("batch_size", ConfigType.Integer, ConfigRange.AtLeast(1), null, "examples per update"),
            Key("optimizer.name", ConfigType.String, HandDesigned, null, "the model's optimizer (letter case ignored)"),
            Key("optimizer.kwargs.learning_rate", ConfigType.Number, ConfigRange.Above(0), null, "step size α"),
            Key("optimizer.kwargs.grad_clip", ConfigType.Number, ConfigRange.Any, "-1", "clip every gradient coordinate to [−grad_clip, grad_clip]; ≤ 0: off"),
            Key("optimizer.kwargs.grad_norm", ConfigType.Number, ConfigRange.Any, "-1", "rescale the gradient to at most this global norm; ≤ 0: off"),
            Key("agent.data_reduce", ConfigType.Integer, ConfigRange.AtLeast(1), null, "record every data_reduce-th coordinate of g and Δθ at every update"),
            Key("display_interval", ConfigType.Integer, ConfigRange.AtLeast(1), "1", "epochs between log lines"),
        };
        keys.AddRange(Seeds());
        List<ConfigRule> rules =
        [
            new("`batch_size` ≤ `task.train_size`.", c =>
            {
                if (c.Int("batch_size") > c.Int("task.train_size"))
                    throw c.Error("batch_size", $"({c.Int("batch_size")}) is larger than task.train_size ({c.Int("task.train_size")}).");
            }),
            ClipOrNormRule("optimizer"),
            new("Memory: the estimate (data set, model, activations of a minibatch and of the test set) fits in the memory available; no buffer exceeds .NET's array limit.", SupervisedMemory),
        ];
        return new RunKind(CollectRunner.SupervisedCollectName,
            "The supervised contrast of the gradient analysis: an MLP classifier trained on a generated Gaussian mixture, writing every `agent.data_reduce`-th coordinate of g and Δθ to `grads_gaussian_mixture.bin` and the accuracy per epoch to `sl_train.csv`.",
            keys, [], [], rules);
    }

    // ---------- rules ----------

    /// <summary>
    /// <c>env.train_steps</c> covers at least <paramref name="needed"/> environment steps (<paramref name="least"/>, as the
    /// message words it); otherwise no <paramref name="nothing"/> would run.
    /// </summary>
    private static ConfigRule TrainStepsCover(string description, string least, string nothing, Func<ConfigRuleContext, Int128> needed) =>
        new(description, c =>
        {
            Int128 steps = needed(c);
            if (c.Long("env.train_steps") < steps)
                throw c.Error("env.train_steps", $"({c.Long("env.train_steps")}) is below {least} = {steps}: no {nothing} would run.");
        });

    private static ConfigRule ClipOrNormRule(string section) =>
        new($"`{section}.kwargs.grad_clip` and `{section}.kwargs.grad_norm` are not both > 0 (choose one).", c =>
        {
            double clip = c.Double(section + ".kwargs.grad_clip", -1), norm = c.Double(section + ".kwargs.grad_norm", -1);
            if (clip > 0 && norm > 0)
                throw c.Error(section + ".kwargs.grad_norm", $"({norm}) and grad_clip ({clip}) are both > 0; set one of them to -1.");
        });

    private static IEnumerable<ConfigRule> AgentOptimizerRules() =>
    [
        new("A learned `agent_optim.name` needs `agent_optim.kwargs.param_load_path` (a φ file of that optimizer, read before the run starts) and takes no `grad_norm`; a hand-designed one takes no `param_load_path`.", c =>
        {
            string name = c.String("agent_optim.name");
            string path = c.String("agent_optim.kwargs.param_load_path");
            if (IsLearned(name))
            {
                if (string.IsNullOrWhiteSpace(path))
                    throw c.Error("agent_optim.kwargs.param_load_path", $"is empty: a learned optimizer ({name}) needs a φ file; run a Meta config first and point this key to its param.json.");
                if (c.Double("agent_optim.kwargs.grad_norm", -1) > 0)
                    throw c.Error("agent_optim.kwargs.grad_norm", $"is not applied by learned optimizers ({name}); use grad_clip or set grad_norm to -1.");
                CheckPhiFile(c, name, path);
            }
            else if (!string.IsNullOrEmpty(path))
            {
                throw c.Error("agent_optim.kwargs.param_load_path", $"is set but {name} is a hand-designed optimizer, which loads no φ; remove the key or name a learned optimizer.");
            }
        }),
        ClipOrNormRule("agent_optim"),
    ];

    private static IEnumerable<ConfigRule> MetaOptimizerRules() =>
    [
        ClipOrNormRule("meta_optim"),
        new("A non-empty `agent_optim.kwargs.param_load_path` is a φ file of `agent_optim.name` (read before the run starts).", c =>
        {
            string path = c.String("agent_optim.kwargs.param_load_path");
            if (!string.IsNullOrWhiteSpace(path)) CheckPhiFile(c, c.String("agent_optim.name"), path);
        }),
    ];

    private static IEnumerable<ConfigRule> PpoBatchRules(bool agents)
    {
        if (agents)
        {
            yield return new("`env.num_envs` and `batch_size` are multiples of `agent.num_agents`.", c =>
            {
                int b = c.Int("agent.num_agents"), envs = c.Int("env.num_envs"), batch = c.Int("batch_size");
                if (envs % b != 0) throw c.Error("env.num_envs", $"({envs}) must be a multiple of agent.num_agents ({b}).");
                if (batch % b != 0) throw c.Error("batch_size", $"({batch}) must be a multiple of agent.num_agents ({b}).");
            });
        }

        yield return new(agents
            ? "(`batch_size` ÷ `agent.num_agents`) × `agent.num_minibatches` is a multiple of `env.num_envs` ÷ `agent.num_agents`, and at most 2147483647."
            : "`batch_size` × `agent.num_minibatches` is a multiple of `env.num_envs`, and at most 2147483647.", c =>
        {
            int b = agents ? c.Int("agent.num_agents") : 1;
            long segments = (long)(c.Int("batch_size") / b) * c.Int("agent.num_minibatches");
            int envs = c.Int("env.num_envs") / b;
            string what = agents ? "(batch_size ÷ num_agents) × num_minibatches" : "batch_size × num_minibatches";
            if (segments > int.MaxValue)
                throw c.Error("batch_size", $"is too large: {what} = {segments} exceeds 2147483647.");
            if (segments % envs != 0)
                throw c.Error("env.num_envs", $"({c.Int("env.num_envs")}) does not divide the segments of a training step: {what} = {segments} must be a multiple of {(agents ? "num_envs ÷ num_agents" : "num_envs")} ({envs}).");
        });
    }

    /// <summary>Reads the φ file (when <see cref="ConfigChecks.Files"/> is asked for); its errors name the file and the fix.</summary>
    private static void CheckPhiFile(ConfigRuleContext c, string optimizer, string path)
    {
        if ((c.Checks & ConfigChecks.Files) == 0) return;
        MetaParamsFile.Load(path, LearnedOptimizers.Create(optimizer));
    }

    // ---------- memory ----------

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, NetworkSpec> Networks = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The agent network of a discrete task (built once per task name).</summary>
    private static NetworkSpec NetworkOf(string task) => Networks.GetOrAdd(task, t =>
    {
        var probe = EnvRegistry.CreateDiscrete(t, 1, new Rng(0));
        return NetworkSpec.ForTask(probe.Name, probe.ObservationShape.ToArray(), probe.ActionCount);
    });

    private static void A2CMemory(ConfigRuleContext c)
    {
        int envs = c.Int("env.num_envs"), steps = c.Int("agent.rollout_steps");
        string optimizer = c.String("agent_optim.name");
        double state = IsLearned(optimizer) ? LearnedOptimizers.Create(optimizer).StateSize + 1 : 2;
        var tasks = c.Run.GetStringList("env.name");
        string worst = tasks.MaxBy(t => MemoryEstimate.A2CBytes(NetworkOf(t), envs, steps, state))!;
        CheckAvailable(c, "env.num_envs", MemoryEstimate.A2CBytes(NetworkOf(worst), envs, steps, state),
            $"{MemoryEstimate.Format(MemoryEstimate.RolloutBytesPerEnv(NetworkOf(worst), steps))} per environment × {envs} environments of {worst}");
        foreach (string task in tasks)
        {
            double largest = MemoryEstimate.A2CLargestArray(NetworkOf(task), envs, Math.Clamp(envs / 128, 1, 4), steps);
            if (largest > MemoryEstimate.MaxArrayElements)
                throw c.Error("env.num_envs", $"({envs}) × agent.rollout_steps ({steps}) is too large for {task}: one rollout buffer would hold {largest:G3} values, more than a .NET array can ({Array.MaxLength}), even with --force.");
        }
    }

    private static void MetaA2CMemory(ConfigRuleContext c)
    {
        var tasks = c.Run.GetStringList("env.name");
        int[] envs = c.IntPerTask("env.num_envs"), perAgent = c.IntPerTask("agent.envs_per_agent");
        int[] agents = envs.Select((n, i) => Math.Max(1, n / perAgent[i])).ToArray();
        int steps = c.Int("agent.rollout_steps"), inner = c.Int("agent.inner_updates");
        var lopt = LearnedOptimizers.Create(c.String("agent_optim.name"));
        double total = 0, totalAgents = agents.Sum(a => (double)a);
        int stateBytes = StateDtypeSetting.Of(c.Run).Bytes();
        for (int i = 0; i < tasks.Count; i++)
            total += agents[i] * MemoryEstimate.MetaAgentBytes(NetworkOf(tasks[i]), steps, inner, lopt.StateSize, stateBytes, perAgent[i]);
        CheckAvailable(c, "env.num_envs", total, $"{MemoryEstimate.Format(total / totalAgents)} per agent on average × {totalAgents} agents over {tasks.Count} task(s)");
        for (int i = 0; i < tasks.Count; i++)
        {
            var spec = NetworkOf(tasks[i]);
            double coordinates = (double)agents[i] * spec.Layout.Count;
            if (coordinates > int.MaxValue)
                throw c.Error("env.num_envs", $"({agents[i]}) is too large for {tasks[i]}: num_envs × P ({spec.Layout.Count} parameters) = {coordinates:G3} coordinates, more than 2147483647, even with --force.");
            double largest = MemoryEstimate.MetaLargestArray(spec, agents[i], steps, inner, lopt.StateSize);
            if (largest > MemoryEstimate.MaxArrayElements)
                throw c.Error("env.num_envs", $"({agents[i]}) is too large for {tasks[i]} with agent.inner_updates {inner} and agent.rollout_steps {steps}: one buffer would hold {largest:G3} values, more than a .NET array can ({Array.MaxLength}), even with --force.");
        }
    }

    private static void SupervisedMemory(ConfigRuleContext c)
    {
        IReadOnlyList<int> hidden = c.Run.Has("model.kwargs.hidden_sizes") ? c.Run.GetIntList("model.kwargs.hidden_sizes") : [64, 64];
        double train = c.Int("task.train_size"), test = c.Int("task.test_size"), d = c.Int("task.input_dim");
        double k = c.Int("task.num_classes"), m = c.Int("task.components");
        CheckAvailable(c, "task.train_size", MemoryEstimate.SupervisedBytes(train, test, d, k, m, hidden, c.Int("batch_size")), "data set, model and activations");
        double largest = MemoryEstimate.SupervisedLargestArray(train, test, d, k, m, hidden);
        if (largest > MemoryEstimate.MaxArrayElements)
            throw c.Error("task", $"sizes are too large: one buffer (train_size × input_dim, num_classes × components × input_dim, test_size × the widest layer, or a weight matrix) would hold {largest:G3} values, more than a .NET array can ({Array.MaxLength}), even with --force.");
    }

    private static void CheckAvailable(ConfigRuleContext c, string key, double bytes, string breakdown)
    {
        if ((c.Checks & ConfigChecks.Memory) == 0) return;
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (bytes > available)
            throw c.Error(key, $"asks for too much memory: the run needs an estimated {MemoryEstimate.Format(bytes)} ({breakdown}) but {MemoryEstimate.Format(available)} is available; lower {key}, or pass --force to start anyway.");
    }
}
