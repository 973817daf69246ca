using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Optim4RL.Experiments;
using Optim4RL.Io;
using Optim4RL.Optimizers.Learned;
using Optim4RL.Tests.Experiments;

namespace Optim4RL.Tests.Meta;

/// <summary>
/// Golden outputs of meta-training recorded before the trainers were merged into one
/// <c>MetaTrainer</c> with pluggable estimators (issue 11): a few meta-iterations of shipped quick
/// configurations run through the CLI's runner at 1 and 2 threads must reproduce, byte for byte,
/// the φ, the <c>meta_train.csv</c> and the checkpoint payload (θ, states, RNG streams, meta-optimizer
/// state: the checkpoint format too) that the code before the refactor wrote.
/// </summary>
public sealed class MetaTrainerGoldenTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "o4rl-golden-" + Guid.NewGuid().ToString("N"));

    public MetaTrainerGoldenTests() => Directory.CreateDirectory(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>
    /// Config, settings changed to keep it small ("section.key=value;…", each the sweep's single value),
    /// and SHA-256 prefixes of φ, meta_train.csv and the checkpoint payload.
    /// </summary>
    public static TheoryData<string, string, string, string, string> Cases => new()
    {
        // MetaA2C, Catch, 8 agents, 3 iterations of 8 × 20 × 5 steps, resets every 2 iterations.
        { "quick_meta_rl_catch", "env.train_steps=2400;env.num_envs=8;agent.reset_interval=2;agent_optim.kwargs.state_dtype=float32", "C5ED7C1910EA5A40", "94D28BC420008B66", "287D37A81024F0A7" },
        // MetapA2C (no pipeline).
        { "quick_meta_rlp_catch", "env.train_steps=2400;env.num_envs=8;agent_optim.kwargs.state_dtype=float32", "773EB97ED139005C", "22DBBA131F666F12", "E556C179A7709874" },
        // MetaA2C with grad_clip on small_dense_long.
        { "quick_meta_rl_sdl", "env.train_steps=2400;env.num_envs=8;agent.reset_interval=2;agent_optim.kwargs.state_dtype=float32", "CA4E3F29D592DF59", "58C54A6CB7666930", "C6A7D0F6E22F8F23" },
        // Six gridworlds with per-task rescaling (max_norm) and per-task α, 4 agents each, 3 iterations.
        { "quick_meta_rl_grid", "env.train_steps=1200;env.num_envs=4;agent_optim.kwargs.state_dtype=float32", "1B1B7B68A1B11817", "037940048D06BA25", "4F332AA2CC38D1CF" },
        // The same with the default storage of the recurrent state, bfloat16 (recorded when it became the default).
        { "quick_meta_rl_catch", "env.train_steps=2400;env.num_envs=8;agent.reset_interval=2", "E62E4C49A9F5F96E", "276DF354AF05470B", "CAF49023319FDCD2" },
        { "quick_meta_rl_grid", "env.train_steps=1200;env.num_envs=4", "2FD8A4324ABC91D1", "0A6066AF4872D9B4", "A8CCE691350890F3" },
        // STAR's kernel.
        { "quick_meta_star_catch", "env.train_steps=2400;env.num_envs=8", "8714813D9A5F8934", "D2BEA5C2CC8AD2F6", "02EA9E12D0246991" },
        // MetaPPO on Ant, 2 agents of 4 environments: the agent-ordered reduction (2 iterations of 8 × 5 × 2 × 4 steps).
        { "quick_meta_rl_ant", "env.train_steps=640;env.num_envs=8;batch_size=8;agent.num_minibatches=2;agent.update_epochs=2", "D40FDBDB430DA9C4", "B3C24E6872C56772", "71B4DE8202E4F9B3" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Meta_training_reproduces_the_recorded_outputs_at_one_and_two_threads(string config, string settings, string phiHash, string csvHash, string payloadHash)
    {
        foreach (int threads in new[] { 1, 2 })
        {
            var (phi, csv, payload) = Run(config, settings, threads);
            string got = $"{{ \"{config}\", \"{settings}\", \"{phi}\", \"{csv}\", \"{payload}\" }}";
            Assert.True(phi == phiHash && csv == csvHash && payload == payloadHash, $"threads {threads}: got {got}");
        }
    }

    private (string Phi, string Csv, string Payload) Run(string config, string settings, int threads)
    {
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(ShippedConfigTests.ConfigsDir(), config + ".json")))!.AsObject();
        foreach (string setting in settings.Split(';'))
        {
            string key = setting[..setting.IndexOf('=')], text = setting[(setting.IndexOf('=') + 1)..];
            JsonNode value = long.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out long number) ? JsonValue.Create(number) : JsonValue.Create(text);
            var parts = key.Split('.');
            var section = json; // each section is a one-element list of objects
            foreach (string part in parts[..^1]) section = (section[part] ??= new JsonArray(new JsonObject()))[0]!.AsObject();
            section[parts[^1]] = new JsonArray(value);
        }
        string name = $"golden_{config}";
        string path = Path.Combine(_root, name + ".json");
        File.WriteAllText(path, json.ToJsonString());
        var outcome = ExperimentRunner.Run(SweepConfig.Load(path), 1, new RunOptions(Path.Combine(_root, "logs"), Threads: threads, Overwrite: true));
        Assert.True(outcome.Completed);
        string dir = outcome.Directory;

        var (optimizer, _, _) = MetaParamsFile.Describe(Path.Combine(dir, "param.json"));
        var lopt = LearnedOptimizers.Create(optimizer);
        var phi = MetaParamsFile.Load(Path.Combine(dir, "param.json"), lopt.Name, lopt.HiddenSize, lopt.Layout);
        byte[] payload = [];
        CheckpointFile.Read(Path.Combine(dir, ExperimentRunner.CheckpointFileName), (_, r) =>
        {
            using var rest = new MemoryStream();
            r.BaseStream.CopyTo(rest);
            payload = rest.ToArray()[..^24]; // without the container's trailer (length, checksum, end magic)
        });
        return (Hash(System.Runtime.InteropServices.MemoryMarshal.AsBytes(phi.AsSpan()).ToArray()),
            Hash(File.ReadAllBytes(Path.Combine(dir, "meta_train.csv"))), Hash(payload));
    }

    private static string Hash(byte[] bytes) => Convert.ToHexString(SHA256.HashData(bytes))[..16];
}
