using System.Globalization;
using Optim4RL.Envs;
using Optim4RL.Experiments;
using Optim4RL.Tests.Io;
using Optim4RL.Tests.Ppo;

namespace Optim4RL.Tests.Experiments;

/// <summary>metrics.csv and the TensorBoard event file of A2C, PPO and meta-training runs.</summary>
public sealed class MetricsTests : IDisposable
{
    private readonly string _logs = Directory.CreateTempSubdirectory("o4rl-metrics-").FullName;

    public MetricsTests() => ContinuousEnvRegistry.Register(PointMass.TaskName, (n, rng) => new PointMass(n, rng));

    public void Dispose() => Directory.Delete(_logs, recursive: true);

    /// <summary>The columns that measure the machine, not the run.</summary>
    internal static readonly string[] TimingColumns = ["env_steps_per_s", "wall_time_s"];

    /// <summary>metrics.csv without its timing columns: what must be identical between runs of one seed.</summary>
    internal static string Deterministic(string csv)
    {
        var lines = csv.Split('\n');
        var header = lines[0].Split(',');
        var keep = Enumerable.Range(0, header.Length).Where(c => !TimingColumns.Contains(header[c])).ToArray();
        return string.Join("\n", lines.Select(l => l.Length == 0 ? l : string.Join(",", keep.Select(c => l.Split(',')[c]))));
    }

    private static (string[] Header, List<Dictionary<string, string>> Rows) ReadCsv(string path)
    {
        var lines = File.ReadAllLines(path);
        var header = lines[0].Split(',');
        var rows = lines.Skip(1).Select(l =>
        {
            var cells = l.Split(',');
            Assert.Equal(header.Length, cells.Length);
            return header.Zip(cells).ToDictionary(p => p.First, p => p.Second);
        }).ToList();
        return (header, rows);
    }

    private static double D(string cell) => cell.Length == 0 ? double.NaN : double.Parse(cell, CultureInfo.InvariantCulture);

    /// <summary>Every scalar event of the directory's event files equals its metrics.csv cell (as a float), at the row's step.</summary>
    private static void EventsMatchCsv(string dir, List<Dictionary<string, string>> rows, string stepColumn, Func<Dictionary<string, string>, string> prefix)
    {
        var files = Directory.GetFiles(dir, "events.out.tfevents.*");
        var events = files.SelectMany(f => TfEventReader.Read(f)).ToList();
        Assert.Equal(files.Length, events.Count(e => e.FileVersion == "brain.Event:2"));
        var scalarEvents = events.Where(e => e.FileVersion is null).ToList();
        Assert.Equal(rows.Count, scalarEvents.Count);
        foreach (var (row, e) in rows.Zip(scalarEvents))
        {
            Assert.Equal(long.Parse(row[stepColumn], CultureInfo.InvariantCulture), e.Step);
            string p = prefix(row) + "/";
            var expected = row.Where(kv => kv.Value.Length > 0 && kv.Key is not ("env" or "update" or "iteration" or "step" or "wall_time_s")).ToList();
            Assert.Equal(expected.Select(kv => p + kv.Key).Order(), e.Scalars.Select(s => s.Tag).Order());
            foreach (var (tag, value) in e.Scalars)
            {
                string column = tag[p.Length..];
                if (column == "env_steps_per_s") Assert.Equal(D(row[column]), value, 0.06 + 1e-6 * value); // the CSV rounds it to 0.1
                else Assert.Equal((float)D(row[column]), value);
            }
        }
    }

    [Fact]
    public void A2C_run_writes_one_metrics_row_and_one_event_per_update()
    {
        var sweep = SweepConfig.Parse(ExperimentRunnerTests.A2CJson, "tiny_a2c");
        var outcome = ExperimentRunner.Run(sweep, 2, new RunOptions(_logs));
        string path = Path.Combine(outcome.Directory, RunMetrics.FileName);
        var (header, rows) = ReadCsv(path);
        Assert.Equal(RunMetrics.A2CColumns, header);
        Assert.Equal(["env", "update", "step", "loss", "policy_loss", "value_loss", "entropy_loss", "entropy_nats", "mean_return",
            "grad_norm", "update_norm", "learning_rate", "env_steps_per_s", "wall_time_s"], header);
        Assert.Equal(8000 / (8 * 20), rows.Count); // one per update
        var results = ResultCsv.Read(Path.Combine(outcome.Directory, "result_catch.csv"));
        double lastWall = 0;
        for (int u = 0; u < rows.Count; u++)
        {
            var r = rows[u];
            Assert.Equal("catch", r["env"]);
            Assert.Equal((u + 1).ToString(CultureInfo.InvariantCulture), r["update"]);
            Assert.Equal((160L * (u + 1)).ToString(CultureInfo.InvariantCulture), r["step"]);
            Assert.Equal(D(r["loss"]), D(r["policy_loss"]) + D(r["value_loss"]) + D(r["entropy_loss"]), 1e-5);
            Assert.Equal(-0.01 * D(r["entropy_nats"]), D(r["entropy_loss"]), 1e-7);
            Assert.InRange(D(r["entropy_nats"]), 0, Math.Log(3) + 1e-6);
            Assert.True(D(r["grad_norm"]) > 0 && D(r["update_norm"]) > 0);
            Assert.Equal(1e-3, D(r["learning_rate"]));
            Assert.True(D(r["env_steps_per_s"]) > 0);
            Assert.True(D(r["wall_time_s"]) >= lastWall);
            lastWall = D(r["wall_time_s"]);
        }
        // mean_return is the result CSV's return, row for row.
        Assert.Equal(results.Select(x => (x.Step, x.Return)),
            rows.Where(r => r["mean_return"].Length > 0).Select(r => (long.Parse(r["step"], CultureInfo.InvariantCulture), D(r["mean_return"]))));
        EventsMatchCsv(outcome.Directory, rows, "step", r => r["env"]);

        // Adam's first step moves every coordinate by about lr: ‖Δθ‖ ≈ lr·√P.
        Assert.True(D(rows[0]["update_norm"]) < 1e-3 * Math.Sqrt(1e5));
    }

    [Fact]
    public void Metrics_of_a_rerun_are_identical_apart_from_timing()
    {
        var sweep = SweepConfig.Parse(ExperimentRunnerTests.A2CJson, "tiny_a2c");
        var first = ExperimentRunner.Run(sweep, 1, new RunOptions(_logs));
        string a = File.ReadAllText(Path.Combine(first.Directory, RunMetrics.FileName));
        ExperimentRunner.Run(sweep, 1, new RunOptions(_logs, Threads: 1, Overwrite: true));
        Assert.Equal(Deterministic(a), Deterministic(File.ReadAllText(Path.Combine(first.Directory, RunMetrics.FileName))));
        Assert.Single(Directory.GetFiles(first.Directory, "events.out.tfevents.*")); // --overwrite removed the old one
    }

    [Fact]
    public void Ppo_run_writes_one_metrics_row_and_one_event_per_training_step()
    {
        var outcome = ExperimentRunner.Run(SweepConfig.Parse(PpoRunnerTests.PpoJson, "ppo_point_mass"), 2, new RunOptions(_logs, Threads: 2));
        var (header, rows) = ReadCsv(Path.Combine(outcome.Directory, RunMetrics.FileName));
        Assert.Equal(RunMetrics.PpoColumns, header);
        Assert.Equal(["env", "update", "step", "loss", "policy_loss", "value_loss", "entropy_loss", "entropy_nats", "approx_kl_nats", "clip_fraction", "mean_return",
            "grad_norm", "update_norm", "learning_rate", "env_steps_per_s", "wall_time_s"], header);
        Assert.Equal(2400 / (8 * 2 * 5), rows.Count); // one per training step
        for (int u = 0; u < rows.Count; u++)
        {
            var r = rows[u];
            Assert.Equal((u + 1).ToString(CultureInfo.InvariantCulture), r["update"]);
            Assert.Equal((80L * (u + 1)).ToString(CultureInfo.InvariantCulture), r["step"]);
            Assert.Equal(D(r["loss"]), D(r["policy_loss"]) + D(r["value_loss"]) + D(r["entropy_loss"]), 1e-9);
            Assert.Equal(-1e-3 * D(r["entropy_nats"]), D(r["entropy_loss"]), 1e-12);
            Assert.InRange(D(r["approx_kl_nats"]), 0, 1);
            Assert.InRange(D(r["clip_fraction"]), 0, 1);
            Assert.True(D(r["grad_norm"]) > 0 && D(r["update_norm"]) > 0);
            Assert.Equal(1e-3, D(r["learning_rate"]));
        }
        // The first minibatch of every training step starts from the behaviour policy; later ones move away from it.
        Assert.Contains(rows, r => D(r["approx_kl_nats"]) > 0);
        EventsMatchCsv(outcome.Directory, rows, "step", r => r["env"]);
    }

    [Theory]
    [InlineData("MetaA2C")]
    [InlineData("MetaPPO")]
    public void Meta_run_writes_one_metrics_row_and_one_event_per_meta_iteration(string agent)
    {
        var sweep = agent == "MetaA2C"
            ? SweepConfig.Parse(ExperimentRunnerTests.MetaJson(), "tiny_meta")
            : SweepConfig.Parse(PpoRunnerTests.MetaJson("MetaPPO", 2), "tiny_meta_ppo");
        var outcome = ExperimentRunner.Run(sweep, 1, new RunOptions(_logs, Threads: 2, CheckpointEvery: 2));
        var (header, rows) = ReadCsv(Path.Combine(outcome.Directory, RunMetrics.FileName));
        Assert.Equal(RunMetrics.MetaColumns, header);
        Assert.Equal(["iteration", "step", "meta_loss", "meta_grad_norm", "phi_update_norm", "agents_mean_return",
            "agents_policy_loss", "agents_value_loss", "agents_entropy_loss", "agents_entropy_nats", "env_steps_per_s", "wall_time_s"], header);
        var metaTrain = File.ReadAllLines(Path.Combine(outcome.Directory, "meta_train.csv")).Skip(1).Select(l => l.Split(',')).ToList();
        Assert.Equal(agent == "MetaA2C" ? 10 : 3, rows.Count);
        Assert.Equal(metaTrain.Count, rows.Count);
        foreach (var (r, m) in rows.Zip(metaTrain))
        {
            Assert.Equal(m[0], r["iteration"]);
            Assert.Equal(m[1], r["step"]);
            Assert.Equal(m[2], r["meta_loss"]);
            Assert.Equal(m[3], r["meta_grad_norm"]);
            Assert.Equal(m[4], r["agents_mean_return"]);
            Assert.Equal(D(r["meta_loss"]), D(r["agents_policy_loss"]) + D(r["agents_value_loss"]) + D(r["agents_entropy_loss"]), 1e-5);
            Assert.True(D(r["phi_update_norm"]) > 0);
            Assert.True(D(r["env_steps_per_s"]) > 0);
        }
        EventsMatchCsv(outcome.Directory, rows, "iteration", _ => "meta");
    }
}
