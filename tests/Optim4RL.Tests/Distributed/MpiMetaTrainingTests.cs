using System.Text.Json.Nodes;
using Optim4RL.Tests.Cli;
using Optim4RL.Tests.Experiments;

namespace Optim4RL.Tests.Distributed;

/// <summary>
/// MetaA2C meta-training over real MPI ranks on localhost: the agents are split over the ranks and the
/// meta-gradient is summed in global chunk order, so param.json and meta_train.csv come out byte for byte
/// those of one plain process, for any rank count (more ranks than this machine's cores included).
/// </summary>
public class MpiMetaTrainingTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(240);

    // A shipped quick config, shrunk as MetaTrainerGoldenTests shrinks it: a few meta-iterations.
    private static string WriteConfig(string dir, string config, string settings)
    {
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(ShippedConfigTests.ConfigsDir(), config + ".json")))!.AsObject();
        foreach (string setting in settings.Split(';'))
        {
            var (key, value) = (setting[..setting.IndexOf('=')], long.Parse(setting[(setting.IndexOf('=') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
            var section = json[key[..key.IndexOf('.')]]![0]!.AsObject();
            section[key[(key.IndexOf('.') + 1)..]] = new JsonArray(value);
        }
        string path = Path.Combine(dir, config + ".json");
        File.WriteAllText(path, json.ToJsonString());
        return path;
    }

    private static void InTempDir(Action<string> test)
    {
        string dir = Path.Combine(Path.GetTempPath(), "o4r-mpimeta-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        try
        {
            test(dir);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [SkippableTheory]
    [InlineData("quick_meta_rl_catch", "env.train_steps=2400;env.num_envs=8;agent.reset_interval=2", new[] { 1, 2, 3, 4 })]
    [InlineData("quick_meta_rl_grid", "env.train_steps=1200;env.num_envs=4", new[] { 2, 3 })]
    public void Phi_and_the_csv_over_any_rank_count_are_those_of_one_process(string config, string settings, int[] rankCounts)
    {
        Skip.If(MpiJob.SkipReason() is not null, MpiJob.SkipReason());
        InTempDir(dir =>
        {
            string path = WriteConfig(dir, config, settings);
            string one = Path.Combine(dir, "one");
            var single = CliHarness.Run("run", "--config", path, "--threads", "1", "--logs", one);
            Assert.True(single.Code == 0, single.Out + single.Err);
            string expected = Path.Combine(one, config, "1");
            byte[] phi = File.ReadAllBytes(Path.Combine(expected, "param.json"));
            byte[] csv = File.ReadAllBytes(Path.Combine(expected, "meta_train.csv"));
            Assert.True(File.ReadAllLines(Path.Combine(expected, "meta_train.csv")).Length >= 3, "the run must have a few meta-iterations");

            foreach (int ranks in rankCounts)
            {
                string logs = Path.Combine(dir, $"ranks{ranks}");
                var (code, output) = MpiJob.Run(ranks, ["run", "--config", path, "--threads", "1", "--logs", logs], dir, Limit);
                Assert.True(code == 0, $"{ranks} ranks: {output}");
                string got = Path.Combine(logs, config, "1");
                Assert.True(phi.SequenceEqual(File.ReadAllBytes(Path.Combine(got, "param.json"))), $"{ranks} ranks: param.json differs from one process's");
                Assert.True(csv.SequenceEqual(File.ReadAllBytes(Path.Combine(got, "meta_train.csv"))), $"{ranks} ranks: meta_train.csv differs from one process's");
                // The ranks were used, and only rank 0 printed.
                if (ranks > 1) Assert.Contains($"agents spread over {ranks} MPI ranks", File.ReadAllText(Path.Combine(got, "log.txt")), StringComparison.Ordinal);
                Assert.Single(System.Text.RegularExpressions.Regex.Matches(output, "Results in "));
            }
            Assert.DoesNotContain("rank", File.ReadAllText(Path.Combine(expected, "param.json")), StringComparison.OrdinalIgnoreCase);
        });
    }

    [SkippableFact]
    public void A_run_checkpointed_on_2_ranks_continues_on_3_ranks_or_one_process_to_the_uninterrupted_result()
    {
        Skip.If(MpiJob.SkipReason() is not null, MpiJob.SkipReason());
        InTempDir(dir =>
        {
            const string config = "quick_meta_rl_catch", shrink = "env.num_envs=8;agent.reset_interval=2";
            string longer = WriteConfig(dir, config, "env.train_steps=4800;" + shrink);
            string one = Path.Combine(dir, "one");
            var single = CliHarness.Run("run", "--config", longer, "--threads", "1", "--logs", one);
            Assert.True(single.Code == 0, single.Out + single.Err);
            byte[] phi = File.ReadAllBytes(Path.Combine(one, config, "1", "param.json"));
            byte[] csv = File.ReadAllBytes(Path.Combine(one, config, "1", "meta_train.csv"));

            // The first half on 2 ranks (env.train_steps may change on --resume), a checkpoint every meta-iteration.
            string shorter = WriteConfig(dir, config, "env.train_steps=2400;" + shrink);
            string[] logs = [Path.Combine(dir, "to3"), Path.Combine(dir, "to1")];
            foreach (string l in logs)
            {
                var (code, output) = MpiJob.Run(2, ["run", "--config", shorter, "--threads", "1", "--checkpoint-every", "1", "--logs", l], dir, Limit);
                Assert.True(code == 0, output);
                string slices = Path.Combine(l, config, "1", "checkpoint.rank-slices");
                Assert.InRange(Directory.GetDirectories(slices).Length, 1, 2); // older checkpoints' agents are pruned
            }

            WriteConfig(dir, config, "env.train_steps=4800;" + shrink);
            var (code3, output3) = MpiJob.Run(3, ["run", "--config", longer, "--threads", "1", "--resume", "--logs", logs[0]], dir, Limit);
            Assert.True(code3 == 0, output3);
            var resumed1 = CliHarness.Run("run", "--config", longer, "--threads", "1", "--resume", "--logs", logs[1]);
            Assert.True(resumed1.Code == 0, resumed1.Out + resumed1.Err);
            foreach (string l in logs)
            {
                string got = Path.Combine(l, config, "1");
                Assert.Contains("resumed from", File.ReadAllText(Path.Combine(got, "log.txt")), StringComparison.Ordinal);
                Assert.True(phi.SequenceEqual(File.ReadAllBytes(Path.Combine(got, "param.json"))), $"{l}: param.json differs from the uninterrupted run's");
                Assert.True(csv.SequenceEqual(File.ReadAllBytes(Path.Combine(got, "meta_train.csv"))), $"{l}: meta_train.csv differs from the uninterrupted run's");
            }
        });
    }

    [SkippableFact]
    public void A_kind_that_does_not_use_ranks_yet_is_refused_in_one_line()
    {
        Skip.If(MpiJob.SkipReason() is not null, MpiJob.SkipReason());
        InTempDir(dir =>
        {
            string path = WriteConfig(dir, "quick_meta_es_catch", "env.num_envs=4");
            var (code, output) = MpiJob.Run(2, ["run", "--config", path, "--threads", "1", "--logs", Path.Combine(dir, "logs")], dir, Limit);
            Assert.NotEqual(0, code);
            Assert.Contains("does not run over MPI ranks yet", output, StringComparison.Ordinal);
        });
    }
}
