using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;
using Optim4RL.Experiments;
using Xunit.Abstractions;

namespace Optim4RL.Tests.Cli;

/// <summary>
/// Property: a malformed configuration or φ file given to the CLI (in-process, as a user would) fails
/// with a non-zero exit code and one line on stderr, never a stack trace, and writes nothing: the
/// finished runs already in the logs folder keep every file byte for byte. Every generated case has
/// at least one defect (wrong type, value out of range, missing or misspelled key, truncated JSON,
/// a broken rule between keys, an impossible size, a damaged φ file), so none of them may start training.
/// </summary>
[Collection(ProcessWideMeasurements.Name)]
public sealed partial class MalformedConfigPropertyTests : IDisposable
{
    private const int Cases = 1200;

    private readonly ITestOutputHelper _output;
    private readonly string _root = Path.Combine(Path.GetTempPath(), "o4rl-prop-" + Guid.NewGuid().ToString("N"));

    public MalformedConfigPropertyTests(ITestOutputHelper output)
    {
        _output = output;
        Directory.CreateDirectory(_root);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }

    private string Logs => Path.Combine(_root, "logs");

    /// <summary>One generated case: what is wrong, the sweep file's text, an optional φ file's text, and the verb used.</summary>
    public sealed record Case(string Defect, string Config, string? Phi, bool ViaSweep, string Experiment)
    {
        public override string ToString() => $"{Defect} [{(ViaSweep ? "sweep --run" : "run")}]: {Config}{(Phi is null ? "" : " φ: " + Cut(Phi))}";

        private static string Cut(string s) => s.Length <= 300 ? s : s[..300] + "…";
    }

    // ---------- valid bases (resolved form; every case breaks one of them) ----------

    private static JsonObject A2CBase() => Obj("""
        {"env": {"name": ["catch"], "num_envs": 2, "train_steps": 80, "reward_scaling": 1},
         "agent": {"name": "A2C", "rollout_steps": 20, "gae_lambda": 0.95, "critic_loss_weight": 0.5, "entropy_weight": 0.01, "conv_layout": "reference"},
         "agent_optim": {"name": "RMSProp", "kwargs": {"learning_rate": 1e-3, "grad_clip": -1}},
         "discount": 0.995, "seed": 7, "generate_random_seed": true}
        """);

    private static JsonObject MetaBase() => Obj("""
        {"env": {"name": ["catch"], "num_envs": 2, "train_steps": 80},
         "agent": {"name": "MetaA2C", "inner_updates": 1, "rollout_steps": 20, "reset_interval": 2, "gae_lambda": 0.95},
         "agent_optim": {"name": "Optim4RL", "kwargs": {"param_load_path": "", "learning_rate": 1e-3, "grad_clip": 1}},
         "meta_optim": {"name": "Adam", "kwargs": {"learning_rate": 1e-3, "grad_norm": 1, "max_norm": -1}},
         "discount": 0.995, "seed": 3, "display_interval": 1, "generate_random_seed": false}
        """);

    private static JsonObject PpoBase() => Obj("""
        {"env": {"name": "ant", "num_envs": 4, "train_steps": 1e5, "num_evals": 2, "num_eval_envs": 4, "episode_length": 1000, "action_repeat": 1, "normalize_obs": true, "reward_scaling": 10},
         "agent": {"name": "PPO", "rollout_steps": 5, "num_minibatches": 4, "update_epochs": 2, "gae_lambda": 0.95, "clipping_epsilon": 0.3, "entropy_weight": 0.01},
         "optim": {"name": "Adam", "kwargs": {"learning_rate": 3e-4, "grad_clip": 1}},
         "batch_size": 8, "discount": 0.97, "max_devices_per_host": -1, "seed": 1, "generate_random_seed": true}
        """);

    private static JsonObject MetaPpoBase() => Obj("""
        {"env": {"name": "ant", "num_envs": 4, "train_steps": 1e5, "action_repeat": 1, "normalize_obs": true, "reward_scaling": 10},
         "agent": {"name": "MetaPPO", "num_agents": 2, "inner_updates": 2, "rollout_steps": 5, "num_minibatches": 4, "update_epochs": 2, "reset_interval": 4},
         "agent_optim": {"name": "Optim4RL", "kwargs": {"param_load_path": "", "learning_rate": 3e-4, "grad_clip": 1}},
         "meta_optim": {"name": "Adam", "kwargs": {"learning_rate": 1e-4, "grad_clip": 1}},
         "batch_size": 8, "discount": 0.97, "display_interval": 10, "seed": 1}
        """);

    private static JsonObject SupervisedBase() => Obj("""
        {"task": {"name": "gaussian_mixture", "num_classes": 4, "input_dim": 8, "components": 2, "separation": 1.0, "train_size": 256, "test_size": 64},
         "agent": {"name": "SLCollect", "data_reduce": 3},
         "model": {"name": "MLP", "kwargs": {"hidden_sizes": [16]}},
         "optimizer": {"name": "Adam", "kwargs": {"learning_rate": 3e-3, "grad_clip": -1}},
         "epochs": 1, "batch_size": 64, "display_interval": 1, "seed": 5}
        """);

    private static readonly Func<JsonObject>[] Bases = [A2CBase, MetaBase, PpoBase, MetaPpoBase, SupervisedBase];

    private static JsonObject Obj(string json) => JsonNode.Parse(json)!.AsObject();

    /// <summary>The sweep form: every value a list of one alternative (a list value becomes [[…]]).</summary>
    private static JsonNode ToSweep(JsonObject resolved)
    {
        var sweep = new JsonObject();
        foreach (var (key, value) in resolved)
            sweep[key] = new JsonArray(value is JsonObject o ? ToSweep(o) : value?.DeepClone());
        return sweep;
    }

    private static string Text(JsonObject resolved) => ToSweep(resolved).ToJsonString();

    private static List<string> Leaves(JsonObject obj, string prefix = "")
    {
        var paths = new List<string>();
        foreach (var (key, value) in obj)
        {
            if (value is JsonObject child) paths.AddRange(Leaves(child, prefix + key + "."));
            else paths.Add(prefix + key);
        }

        return paths;
    }

    private static void Set(JsonObject root, string path, JsonNode? value)
    {
        string[] parts = path.Split('.');
        JsonObject obj = root;
        foreach (string part in parts[..^1])
        {
            if (obj[part] is not JsonObject next)
            {
                next = new JsonObject();
                obj[part] = next;
            }

            obj = next;
        }

        obj[parts[^1]] = value;
    }

    private static void Remove(JsonObject root, string path)
    {
        string[] parts = path.Split('.');
        JsonObject obj = root;
        foreach (string part in parts[..^1]) obj = (JsonObject)obj[part]!;
        obj.Remove(parts[^1]);
    }

    private static RunKind KindOf(JsonObject resolved) => ConfigSchema.For(resolved["agent"]!["name"]!.GetValue<string>());

    /// <summary>The path as the file spells it (PPO's base uses the alias optim).</summary>
    private static string Actual(JsonObject resolved, string canonical) =>
        resolved.ContainsKey("optim") && canonical.StartsWith("agent_optim.", StringComparison.Ordinal) ? "optim" + canonical["agent_optim".Length..] : canonical;

    // ---------- generators ----------

    private static Gen<JsonObject> BaseGen => Gen.Elements(Bases).Select(b => b());

    private static Gen<JsonNode?> WrongTypeFor(ConfigType type)
    {
        JsonNode?[] common = [JsonValue.Create("text"), JsonValue.Create(true), null, Obj("""{"a": 1}""")];
        JsonNode?[] extra = type switch
        {
            ConfigType.Integer or ConfigType.Integer64 => [JsonValue.Create(2.5), new JsonArray(1), JsonValue.Create("5")],
            ConfigType.Number => [new JsonArray(0.5), JsonValue.Create("0.5")],
            ConfigType.Boolean => [JsonValue.Create(2), JsonValue.Create("true"), new JsonArray(true)],
            ConfigType.String => [JsonValue.Create(5), new JsonArray("a")],
            ConfigType.StringList => [JsonValue.Create(5), new JsonArray(), new JsonArray(1)],
            ConfigType.IntegerList => [new JsonArray(), new JsonArray("x"), new JsonArray(1.5)],
            ConfigType.NumberPerTask => [new JsonArray(), new JsonArray("x")],
            ConfigType.IntegerPerTask => [new JsonArray(), new JsonArray("x"), new JsonArray(1.5)],
            _ => [],
        };
        bool Valid(JsonNode? v) => v is JsonValue value && value.GetValueKind() switch
        {
            System.Text.Json.JsonValueKind.String => type is ConfigType.String or ConfigType.StringList,
            System.Text.Json.JsonValueKind.True => type == ConfigType.Boolean,
            _ => false,
        };
        return Gen.Elements<JsonNode?>([.. common.Where(v => !Valid(v)), .. extra]).Select(v => v?.DeepClone());
    }

    /// <summary>Values outside a key's range (from the range's documented form).</summary>
    private static JsonNode?[] OutsideRange(ConfigKey key)
    {
        string d = key.Range.Description;
        bool integer = key.Type is ConfigType.Integer or ConfigType.Integer64 or ConfigType.IntegerList or ConfigType.IntegerPerTask;
        var values = new List<JsonNode?>();
        if (key.Type is ConfigType.String or ConfigType.StringList)
        {
            if (d != "any") values.AddRange([JsonValue.Create("zzq"), JsonValue.Create("Adamm"), JsonValue.Create("catchh"), JsonValue.Create("")]);
            return [.. values];
        }

        if (key.Type == ConfigType.Boolean) return [];
        double Bound(string s) => double.Parse(s, System.Globalization.CultureInfo.InvariantCulture);
        if (d.StartsWith("≥ ", StringComparison.Ordinal)) values.AddRange([Num(Bound(d[2..]) - 1), Num(-1e6), Num(Bound(d[2..]) - 0.5)]);
        else if (d.StartsWith("> ", StringComparison.Ordinal)) values.AddRange([Num(Bound(d[2..])), Num(-1)]);
        else if (d.Contains(" to ", StringComparison.Ordinal)) values.AddRange([Num(Bound(d[(d.IndexOf(" to ", StringComparison.Ordinal) + 4)..]) + 0.5), Num(-0.25)]);
        else if (d.EndsWith(" only", StringComparison.Ordinal)) values.Add(Num(Bound(d[..^5]) + 1));
        values.Add(JsonNode.Parse("1e400")); // not finite
        if (integer) values.AddRange([JsonNode.Parse("1e30"), JsonNode.Parse("-1e30"), key.Type == ConfigType.Integer64 ? JsonNode.Parse("1e19") : JsonNode.Parse("3e9")]);
        return [.. values];
    }

    private static JsonNode Num(double x) => JsonValue.Create(x);

    private static Gen<Case> Mutated(string defect, Gen<(JsonObject Config, string What)> gen) =>
        from m in gen
        from viaSweep in Gen.Frequency((3, Gen.Constant(false)), (1, Gen.Constant(true)))
        from experiment in Gen.Elements("finished", "metarun", "fresh")
        select new Case($"{defect}: {m.What}", Text(m.Config), null, viaSweep, experiment);

    private static Gen<Case> WrongType =>
        Mutated("wrong type",
            from b in BaseGen
            let kind = KindOf(b)
            from key in Gen.Elements(kind.Keys.ToArray())
            from value in WrongTypeFor(key.Type)
            select (With(b, Actual(b, key.Path), value), $"{key.Path} = {value?.ToJsonString() ?? "null"}"));

    private static Gen<Case> OutOfRange =>
        Mutated("out of range",
            from b in BaseGen
            let kind = KindOf(b)
            from key in Gen.Elements(kind.Keys.Where(k => OutsideRange(k).Length > 0).ToArray())
            from value in Gen.Elements(OutsideRange(key))
            select (With(b, Actual(b, key.Path), value?.DeepClone()), $"{key.Path} = {value?.ToJsonString()}"));

    private static Gen<Case> MissingRequired =>
        Mutated("missing",
            from b in BaseGen
            let kind = KindOf(b)
            from key in Gen.Elements(kind.Keys.Where(k => k.Required).ToArray())
            select (Without(b, Actual(b, key.Path)), key.Path));

    private static Gen<Case> Misspelled =>
        Mutated("unknown key",
            from b in BaseGen
            let kind = KindOf(b)
            let leaves = Leaves(b).ToArray()
            from path in Gen.Elements(leaves)
            from how in Gen.Choose(0, 4)
            select Misspell(b, kind, path, how));

    private static (JsonObject, string) Misspell(JsonObject b, RunKind kind, string path, int how)
    {
        int dot = path.LastIndexOf('.');
        string parent = dot < 0 ? "" : path[..(dot + 1)], leaf = path[(dot + 1)..];
        string typo = how switch
        {
            0 => leaf.Length > 2 ? leaf[..1] + leaf[2] + leaf[1] + leaf[3..] : leaf + "x",  // swap two letters
            1 => leaf.Length > 3 ? leaf.Remove(leaf.Length / 2, 1) : leaf + "y",             // drop a letter
            2 => leaf + "s",
            3 => leaf.ToUpperInvariant(),
            _ => "extra_" + leaf,
        };
        string canonical = (parent + typo).StartsWith("optim.", StringComparison.Ordinal) ? "agent_optim." + (parent + typo)["optim.".Length..] : parent + typo;
        while (kind.HasKey(canonical) || kind.Sections.Contains(canonical) || kind.Ignored.Any(i => canonical == i.Path || canonical.StartsWith(i.Path + ".", StringComparison.Ordinal)) || typo == leaf)
        {
            typo += "_z";
            canonical += "_z";
        }

        var copy = (JsonObject)b.DeepClone();
        Set(copy, parent + typo, JsonValue.Create(1));
        return (copy, parent + typo);
    }

    /// <summary>Configurations whose keys are each fine but break a rule, or ask for impossible sizes.</summary>
    private static Gen<Case> BrokenRule => Mutated("rule", Gen.Elements<Func<(JsonObject, string)>>(
        () => (With(A2CBase(), "env.train_steps", Num(39)), "A2C train_steps below one iteration"),
        () => (With(With(A2CBase(), "agent_optim.kwargs.grad_clip", Num(1)), "agent_optim.kwargs.grad_norm", Num(1)), "grad_clip and grad_norm"),
        () => (With(A2CBase(), "env.reward_scaling", new JsonArray(1, 2)), "per-task list of 2 for 1 task"),
        () => (With(A2CBase(), "agent_optim.name", JsonValue.Create("Optim4RL")), "learned optimizer without φ"),
        () => (With(A2CBase(), "agent_optim.kwargs.param_load_path", JsonValue.Create("x.json")), "hand-designed optimizer with φ"),
        () => (With(With(A2CBase(), "env.num_envs", Num(2e9)), "env.train_steps", Num(1e18)), "A2C num_envs 2e9"),
        () => (With(With(A2CBase(), "env.num_envs", Num(2e6)), "env.train_steps", Num(1e18)), "A2C num_envs 2e6"),
        () => (With(With(A2CBase(), "agent.rollout_steps", Num(2e9)), "env.train_steps", Num(1e18)), "A2C rollout_steps 2e9"),
        () => (With(MetaBase(), "env.train_steps", Num(79)), "meta train_steps below one meta-iteration"),
        () => (With(With(MetaBase(), "env.num_envs", Num(1e8)), "env.train_steps", Num(1e18)), "meta num_envs 1e8"),
        () => (With(With(MetaBase(), "agent.inner_updates", Num(2e9)), "env.train_steps", Num(9e18)), "meta inner_updates 2e9"),
        () => (With(MetaBase(), "agent_optim.name", JsonValue.Create("Adam")), "meta-training a hand-designed optimizer"),
        () => (With(With(MetaBase(), "meta_optim.kwargs.grad_clip", Num(1)), "meta_optim.kwargs.grad_norm", Num(1)), "meta grad_clip and grad_norm"),
        () => (With(MetaBase(), "env.num_envs", new JsonArray(2, 2)), "meta per-task list of 2 for 1 task"),
        () => (With(PpoBase(), "env.num_envs", Num(3)), "PPO segments not a multiple of num_envs"),
        () => (With(PpoBase(), "env.train_steps", Num(100)), "PPO train_steps below a training step"),
        () => (With(PpoBase(), "batch_size", Num(2e9)), "PPO batch_size × num_minibatches overflows"),
        () => (With(With(PpoBase(), "agent_optim.name", JsonValue.Create("Adam")), "agent_optim.kwargs.learning_rate", Num(1e-3)), "optim and agent_optim together"),
        () => (With(MetaPpoBase(), "env.name", new JsonArray("ant", "hopper")), "MetaPPO with two tasks"),
        () => (With(MetaPpoBase(), "agent.num_agents", Num(3)), "MetaPPO num_envs not a multiple of num_agents"),
        () => (With(MetaPpoBase(), "env.train_steps", Num(10)), "MetaPPO train_steps below a meta-iteration"),
        () => (With(SupervisedBase(), "batch_size", Num(1000)), "SLCollect batch larger than the data set"),
        () => (With(SupervisedBase(), "task.train_size", Num(2e9)), "SLCollect train_size 2e9"),
        () => (With(With(SupervisedBase(), "task.input_dim", Num(1e9)), "task.train_size", Num(1e9)), "SLCollect data 1e18 values"),
        () => (With(A2CBase(), "agent.name", JsonValue.Create("MetaA2Cstar")), "the reference's STAR agent name"),
        () => (With(A2CBase(), "agent.name", JsonValue.Create("A3C")), "unknown agent"),
        () => (With(A2CBase(), "env.name", new JsonArray("catch", "cartpole")), "unknown second task")).Select(f => f()));

    /// <summary>Damage to the text of a valid sweep file: truncation, a value that is not a list, an empty list, a non-object top level.</summary>
    private static Gen<Case> DamagedText =>
        from b in BaseGen
        let text = Text(b)
        from how in Gen.Choose(0, 5)
        from cut in Gen.Choose(0, text.Length - 1)
        from other in Gen.Elements("[]", "42", "\"text\"", "null", "", "{\"seed\": []}", "{\"seed\": 1}", "{}", "{\"agent\": [{\"name\": []}]}")
        from viaSweep in Gen.Elements(false, true)
        select new Case($"damaged text: variant {how}", how switch
        {
            0 or 1 or 2 => text[..cut],                               // truncated: a proper prefix of a JSON object is never complete
            3 => SeedValue().Replace(text, "\"seed\":$1", 1),         // a value that is not a list of alternatives
            4 => SeedValue().Replace(text, "\"seed\":[]", 1),         // an empty list of alternatives
            _ => other,                                               // not a sweep object, or one without the keys a run needs
        }, null, viaSweep, "finished");

    [System.Text.RegularExpressions.GeneratedRegex(@"""seed"":\[([0-9]+)\]")]
    private static partial System.Text.RegularExpressions.Regex SeedValue();

    // ---------- φ files ----------

    private Gen<Case> DamagedPhi(string goodPhi)
    {
        var good = JsonNode.Parse(goodPhi)!.AsObject();
        int arrays = good["arrays"]!.AsArray().Count;
        JsonObject Edit(Action<JsonObject> edit)
        {
            var copy = (JsonObject)good.DeepClone();
            edit(copy);
            return copy;
        }

        JsonObject ArrayAt(JsonObject o, int i) => o["arrays"]!.AsArray()[i]!.AsObject();

        var damage =
            from how in Gen.Choose(0, 19)
            from i in Gen.Choose(0, arrays - 1)
            from cut in Gen.Choose(1, goodPhi.Length - 2)
            from other in Gen.Elements("[]", "42", "\"phi\"", "null", "", "{}")
            select how switch
            {
                0 or 1 or 2 => ("truncated", goodPhi[..cut]),
                3 => ("version 2", Edit(o => o["version"] = 2).ToJsonString()),
                4 => ("version as text", Edit(o => o["version"] = "1").ToJsonString()),
                5 => ("no format", Edit(o => o.Remove("format")).ToJsonString()),
                6 => ("other optimizer", Edit(o => o["optimizer"] = "L2LGD2").ToJsonString()),
                7 => ("hidden_size 9", Edit(o => o["hidden_size"] = 9).ToJsonString()),
                8 => ("count + 1", Edit(o => o["count"] = o["count"]!.GetValue<int>() + 1).ToJsonString()),
                9 => ("arrays not a list", Edit(o => o["arrays"] = "x").ToJsonString()),
                10 => ("array removed", Edit(o => o["arrays"]!.AsArray().RemoveAt(i)).ToJsonString()),
                11 => ("array duplicated", Edit(o => o["arrays"]!.AsArray().Add(ArrayAt(o, i).DeepClone())).ToJsonString()),
                12 => ("array renamed", Edit(o => ArrayAt(o, i)["name"] = "zz/kernel").ToJsonString()),
                13 => ("shape with an extra axis", Edit(o => ArrayAt(o, i)["shape"]!.AsArray().Add(1)).ToJsonString()),
                14 => ("shape not integers", Edit(o => ArrayAt(o, i)["shape"] = new JsonArray("x")).ToJsonString()),
                15 => ("data one short", Edit(o => ArrayAt(o, i)["data"]!.AsArray().RemoveAt(0)).ToJsonString()),
                16 => ("data one long", Edit(o => ArrayAt(o, i)["data"]!.AsArray().Add(0.5)).ToJsonString()),
                17 => ("data value a string", Edit(o => ArrayAt(o, i)["data"]!.AsArray()[0] = "x").ToJsonString()),
                18 => ("data value beyond float32", Edit(o => ArrayAt(o, i)["data"]!.AsArray()[0] = JsonNode.Parse("1e39")).ToJsonString()),
                _ => ("not an object", other),
            };

        var users = Gen.Elements<Func<JsonObject>>(
            () => With(With(A2CBase(), "agent_optim.name", JsonValue.Create("Optim4RL")), "agent_optim.kwargs.param_load_path", JsonValue.Create("PHI")),
            () => With(MetaBase(), "agent_optim.kwargs.param_load_path", JsonValue.Create("PHI")),
            () => With(With(PpoBase(), "optim.name", JsonValue.Create("optim4rl")), "optim.kwargs.param_load_path", JsonValue.Create("PHI")));

        return from d in damage
               from user in users
               from viaSweep in Gen.Frequency((3, Gen.Constant(false)), (1, Gen.Constant(true)))
               from experiment in Gen.Elements("finished", "metarun")
               select new Case($"φ file: {d.Item1}", Text(user()), d.Item2, viaSweep, experiment);
    }

    private static JsonObject With(JsonObject b, string path, JsonNode? value)
    {
        var copy = (JsonObject)b.DeepClone();
        Set(copy, path, value);
        return copy;
    }

    private static JsonObject Without(JsonObject b, string path)
    {
        var copy = (JsonObject)b.DeepClone();
        Remove(copy, path);
        return copy;
    }

    // ---------- the property ----------

    private static (int Code, string Out, string Err) Cli(params string[] args) => CliHarness.Run(args);

    private static Dictionary<string, string> Snapshot(string dir) =>
        Directory.EnumerateFileSystemEntries(dir, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToDictionary(
            p => Path.GetRelativePath(dir, p),
            p => File.Exists(p) ? Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(p))) : "dir");

    [Fact]
    public void Malformed_configs_and_phi_files_fail_in_one_line_and_touch_no_run()
    {
        var clock = Stopwatch.StartNew();
        string configs = Path.Combine(_root, "configs");
        Directory.CreateDirectory(configs);

        // Two finished runs: a tiny A2C (logs/finished/1) and a tiny MetaA2C whose φ the damaged files start from (logs/metarun/1).
        File.WriteAllText(Path.Combine(configs, "finished.json"), Text(A2CBase()));
        File.WriteAllText(Path.Combine(configs, "metarun.json"), Text(MetaBase()));
        foreach (string name in new[] { "finished", "metarun" })
        {
            var (code, _, err) = Cli("run", "--config", Path.Combine(configs, name + ".json"), "--logs", Logs, "--threads", "1");
            Assert.True(code == 0, err);
        }

        string goodPhi = File.ReadAllText(Path.Combine(Logs, "metarun", "1", RunDirectory.ParamFileName));
        var before = Snapshot(Logs);
        Assert.Contains(Path.Combine("finished", "1", "result_catch.csv"), before.Keys);
        _output.WriteLine($"setup: {clock.Elapsed.TotalSeconds:F1} s");

        var gen = Gen.Frequency(
            (5, WrongType), (5, OutOfRange), (2, MissingRequired), (4, Misspelled), (3, BrokenRule), (3, DamagedText), (4, DamagedPhi(goodPhi)));
        string caseDir = Path.Combine(_root, "cases");
        Directory.CreateDirectory(caseDir);
        string phiPath = Path.Combine(caseDir, "phi.json");
        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        int total = 0;

        bool Holds(Case c)
        {
            total++;
            string kind = c.Defect.Split(':')[0];
            counts[kind] = counts.GetValueOrDefault(kind) + 1;
            string config = Path.Combine(caseDir, c.Experiment + ".json");
            File.WriteAllText(config, c.Config.Replace("\"PHI\"", System.Text.Json.JsonSerializer.Serialize(phiPath), StringComparison.Ordinal));
            if (c.Phi is not null) File.WriteAllText(phiPath, c.Phi);
            var (code, stdout, stderr) = c.ViaSweep
                ? Cli("sweep", "--config", config, "--run", "--from", "1", "--to", "1", "--logs", Logs)
                : Cli("run", "--config", config, "--config-idx", "1", "--logs", Logs);
            string[] lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            bool ok = code != 0 && lines.Length == 1 && lines[0].StartsWith("error: ", StringComparison.Ordinal) &&
                      !(stdout + stderr).Contains("   at ", StringComparison.Ordinal) &&
                      !(stdout + stderr).Contains("Unhandled exception", StringComparison.Ordinal) &&
                      !Directory.Exists(Path.Combine(Logs, "fresh"));
            if (!ok) _output.WriteLine($"FAILED {c}\nexit {code}\nstdout: {stdout}\nstderr: {stderr}");
            return ok;
        }

        Check.One(Config.QuickThrowOnFailure.WithMaxTest(Cases).WithQuietOnSuccess(true), Prop.ForAll(gen.ToArbitrary(), (Func<Case, bool>)Holds));

        var after = Snapshot(Logs);
        Assert.Equal(before, after);
        _output.WriteLine($"{total} cases in {clock.Elapsed.TotalSeconds:F1} s: {string.Join(", ", counts.Select(kv => $"{kv.Key} {kv.Value}"))}");
        Assert.True(total >= 1000, $"only {total} cases ran");
        // No wall-clock assertion: on a loaded machine the same 1200 cases took 68 s; speed lives in `bench`.
    }
}
