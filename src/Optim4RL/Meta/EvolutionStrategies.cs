using Optim4RL.Agents;
using Optim4RL.Distributed;
using Optim4RL.Tensors;

namespace Optim4RL.Meta;

/// <summary>How ES turns the members' fitnesses into the weights of their perturbations.</summary>
public enum FitnessShaping
{
    /// <summary>The raw fitness (the plain Gaussian-smoothing gradient estimate).</summary>
    None,

    /// <summary>Centred ranks: rank/(N − 1) − ½ in [−½, ½], ties sharing their average rank (robust to the fitness's scale and outliers).</summary>
    CenteredRanks,
}

/// <summary>Settings of <see cref="EvolutionStrategies"/> (the <c>meta_estimator</c> keys).</summary>
/// <param name="Population">N, perturbed φ evaluated per meta-iteration and task: N/2 antithetic pairs, so even and ≥ 2.</param>
/// <param name="Sigma">σ, the perturbations' standard deviation.</param>
/// <param name="Shaping">How fitnesses weight the perturbations.</param>
/// <param name="InnerSteps">0: truncated runs, each member does the task's K inner updates from the population's current state
/// and the population then goes on with φ on the pipeline schedule; L &gt; 0: full runs, every member trains the freshly
/// reset population for L inner updates.</param>
public sealed record EsSettings(int Population = 32, double Sigma = 0.01, FitnessShaping Shaping = FitnessShaping.CenteredRanks, int InnerSteps = 0)
{
    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid value.</summary>
    public void Validate()
    {
        if (Population < 2 || Population % 2 != 0) throw new ArgumentException($"meta_estimator.population must be even and ≥ 2 (antithetic pairs), got {Population}.");
        if (!(Sigma > 0 && double.IsFinite(Sigma))) throw new ArgumentException($"meta_estimator.sigma must be finite and > 0, got {Sigma}.");
        if (InnerSteps < 0) throw new ArgumentException($"meta_estimator.inner_steps must be ≥ 0, got {InnerSteps}.");
    }
}

/// <summary>
/// Evolution strategies over the inner runs (docs/estimators.md; OpenAI-ES with antithetic sampling, as OPEN
/// meta-trains its optimizer): per task and meta-iteration, N/2 Gaussian directions ε_i ~ N(0, I) of φ's
/// dimension; member 2i runs the population with φ + σε_i and member 2i + 1 with φ − σε_i, each from the same
/// snapshot of the population (same agents, environments and random streams); its fitness F is the reward
/// the agents collect over the run, a mean over agents. The estimate of the fitness's gradient is
/// (1/(Nσ)) Σ_i (F̃_2i − F̃_2i+1) ε_i with F̃ the shaped fitnesses; ES maximises return, so the meta-gradient
/// handed to the meta-optimizer (which descends) is its negative. Finally the population runs once more
/// with φ itself, which is what it keeps (truncated mode) and what the log's returns describe.
/// </summary>
/// <remarks>
/// The members run one after another, each with the population's agents in parallel, so one population's
/// memory serves them all; the directions come from the seed, the meta-iteration, the task and the pair,
/// and fitnesses are reduced in member order, so the estimate does not depend on the thread count and
/// needs no state in checkpoints. A meta-iteration costs (N + 1) × updates × the problem's steps per update.
/// Under MPI ranks every rank holds the whole population and evaluates the pairs i with i mod ranks = its rank
/// (a static rule), each member from the same snapshot as in one process; the fitnesses are gathered to every
/// rank and every rank computes the same update and runs the population on with φ, so φ is the one-process φ
/// for any rank count.
/// </remarks>
public sealed class EvolutionStrategies : IMetaGradientEstimator
{
    /// <summary>The config name.</summary>
    public const string EstimatorName = "ES";

    private readonly Rng _root;
    private readonly Communicator _ranks;
    private float[] _eps = [], _perturbed = [];
    private readonly double[] _fitness;

    /// <summary>Creates the estimator.</summary>
    /// <param name="settings">Population, σ, shaping and inner-run length.</param>
    /// <param name="seed">The run's seed; the perturbations come from its child stream 2000.</param>
    /// <param name="ranks">The MPI job whose ranks share the perturbation pairs, every rank holding the whole population (null: one process).</param>
    /// <exception cref="ArgumentException">An invalid setting.</exception>
    public EvolutionStrategies(EsSettings settings, ulong seed, Communicator? ranks = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        Settings = settings;
        _root = new Rng(seed).Split(2000);
        _fitness = new double[settings.Population];
        _ranks = ranks ?? SingleProcessCommunicator.Instance;
    }

    /// <summary>The pairs rank <paramref name="rank"/> of <paramref name="ranks"/> evaluates: i = rank, rank + ranks, … below <paramref name="pairs"/>.</summary>
    public static IEnumerable<int> PairsOf(int rank, int ranks, int pairs)
    {
        for (int i = rank; i < pairs; i += ranks) yield return i;
    }

    /// <summary>The settings.</summary>
    public EsSettings Settings { get; }

    /// <inheritdoc/>
    public string Name => EstimatorName;

    /// <inheritdoc/>
    public bool SplitsAgentsOverRanks => false;

    /// <summary>The fitness of every member in the last <see cref="Estimate"/> (for tests and logs).</summary>
    public IReadOnlyList<double> LastFitness => _fitness;

    /// <inheritdoc/>
    public long StepsPerIteration(IInnerProblem problem) => (Settings.Population + 1L) * Updates(problem) * problem.StepsPerInnerUpdate;

    /// <inheritdoc/>
    public MetaEstimate Estimate(IInnerProblem problem, ReadOnlySpan<float> phi, long iteration, int task, Span<float> metaGradient,
        ref A2CLossTerms terms, double termsWeight)
    {
        int n = Settings.Population, updates = Updates(problem);
        if (Settings.InnerSteps > 0)
            for (int j = problem.FirstAgent; j < problem.FirstAgent + problem.OwnedAgents; j++) problem.ResetAgent(j); // full runs start from fresh agents
        byte[] snapshot = Snapshot(problem);
        DrawDirections(iteration, task, phi.Length);
        if (_ranks.Size == 1)
        {
            for (int m = 0; m < n; m++)
            {
                if (m > 0) Restore(problem, snapshot);
                Perturb(phi, m, _perturbed);
                _fitness[m] = problem.Unroll(_perturbed, updates, record: false, iteration) / problem.Agents;
                if (!double.IsFinite(_fitness[m])) throw new TrainingDivergedException(NonFinite(problem, m, iteration));
                problem.DrainReturns(); // the members' episodes are not the population's
            }
        }
        else
        {
            EvaluateStriped(problem, phi, snapshot, updates, iteration);
        }
        Restore(problem, snapshot);
        problem.Unroll(phi, updates, record: false, iteration);
        Gradient(_fitness, metaGradient);
        double mean = 0;
        foreach (double f in _fitness) mean += f;
        return new MetaEstimate(-mean / n, StepsPerIteration(problem));
    }

    /// <summary>
    /// Under ranks: this rank's pairs (<see cref="PairsOf"/>), each member from the snapshot, then every rank's fitnesses
    /// into <see cref="_fitness"/> on every rank. A member that diverges on one rank is kept until all fitnesses are
    /// gathered; then every rank throws the message of the first such member, as one process would.
    /// </summary>
    private void EvaluateStriped(IInnerProblem problem, ReadOnlySpan<float> phi, byte[] snapshot, int updates, long iteration)
    {
        int pairs = Settings.Population / 2, ranks = _ranks.Size;
        var mine = new List<double>();
        string? failure = null;
        foreach (int pair in PairsOf(_ranks.Rank, ranks, pairs))
        {
            for (int m = 2 * pair; m <= 2 * pair + 1; m++)
            {
                if (mine.Count > 0) Restore(problem, snapshot); // the first member starts from the population as it is: the snapshot
                Perturb(phi, m, _perturbed);
                double fitness;
                try
                {
                    fitness = problem.Unroll(_perturbed, updates, record: false, iteration) / problem.Agents;
                }
                catch (TrainingDivergedException e)
                {
                    fitness = double.NaN;
                    failure ??= e.Message;
                }
                if (!double.IsFinite(fitness)) failure ??= NonFinite(problem, m, iteration);
                mine.Add(fitness);
                problem.DrainReturns(); // the members' episodes are not the population's
            }
        }
        var all = _ranks.AllGather(mine.ToArray());
        for (int r = 0; r < ranks; r++)
        {
            int k = 0;
            foreach (int pair in PairsOf(r, ranks, pairs))
            {
                _fitness[2 * pair] = all[r][k++];
                _fitness[2 * pair + 1] = all[r][k++];
            }
        }
        int bad = Array.FindIndex(_fitness, f => !double.IsFinite(f));
        if (bad < 0) return;
        // Every rank knows a member failed; the rank that ran the first one tells the others why (its first failure is that member's).
        var messages = _ranks.AllGather(System.Text.Encoding.UTF8.GetBytes(failure ?? ""));
        throw new TrainingDivergedException(System.Text.Encoding.UTF8.GetString(messages[bad / 2 % ranks]));
    }

    private static string NonFinite(IInnerProblem problem, int member, long iteration) =>
        $"ES member {member} of task {problem.TaskName} has a non-finite fitness at meta-iteration {iteration}; φ is kept at its value after iteration {iteration - 1}.";

    /// <summary>
    /// The perturbation δ = ±σε_i of member <paramref name="member"/> (+ for even, − for odd members of pair
    /// i = member/2) at meta-iteration <paramref name="iteration"/> of task <paramref name="task"/>, written to
    /// <paramref name="delta"/> [|φ|]; a pair's two perturbations are exact negatives.
    /// </summary>
    public void Perturbation(long iteration, int task, int member, Span<float> delta)
    {
        DrawDirections(iteration, task, delta.Length);
        Perturb(new float[delta.Length], member, delta);
    }

    /// <summary>
    /// Writes −(1/(Nσ)) Σ_i (F̃_2i − F̃_2i+1) ε_i [|φ|] for the fitnesses <paramref name="fitness"/> of the
    /// directions last drawn: the meta-gradient to descend. Equal fitnesses in a pair contribute exactly zero.
    /// </summary>
    internal void Gradient(ReadOnlySpan<double> fitness, Span<float> metaGradient)
    {
        int n = Settings.Population, d = metaGradient.Length;
        var shaped = Shape(fitness, Settings.Shaping);
        double scale = -1.0 / (n * Settings.Sigma);
        metaGradient.Clear();
        for (int k = 0; k < d; k++)
        {
            double acc = 0;
            for (int i = 0; i < n / 2; i++) acc += (shaped[2 * i] - shaped[2 * i + 1]) * _eps[i * d + k];
            metaGradient[k] = (float)(acc * scale) + 0f; // + 0 turns −0 into 0
        }
    }

    /// <summary>The shaped fitnesses: unchanged, or centred ranks with ties sharing their average rank.</summary>
    public static double[] Shape(ReadOnlySpan<double> fitness, FitnessShaping shaping)
    {
        var values = fitness.ToArray();
        if (shaping == FitnessShaping.None) return values;
        int n = values.Length;
        var shaped = new double[n];
        var order = Enumerable.Range(0, n).OrderBy(i => values[i]).ToArray();
        for (int start = 0; start < n;)
        {
            int end = start;
            while (end + 1 < n && values[order[end + 1]] == values[order[start]]) end++;
            double rank = (start + end) / 2.0; // ties share their average rank
            for (int r = start; r <= end; r++) shaped[order[r]] = n > 1 ? rank / (n - 1) - 0.5 : 0;
            start = end + 1;
        }
        return shaped;
    }

    private int Updates(IInnerProblem problem) => Settings.InnerSteps > 0 ? Settings.InnerSteps : problem.InnerUpdates;

    /// <summary>ε_i for every pair of this iteration and task, [N/2, |φ|], from their own stream.</summary>
    private void DrawDirections(long iteration, int task, int d)
    {
        int pairs = Settings.Population / 2;
        if (_eps.Length != pairs * d)
        {
            _eps = new float[pairs * d];
            _perturbed = new float[d];
        }
        var stream = _root.Split((ulong)iteration).Split((ulong)task);
        for (int i = 0; i < pairs; i++)
        {
            var r = stream.Split((ulong)i);
            for (int k = 0; k < d; k++) _eps[i * d + k] = (float)r.NextNormal();
        }
    }

    /// <summary>φ ± σε_i for member <paramref name="member"/>, into <paramref name="into"/>.</summary>
    private void Perturb(ReadOnlySpan<float> phi, int member, Span<float> into)
    {
        int d = phi.Length;
        var eps = _eps.AsSpan(member / 2 * d, d);
        float sigma = (float)Settings.Sigma;
        for (int k = 0; k < d; k++)
        {
            float delta = sigma * eps[k];
            into[k] = phi[k] + (member % 2 == 0 ? delta : -delta);
        }
    }

    private static byte[] Snapshot(IInnerProblem problem)
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, System.Text.Encoding.UTF8, leaveOpen: true)) problem.Save(w);
        return ms.ToArray();
    }

    private static void Restore(IInnerProblem problem, byte[] snapshot)
    {
        using var r = new BinaryReader(new MemoryStream(snapshot, writable: false));
        problem.Load(r, convertState: false);
    }
}
