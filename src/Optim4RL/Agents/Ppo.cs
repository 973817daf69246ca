using Optim4RL.Envs;
using Optim4RL.Optimizers;
using Optim4RL.Tensors;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Optim4RL.Agents;

/// <summary>
/// PPO, Brax style (docs/algorithms.md, "PPO"): one agent θ = (policy, value), N environments, any
/// <see cref="IOptimizer"/> — Adam, RMSProp, or a learned optimizer (<c>LearnedOptimizer</c> with
/// fixed φ, or MetaPPO's recording one).
/// </summary>
/// <remarks>
/// The loop of <see cref="TrainingStep"/> reads as Brax's <c>training_step</c>: collect
/// <c>batch_size × num_minibatches</c> segments of <c>unroll_length</c> steps → update the
/// observation normaliser → <c>update_epochs</c> × (shuffle, then one optimizer step per minibatch of
/// <c>batch_size</c> segments). Rollout, normaliser and loss live in <see cref="PpoAgent{T}"/>.
/// </remarks>
public sealed class Ppo
{
    private readonly IOptimizer _optimizer;
    private readonly float[] _theta, _grad, _updates;
    private long _iteration;

    /// <summary>Creates the agent: θ initialised from <paramref name="rng"/>, optimizer state from <c>Init</c>, environments reset.</summary>
    /// <param name="networks">Policy and value networks.</param>
    /// <param name="env">Training environments.</param>
    /// <param name="optimizer">The update rule.</param>
    /// <param name="cfg">Hyper-parameters.</param>
    /// <param name="rng">The agent's root stream.</param>
    /// <param name="withMetaBatch">Also allocate MetaPPO's meta-loss rollout.</param>
    /// <exception cref="ArgumentOutOfRangeException">A hyper-parameter is invalid for the environment count.</exception>
    public Ppo(PpoNetworks networks, IContinuousVectorEnv env, IOptimizer optimizer, PpoConfig cfg, Rng rng, bool withMetaBatch = false)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        _optimizer = optimizer;
        int p = networks.ParamCount;
        _theta = new float[p];
        _grad = new float[p];
        _updates = new float[p];
        Agent = new PpoAgent<float>(networks, env, cfg, _theta, _grad, 0, rng, withMetaBatch);
        OptimizerState = optimizer.Init(p);
        Agent.InitParameters();
        Agent.ResetEpisodes();
    }

    /// <summary>Rollout, normaliser, batch and loss.</summary>
    public PpoAgent<float> Agent { get; }

    /// <summary>Hyper-parameters.</summary>
    public PpoConfig Config => Agent.Config;

    /// <summary>The optimizer's state.</summary>
    public OptimizerState OptimizerState { get; }

    /// <summary>θ, shape [P].</summary>
    public float[] Theta => _theta;

    /// <summary>The gradient of the last loss computed, shape [P].</summary>
    public float[] Gradient => _grad;

    /// <summary>Training steps done so far.</summary>
    public long Iteration => _iteration;

    /// <summary>Environment steps per training step (<see cref="PpoConfig.EnvStepsPerTrainingStep"/>).</summary>
    public long StepsPerIteration => Config.EnvStepsPerTrainingStep;

    /// <summary>Parallelism of the loss chunks (null: one thread per core).</summary>
    public ParallelOptions? Parallelism
    {
        get => Agent.Parallelism;
        set => Agent.Parallelism = value;
    }

    /// <summary>
    /// One training step: collect the batch, update the normaliser, then update_epochs passes of
    /// num_minibatches optimizer steps. Returns the mean minibatch loss and the training episodes
    /// that finished during the rollout, with <see cref="IterationLog.Metrics"/> the means over the
    /// optimizer steps of the loss terms, approximate KL, clip fraction and the norms of g and Δθ.
    /// </summary>
    /// <exception cref="TrainingDivergedException">A loss or gradient is NaN/Inf.</exception>
    public IterationLog TrainingStep()
    {
        var cfg = Config;
        Agent.CollectBatch();
        double lossSum = 0, policy = 0, value = 0, entropyLoss = 0, entropy = 0, kl = 0, clip = 0, gradNorm = 0, updateNorm = 0;
        var lossFn = Agent.Loss;
        for (int epoch = 0; epoch < cfg.UpdateEpochs; epoch++)
        {
            Agent.ShuffleSegments();
            for (int mb = 0; mb < cfg.NumMinibatches; mb++)
            {
                double loss = Agent.MinibatchGradient(mb);
                if (!double.IsFinite(loss) || !float.IsFinite(TP.Sum<float>(_grad)))
                    throw new TrainingDivergedException($"PPO diverged at training step {_iteration + 1} (epoch {epoch + 1}, minibatch {mb + 1}): the loss or gradient is NaN/Inf. Lower the learning rate or enable grad_clip.");
                lossSum += loss;
                var terms = lossFn.LastTerms;
                policy += terms.Policy;
                value += terms.Value;
                entropyLoss += terms.Entropy;
                entropy += lossFn.LastEntropy;
                kl += lossFn.LastApproxKl;
                clip += lossFn.LastClipFraction;
                gradNorm += TP.Norm<float>(_grad);
                _optimizer.Update(_grad, OptimizerState, _updates);
                TP.Add(_theta, _updates, _theta);
                updateNorm += TP.Norm<float>(_updates);
            }
        }
        _iteration++;
        var (sum, count) = Agent.Tracker.Drain();
        double k = cfg.OptimizerStepsPerTrainingStep;
        var metrics = new UpdateMetrics(policy / k, value / k, entropyLoss / k, entropy / k, gradNorm / k, updateNorm / k, kl / k, clip / k);
        return new IterationLog(_iteration, _iteration * StepsPerIteration, lossSum / k, sum, count) { Metrics = metrics };
    }

    /// <summary>Starts over: fresh θ (a new draw from the init stream), cleared optimizer state, fresh normaliser and episodes, step count 0.</summary>
    public void Reset()
    {
        _iteration = 0;
        Agent.InitParameters();
        OptimizerState.Clear();
        Agent.ResetEpisodes();
    }

    /// <summary>Writes the agent, the optimizer state and the step count.</summary>
    public void Save(BinaryWriter w)
    {
        w.Write(_iteration);
        Agent.Save(w);
        OptimizerState.Save(w);
    }

    /// <summary>Restores a state written by <see cref="Save"/>.</summary>
    /// <exception cref="InvalidDataException">The saved state does not fit this agent.</exception>
    public void Load(BinaryReader r)
    {
        _iteration = r.ReadInt64();
        Agent.Load(r);
        OptimizerState.Load(r);
    }
}
