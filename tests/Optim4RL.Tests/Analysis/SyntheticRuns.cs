using Optim4RL.Io;
using System.Globalization;
using System.Text.Json.Nodes;
using Optim4RL.Experiments;

namespace Optim4RL.Tests.Analysis;

/// <summary>Writes run directories as the runner does (config.json + result_&lt;env&gt;.csv) with chosen curves.</summary>
internal static class SyntheticRuns
{
    /// <summary>logs/&lt;exp&gt;/&lt;k&gt;/ with a config of the given optimizer, lr and seed (and φ file), and curves per env.</summary>
    public static string Write(string logs, string exp, int k, string optimizer, double lr, ulong seed, IReadOnlyDictionary<string, IReadOnlyList<ResultRow>> curves, string agent = "A2C",
        string? phi = null)
    {
        var dir = RunDirectory.Create(exp, k, logs);
        var config = new JsonObject
        {
            ["env"] = new JsonObject { ["name"] = new JsonArray(curves.Keys.Select(e => (JsonNode)JsonValue.Create(e)!).ToArray()), ["num_envs"] = 4, ["train_steps"] = 1000 },
            ["agent"] = new JsonObject { ["name"] = agent, ["rollout_steps"] = 20 },
            ["agent_optim"] = new JsonObject { ["name"] = optimizer, ["kwargs"] = new JsonObject { ["learning_rate"] = JsonNode.Parse(lr.ToString("R", CultureInfo.InvariantCulture)), ["grad_clip"] = -1 } },
            ["discount"] = 0.995,
            ["seed"] = seed,
            ["generate_random_seed"] = true,
            ["base_seed"] = 42,
            ["config_idx"] = k,
            ["num_combinations"] = 4,
            ["exp"] = exp,
        };
        if (phi is not null) config["agent_optim"]!["kwargs"]!["param_load_path"] = phi;
        AtomicFile.WriteAllText(dir.ConfigPath, config.ToJsonString());
        foreach (var (env, rows) in curves) AtomicFile.WriteAllText(dir.ResultPath(env), ResultCsv.Format(rows));
        return dir.Path;
    }

    /// <summary>A curve with rows at steps step0, 2·step0, …, n·step0 and returns f(step).</summary>
    public static IReadOnlyList<ResultRow> Curve(int n, long step0, Func<long, double> f) =>
        Enumerable.Range(1, n).Select(i => new ResultRow(i * step0, f(i * step0))).ToList();

    public static Dictionary<string, IReadOnlyList<ResultRow>> One(string env, IReadOnlyList<ResultRow> rows) => new() { [env] = rows };
}
