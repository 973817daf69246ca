namespace Optim4RL.Experiments;

/// <summary>
/// Up-front estimates of the memory a run's buffers take, so that a configuration asking for more
/// than the machine has (say <c>env.num_envs</c> 2e9) fails at once with one line instead of growing
/// until the process dies. Every size is computed in <see cref="double"/>, so absurd values give an
/// absurd estimate rather than an overflow.
/// </summary>
/// <remarks>
/// <para>What is counted (float32 values, 4 bytes each). The network has O inputs, a torso of
/// width D after the optional convolution (<c>torso/dense/kernel</c> is [D, H]), H hidden units,
/// A actions and one value; P is its parameter count. One environment's rollout of T steps holds
/// T + 1 observation rows of <see cref="ActivationFloatsPerRow"/> values (the input, then every
/// layer's output with its gradient), T loss rows of 2·(A + 8) values (log-softmax and the per-step
/// loss terms, with gradients), the rollout records (reward, done flag and action: 9 bytes per
/// step), the environment's own state (2·O values plus 128 bytes) and its episode tracker (8 bytes).</para>
/// <para>A2C adds, once per task, θ, g, Δθ, up to four shard gradients and the optimizer state
/// (S values per parameter: 2 for Adam, the learned optimizer's state size + 1 for a learned one):
/// P·(7 + S) values. Meta-training keeps per agent θ, g, Δθ, the K stored inner gradients and the
/// learned optimizer's state twice (S values per parameter, before and after the inner updates):
/// P·(3 + K + 2S) values, plus its one-environment rollout and about
/// <see cref="AgentObjectBytes"/> of objects (graph nodes, environment, random streams). All tasks of
/// a meta-training run are alive at once, so their agents add up.</para>
/// <para>The supervised contrast (SLCollect) holds the data set ((train + test)·(D + 2) values), the
/// class centres (K·M·D values), the model's parameter vectors (8·P values) and the activations of
/// one minibatch and of the whole test set (every layer's output with its gradient).</para>
/// <para>The estimates aim to be within a factor of about 1.5 of the heap a run really holds; they
/// leave out the runtime itself (tens of MiB).</para>
/// </remarks>
public static class MemoryEstimate
{
    /// <summary>Bytes of objects per meta-training agent besides its buffers (graph nodes, environment, streams).</summary>
    public const double AgentObjectBytes = 8 * 1024;

    /// <summary>The largest number of elements one .NET array may hold (<see cref="Array.MaxLength"/>).</summary>
    public static double MaxArrayElements => Array.MaxLength;

    /// <summary>
    /// Values per observation row of the network's graph: the input (no gradient), the conv torso's
    /// activations when there is one (its output before and after ReLU, and one copy of the input for
    /// a re-ordered layout), the dense layer before and after ReLU, the logits and the value, each
    /// with its gradient.
    /// </summary>
    public static double ActivationFloatsPerRow(NetworkSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        double o = Observation(spec), d = TorsoWidth(spec);
        double conv = spec.ConvFilters > 0 ? 2 * d + o : 0;
        return o + 2 * (conv + 2.0 * spec.HiddenSize + spec.ActionCount + 1);
    }

    /// <summary>Bytes one environment's T-step rollout takes (activations, loss rows, records, environment state).</summary>
    /// <param name="spec">The agent's network.</param>
    /// <param name="rolloutSteps">T (<c>agent.rollout_steps</c>).</param>
    public static double RolloutBytesPerEnv(NetworkSpec spec, double rolloutSteps)
    {
        double rows = rolloutSteps + 1;
        double floats = rows * ActivationFloatsPerRow(spec) + rolloutSteps * 2 * (spec.ActionCount + 8.0) + 2 * Observation(spec);
        return 4 * floats + 9 * rolloutSteps + 136;
    }

    /// <summary>Bytes of an A2C run of one task: P·(7 + S) parameter-sized values plus N rollouts.</summary>
    /// <param name="spec">The agent's network.</param>
    /// <param name="numEnvs">N (<c>env.num_envs</c>).</param>
    /// <param name="rolloutSteps">T.</param>
    /// <param name="optimizerStatePerParam">S, the optimizer's state values per parameter (2 for Adam; a learned optimizer's state size + 1).</param>
    public static double A2CBytes(NetworkSpec spec, double numEnvs, double rolloutSteps, double optimizerStatePerParam)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return 4.0 * spec.Layout.Count * (7 + optimizerStatePerParam) + numEnvs * RolloutBytesPerEnv(spec, rolloutSteps);
    }

    /// <summary>Bytes of one meta-training agent: P·(3 + K) float32 values, 2·S state values of <paramref name="stateBytes"/> bytes per parameter (two buffers), the rollout of its E environments and <see cref="AgentObjectBytes"/>.</summary>
    /// <param name="spec">The agent's network.</param>
    /// <param name="rolloutSteps">T.</param>
    /// <param name="innerUpdates">K (<c>agent.inner_updates</c>).</param>
    /// <param name="learnedStateSize">S, the learned optimizer's state values per parameter.</param>
    /// <param name="stateBytes">Bytes per stored state value: 4 for float32, 2 for bfloat16 (<c>agent_optim.kwargs.state_dtype</c>).</param>
    /// <param name="envsPerAgent">E (<c>agent.envs_per_agent</c>; 1 in the reference).</param>
    public static double MetaAgentBytes(NetworkSpec spec, double rolloutSteps, double innerUpdates, double learnedStateSize, double stateBytes = 4, double envsPerAgent = 1)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return spec.Layout.Count * (4.0 * (3 + innerUpdates) + 2 * learnedStateSize * stateBytes) + envsPerAgent * RolloutBytesPerEnv(spec, rolloutSteps) + AgentObjectBytes;
    }

    /// <summary>
    /// Elements of the largest single array an A2C run allocates: a graph tensor of (T + 1)·n rows
    /// (n = environments per shard) by the widest layer, or the observation rows.
    /// </summary>
    public static double A2CLargestArray(NetworkSpec spec, double numEnvs, double shards, double rolloutSteps)
    {
        ArgumentNullException.ThrowIfNull(spec);
        double perShard = Math.Ceiling(numEnvs / Math.Max(1, shards));
        return (rolloutSteps + 1) * perShard * WidestRow(spec);
    }

    /// <summary>
    /// Elements of the largest single array a meta-training task allocates: the K stored gradients or
    /// the learned optimizer's state over all B·P coordinates, or one agent's (T + 1)-row graph tensor.
    /// </summary>
    public static double MetaLargestArray(NetworkSpec spec, double agents, double rolloutSteps, double innerUpdates, double learnedStateSize)
    {
        ArgumentNullException.ThrowIfNull(spec);
        double coordinates = agents * spec.Layout.Count;
        return Math.Max(Math.Max(innerUpdates, Math.Max(learnedStateSize, 1)) * coordinates, (rolloutSteps + 1) * WidestRow(spec));
    }

    /// <summary>Bytes of the supervised contrast: data set, centres, parameter vectors and activations.</summary>
    /// <param name="trainSize">Training examples.</param>
    /// <param name="testSize">Test examples.</param>
    /// <param name="inputDim">D.</param>
    /// <param name="numClasses">K.</param>
    /// <param name="components">M, Gaussian components per class.</param>
    /// <param name="hidden">Hidden layer widths.</param>
    /// <param name="batchSize">Minibatch size.</param>
    public static double SupervisedBytes(double trainSize, double testSize, double inputDim, double numClasses, double components, IReadOnlyList<int> hidden, double batchSize)
    {
        ArgumentNullException.ThrowIfNull(hidden);
        double data = (trainSize + testSize) * (inputDim + 2) + numClasses * components * inputDim;
        double rowFloats = inputDim + 2 * (2.0 * hidden.Sum(h => (double)h) + 2 * numClasses + 8);
        return 4 * (data + 8 * SupervisedParameters(inputDim, numClasses, hidden) + (batchSize + testSize) * rowFloats);
    }

    /// <summary>Elements of the largest single array of the supervised contrast (a data matrix, a weight matrix or the test set's widest activation).</summary>
    public static double SupervisedLargestArray(double trainSize, double testSize, double inputDim, double numClasses, double components, IReadOnlyList<int> hidden)
    {
        ArgumentNullException.ThrowIfNull(hidden);
        double widest = Math.Max(inputDim, Math.Max(numClasses, hidden.Count == 0 ? 0 : hidden.Max()));
        return Math.Max(Math.Max(trainSize * inputDim, numClasses * components * inputDim),
            Math.Max(testSize * widest, SupervisedParameters(inputDim, numClasses, hidden)));
    }

    /// <summary>"1.5 GiB", "12 MiB", "3.2 TiB": a byte count for messages.</summary>
    public static string Format(double bytes)
    {
        string[] units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
        int u = 0;
        while (bytes >= 1024 && u < units.Length - 1)
        {
            bytes /= 1024;
            u++;
        }

        return u == 0 ? $"{bytes:F0} {units[u]}" : bytes >= 100 ? $"{bytes:F0} {units[u]}" : $"{bytes:0.#} {units[u]}";
    }

    private static double SupervisedParameters(double inputDim, double numClasses, IReadOnlyList<int> hidden)
    {
        double p = 0, fanIn = inputDim;
        foreach (int h in hidden)
        {
            p += (fanIn + 1) * h;
            fanIn = h;
        }

        return p + (fanIn + 1) * numClasses;
    }

    private static double Observation(NetworkSpec spec) => spec.ObservationShape.Aggregate(1.0, (a, d) => a * d);

    /// <summary>D: the rows of <c>torso/dense/kernel</c> (the observation size without a convolution).</summary>
    private static double TorsoWidth(NetworkSpec spec)
    {
        foreach (var e in spec.Layout.Entries)
        {
            if (e.Name == "torso/dense/kernel" && e.Shape.Length == 2) return e.Shape[0];
        }

        return Observation(spec);
    }

    private static double WidestRow(NetworkSpec spec) =>
        Math.Max(Math.Max(Observation(spec), TorsoWidth(spec)), Math.Max(spec.HiddenSize, spec.ActionCount));
}
