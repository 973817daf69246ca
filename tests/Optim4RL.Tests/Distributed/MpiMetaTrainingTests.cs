using System.Text.Json.Nodes;
using Optim4RL.Tests.Cli;
using Optim4RL.Tests.Experiments;

namespace Optim4RL.Tests.Distributed;

/// <summary>
/// Meta-training over real MPI ranks on localhost: MetaA2C and MetaPPO split the agents over the ranks and sum
/// the meta-gradient in global chunk or agent order, ES stripes its perturbation pairs over ranks that each hold
/// the whole population, so param.json and meta_train.csv come out byte for byte those of one plain process, for
/// any rank count (more ranks than this machine's cores included), through checkpoints, resumes and
/// --restart-population.
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
            var section = key.Contains('.') ? json[key[..key.IndexOf('.')]]![0]!.AsObject() : json;
            section[key[(key.IndexOf('.') + 1)..]] = new JsonArray(value);
        }
        string path = Path.Combine(dir, config + ".json");
        File.WriteAllText(path, json.ToJsonString());
        return path;
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        foreach (string sub in Directory.GetDirectories(from)) CopyDirectory(sub, Path.Combine(to, Path.GetFileName(sub)));
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
                if (ranks > 1) Assert.Contains($" spread over {ranks} MPI ranks", File.ReadAllText(Path.Combine(got, "log.txt")), StringComparison.Ordinal);
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

    /// <summary>
    /// MetaPPO (agents split over the ranks, meta-gradients added in global agent order) and ES (every rank runs all
    /// agents, the perturbation pairs striped over the ranks): param.json and meta_train.csv byte for byte those of one
    /// process. MetaPPO's 2 agents on 3 ranks leave a rank without agents; ES on 2 ranks gives rank 0 two pairs of 3.
    /// </summary>
    [SkippableTheory]
    // MetaPPO on Ant, 2 agents of 4 environments, 2 iterations of 8 × 5 × 2 × 4 steps (MetaTrainerGoldenTests' case).
    [InlineData("quick_meta_rl_ant", "env.train_steps=640;env.num_envs=8;batch_size=8;agent.num_minibatches=2;agent.update_epochs=2", new[] { 2, 3 })]
    // ES on Catch, 4 agents, 3 antithetic pairs, 3 iterations of 7 × 4 × 4 × 20 steps.
    [InlineData("quick_meta_es_catch", "env.train_steps=6720;env.num_envs=4;meta_estimator.population=6", new[] { 2, 3 })]
    public void MetaPPO_and_ES_over_any_rank_count_give_the_phi_of_one_process(string config, string settings, int[] rankCounts) =>
        Phi_and_the_csv_over_any_rank_count_are_those_of_one_process(config, settings, rankCounts);

    [SkippableFact]
    public void A_MetaPPO_run_checkpointed_on_2_ranks_continues_in_one_process_to_the_uninterrupted_result()
    {
        Skip.If(MpiJob.SkipReason() is not null, MpiJob.SkipReason());
        InTempDir(dir =>
        {
            const string config = "quick_meta_rl_ant", shrink = "env.num_envs=8;batch_size=8;agent.num_minibatches=2;agent.update_epochs=2";
            string path = WriteConfig(dir, config, "env.train_steps=640;" + shrink); // 2 iterations
            string one = Path.Combine(dir, "one");
            var single = CliHarness.Run("run", "--config", path, "--threads", "1", "--logs", one);
            Assert.True(single.Code == 0, single.Out + single.Err);
            byte[] phi = File.ReadAllBytes(Path.Combine(one, config, "1", "param.json"));
            byte[] csv = File.ReadAllBytes(Path.Combine(one, config, "1", "meta_train.csv"));

            // One iteration on 2 ranks (each writes its agent's slice), then the rest in one process, which reads both slices.
            string logs = Path.Combine(dir, "ranks");
            WriteConfig(dir, config, "env.train_steps=320;" + shrink);
            var (code, output) = MpiJob.Run(2, ["run", "--config", path, "--threads", "1", "--logs", logs], dir, Limit);
            Assert.True(code == 0, output);
            Assert.Equal(2, Directory.GetFiles(Path.Combine(logs, config, "1", "checkpoint.rank-slices", "it1")).Length);
            WriteConfig(dir, config, "env.train_steps=640;" + shrink);
            var resumed = CliHarness.Run("run", "--config", path, "--threads", "1", "--resume", "--logs", logs);
            Assert.True(resumed.Code == 0, resumed.Out + resumed.Err);
            string got = Path.Combine(logs, config, "1");
            Assert.True(phi.SequenceEqual(File.ReadAllBytes(Path.Combine(got, "param.json"))), "param.json differs from the uninterrupted run's");
            Assert.True(csv.SequenceEqual(File.ReadAllBytes(Path.Combine(got, "meta_train.csv"))), "meta_train.csv differs from the uninterrupted run's");
        });
    }

    /// <summary>
    /// --restart-population under ranks: rank 0's meta state goes to every rank, the fresh agents (seeded by their global
    /// index) are re-staggered by the same warm-up, so the continued run is byte for byte the one-process continuation.
    /// </summary>
    [SkippableFact]
    public void Restart_population_over_ranks_continues_as_one_process_does()
    {
        Skip.If(MpiJob.SkipReason() is not null, MpiJob.SkipReason());
        InTempDir(dir =>
        {
            const string config = "quick_meta_rl_catch", shrink = "env.num_envs=8;agent.reset_interval=2";
            string path = WriteConfig(dir, config, "env.train_steps=1600;" + shrink);
            string[] logs = [Path.Combine(dir, "one"), Path.Combine(dir, "ranks2"), Path.Combine(dir, "ranks3")];
            var first = CliHarness.Run("run", "--config", path, "--threads", "1", "--logs", logs[0]); // 2 iterations: meta_state.bin at 2
            Assert.True(first.Code == 0, first.Out + first.Err);
            foreach (string l in logs.Skip(1)) CopyDirectory(Path.Combine(logs[0], config), Path.Combine(l, config));

            WriteConfig(dir, config, "env.train_steps=3200;" + shrink); // 4 iterations: warm-up of 2, then 2 more
            var single = CliHarness.Run("run", "--config", path, "--threads", "1", "--restart-population", "--logs", logs[0]);
            Assert.True(single.Code == 0, single.Out + single.Err);
            string expected = Path.Combine(logs[0], config, "1");
            byte[] phi = File.ReadAllBytes(Path.Combine(expected, "param.json"));
            byte[] csv = File.ReadAllBytes(Path.Combine(expected, "meta_train.csv"));
            Assert.Equal(5, File.ReadAllLines(Path.Combine(expected, "meta_train.csv")).Length);
            for (int i = 1; i < logs.Length; i++)
            {
                int ranks = i + 1;
                var (code, output) = MpiJob.Run(ranks, ["run", "--config", path, "--threads", "1", "--restart-population", "--logs", logs[i]], dir, Limit);
                Assert.True(code == 0, $"{ranks} ranks: {output}");
                string got = Path.Combine(logs[i], config, "1");
                Assert.Contains("warm-up", File.ReadAllText(Path.Combine(got, "log.txt")), StringComparison.Ordinal);
                Assert.True(phi.SequenceEqual(File.ReadAllBytes(Path.Combine(got, "param.json"))), $"{ranks} ranks: param.json differs from one process's");
                Assert.True(csv.SequenceEqual(File.ReadAllBytes(Path.Combine(got, "meta_train.csv"))), $"{ranks} ranks: meta_train.csv differs from one process's");
            }
        });
    }
}
