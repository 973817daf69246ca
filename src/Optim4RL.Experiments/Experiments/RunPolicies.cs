using System.Text.Json.Nodes;

namespace Optim4RL.Experiments;

/// <summary>One task's evaluation of a run's saved policy, with the return the run itself logged at the end.</summary>
/// <param name="Evaluation">The episodes' returns.</param>
/// <param name="Policy">The policy evaluated.</param>
/// <param name="LoggedFinal">The run's final return under the evaluation protocol (A2C: mean of its last logged returns; PPO: of its last deterministic evaluations); NaN when the run logged none.</param>
/// <param name="LoggedRule">How <paramref name="LoggedFinal"/> was computed, in words.</param>
public sealed record PolicyReport(PolicyEvaluation Evaluation, SavedPolicy Policy, double LoggedFinal, string LoggedRule);

/// <summary>
/// The saved policies of a run directory (<c>policy_&lt;task&gt;.bin</c>, written at the end of every
/// A2C and PPO task) and their evaluation (<c>optim4rl evaluate</c>; docs/run-directories.md).
/// </summary>
public static class RunPolicies
{
    /// <summary>Header entries the runner adds to a policy file: where it comes from (experiment, index, seed) and the build's provenance.</summary>
    internal static JsonObject Header(RunConfig run, RunOptions options) => new()
    {
        ["experiment"] = run.Experiment,
        ["config_idx"] = run.ConfigIdx,
        ["seed"] = run.RunSeed,
        ["provenance"] = Provenance.Describe(options.Threads),
    };

    /// <summary>The policy files of a run directory, in name order.</summary>
    public static IReadOnlyList<string> Files(string runDirectory) =>
        Directory.Exists(runDirectory) ? Directory.GetFiles(runDirectory, "policy_*.bin").Where(f => !f.EndsWith(".prev.bin", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList() : [];

    /// <summary>
    /// Loads and evaluates every saved policy of <paramref name="runDirectory"/> (or only the one of
    /// <paramref name="task"/>) over <paramref name="episodes"/> episodes (null: each policy's
    /// <see cref="SavedPolicy.DefaultEpisodes"/>).
    /// </summary>
    /// <exception cref="RunDirectoryException">The path is not a run directory, holds no policy (a meta-training run: the message says how to evaluate φ instead), or no policy of that task.</exception>
    /// <exception cref="InvalidDataException">A policy file is damaged or of another format (the message names it).</exception>
    /// <exception cref="IOException">A file cannot be read.</exception>
    /// <exception cref="ArgumentException">The task is not known to this process.</exception>
    public static IReadOnlyList<PolicyReport> Evaluate(string runDirectory, int? episodes, bool deterministic, ulong seed, string? task = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(runDirectory);
        if (File.Exists(runDirectory))
            throw new RunDirectoryException($"'{runDirectory}' is a file; give the run directory that holds it, such as logs/a2c_catch/1.");
        if (!Directory.Exists(runDirectory))
            throw new RunDirectoryException($"'{runDirectory}' does not exist; give a run directory such as logs/a2c_catch/1.");
        var files = Files(runDirectory);
        if (files.Count == 0) throw new RunDirectoryException(NoPolicy(runDirectory));
        if (task is not null)
        {
            files = files.Where(f => string.Equals(Path.GetFileName(f), PolicyFile.FileName(task), StringComparison.OrdinalIgnoreCase)).ToList();
            if (files.Count == 0)
                throw new RunDirectoryException($"{runDirectory} holds no policy for task '{task}'; it has {string.Join(", ", Files(runDirectory).Select(Path.GetFileName))}.");
        }

        var reports = new List<PolicyReport>();
        foreach (string file in files)
        {
            var policy = PolicyFile.Load(file);
            var evaluation = policy.Evaluate(episodes ?? policy.DefaultEpisodes, deterministic, seed);
            var (final, rule) = LoggedFinal(runDirectory, policy);
            reports.Add(new PolicyReport(evaluation, policy, final, rule));
        }

        return reports;
    }

    /// <summary>One line for a report: "catch: return 0.962 ± 0.006 (mean ± standard error over 1,000 episodes; …); the run logged 0.957 (…)".</summary>
    public static string Describe(PolicyReport report, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(report);
        var e = report.Evaluation;
        var c = CultureInfo.InvariantCulture;
        // As many decimals as a return of this size needs: 0.962, 31.33, 942.1.
        double size = Math.Max(Math.Abs(e.Mean), Math.Abs(report.LoggedFinal) is var l && double.IsFinite(l) ? l : 0);
        string f = size >= 100 ? "F1" : size >= 10 ? "F2" : "F3";
        string unfinished = e.Finished < e.Returns.Count ? $", {e.Returns.Count - e.Finished} unfinished (partial returns)" : "";
        string logged = double.IsFinite(report.LoggedFinal) ? $"; the run logged {report.LoggedFinal.ToString(f, c)} ({report.LoggedRule})" : "";
        string agent = report.Policy.Kind == PolicyKind.A2C ? "A2C" : "PPO";
        return string.Create(c, $"{e.Task}: return {e.Mean.ToString(f, c)} ± {e.StdErr.ToString(f, c)} (mean ± standard error over {e.Returns.Count:N0} episodes{unfinished}; " +
            $"{(e.Deterministic ? "deterministic" : "stochastic")} policy, seed {seed}; {agent} after {report.Policy.TrainedSteps:N0} environment steps){logged}");
    }

    private static (double Final, string Rule) LoggedFinal(string runDirectory, SavedPolicy policy)
    {
        try
        {
            if (policy.Kind == PolicyKind.A2C)
            {
                string csv = Path.Combine(runDirectory, ResultCsv.FileName(policy.Task));
                return File.Exists(csv) ? (EvaluationProtocol.A2CRule.Of(ResultCsv.Read(csv)), EvaluationProtocol.A2CRule.Describe(policy.Task)) : (double.NaN, "");
            }

            string eval = Path.Combine(runDirectory, $"eval_deterministic_{policy.Task}.csv");
            return File.Exists(eval) ? (EvaluationProtocol.PpoRule.Of(ResultCsv.Read(eval)), EvaluationProtocol.PpoRule.Describe(policy.Task)) : (double.NaN, "");
        }
        catch (InvalidDataException)
        {
            return (double.NaN, ""); // a damaged CSV only loses the comparison
        }
    }

    /// <summary>Why a directory holds no policy, and what to do: meta-training runs save φ, older runs saved nothing.</summary>
    private static string NoPolicy(string dir)
    {
        string agent = "";
        string config = Path.Combine(dir, RunDirectory.ConfigFileName);
        try
        {
            if (File.Exists(config) && JsonNode.Parse(File.ReadAllText(config)) is JsonObject o && o["agent"] is JsonObject a && a["name"] is JsonValue v)
                agent = v.ToString();
        }
        catch (System.Text.Json.JsonException)
        {
        }

        string param = Path.Combine(dir, RunDirectory.ParamFileName);
        if (agent.StartsWith("Meta", StringComparison.Ordinal) || File.Exists(param))
            return $"{dir} is a meta-training run: it learned φ ({param}), not a policy. To evaluate φ, train an A2C or PPO agent with it " +
                   $"(set agent_optim.kwargs.param_load_path to {param} in a config such as configs/lopt_rl_catch.json, then optim4rl run) and evaluate that run.";
        if (!File.Exists(config))
            return $"{dir} is not a run directory (no {RunDirectory.ConfigFileName}); give one such as logs/a2c_catch/1.";
        return $"{dir} holds no saved policy (policy_<task>.bin): only A2C and PPO runs save one{(agent.Length > 0 ? $" (this run is {agent})" : "")}, and runs made before policies were saved have none; rerun it with --overwrite.";
    }
}
