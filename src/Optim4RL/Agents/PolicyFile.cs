using System.Text.Json.Nodes;
using Optim4RL.Io;
using Optim4RL.Nn;

namespace Optim4RL.Agents;

/// <summary>
/// A trained agent saved for later evaluation (<c>policy_&lt;task&gt;.bin</c> in a run directory):
/// the verified container of <see cref="CheckpointFile"/> (JSON header, payload, XXH3-64 checksum,
/// written to a temporary file, read back and renamed into place) holding everything needed to
/// rebuild the network without the run's config — the task, the network's sizes (and conv layout),
/// θ as float32 and, for PPO, the observation normaliser's state.
/// </summary>
/// <remarks>
/// Header keys: <c>content</c> = <c>"policy"</c>, <c>policy_format</c>, <c>agent</c> (<c>A2C</c> or
/// <c>PPO</c>), <c>task</c>, <c>reward_scaling</c> (A2C: the training environments' scaling, so an
/// evaluation reports returns on the scale of <c>result_&lt;task&gt;.csv</c>), <c>trained_steps</c>,
/// <c>updates</c>, <c>network</c> (the sizes), plus whatever the caller adds (provenance, seed).
/// Payload: P (int32), θ (P float32), then for PPO the normaliser (<see cref="RunningNormalizer.Save"/>).
/// Layout described in docs/run-directories.md.
/// </remarks>
public static class PolicyFile
{
    /// <summary>Version of the header and payload layout this build writes and reads.</summary>
    public const int Format = 1;

    /// <summary>The header's <c>content</c> value that marks a policy file.</summary>
    public const string Content = "policy";

    /// <summary>The file name of a task's policy: <c>policy_&lt;task&gt;.bin</c>.</summary>
    public static string FileName(string task)
    {
        ArgumentException.ThrowIfNullOrEmpty(task);
        return $"policy_{task}.bin";
    }

    /// <summary>Saves an A2C agent's θ and network (atomically, verified).</summary>
    /// <param name="path">Target file; its directory must exist.</param>
    /// <param name="agent">The agent (its current θ is saved).</param>
    /// <param name="rewardScaling">The training environments' reward scaling.</param>
    /// <param name="extra">Further header entries (provenance, seed); copied.</param>
    /// <exception cref="IOException">The file cannot be written or did not verify.</exception>
    public static void SaveA2C(string path, A2C agent, float rewardScaling, JsonObject? extra = null)
    {
        ArgumentNullException.ThrowIfNull(agent);
        var spec = agent.Spec;
        var network = new JsonObject
        {
            ["observation_shape"] = new JsonArray(spec.ObservationShape.Select(d => (JsonNode)d).ToArray()),
            ["action_count"] = spec.ActionCount,
            ["hidden_size"] = spec.HiddenSize,
            ["conv_filters"] = spec.ConvFilters,
            ["conv_layout"] = ConvLayouts.NameOf(spec.ConvLayout),
            ["parameters"] = spec.Layout.Count,
        };
        var header = Header("A2C", agent.Envs[0].Name, rewardScaling, agent.Iteration * agent.StepsPerIteration, agent.Iteration, network, extra);
        CheckpointFile.Write(path, header, w => WriteTheta(w, agent.Theta));
    }

    /// <summary>Saves a PPO agent's θ, observation normaliser and networks (atomically, verified).</summary>
    /// <param name="path">Target file; its directory must exist.</param>
    /// <param name="agent">The agent (its current θ and normaliser are saved).</param>
    /// <param name="extra">Further header entries (provenance, seed); copied.</param>
    /// <exception cref="IOException">The file cannot be written or did not verify.</exception>
    public static void SavePpo(string path, Ppo agent, JsonObject? extra = null)
    {
        ArgumentNullException.ThrowIfNull(agent);
        var nets = agent.Agent.Networks;
        var network = new JsonObject
        {
            ["observation_size"] = nets.ObservationSize,
            ["action_size"] = nets.ActionSize,
            ["policy_hidden"] = new JsonArray(agent.Config.PolicyHiddenSizes.Select(d => (JsonNode)d).ToArray()),
            ["value_hidden"] = new JsonArray(agent.Config.ValueHiddenSizes.Select(d => (JsonNode)d).ToArray()),
            ["normalize_observations"] = agent.Agent.Normalizer.Enabled,
            ["parameters"] = nets.ParamCount,
        };
        // PPO's evaluation returns are unscaled (the scaling only enters the loss).
        var header = Header("PPO", agent.Agent.Env.Name, 1f, agent.Iteration * agent.StepsPerIteration, agent.Iteration, network, extra);
        CheckpointFile.Write(path, header, w =>
        {
            WriteTheta(w, agent.Theta);
            agent.Agent.Normalizer.Save(w);
        });
    }

    /// <summary>Loads a policy file (the checksum is verified first).</summary>
    /// <exception cref="InvalidDataException">The file is damaged, not a policy file, of another format, or its sizes do not fit (the message names the file).</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static SavedPolicy Load(string path)
    {
        SavedPolicy? policy = null;
        CheckpointFile.Read(path, (header, r) =>
        {
            if (Str(header, "content") != Content)
                throw new InvalidDataException("not a saved policy (a checkpoint of another kind)");
            int format = Int(header, "policy_format");
            if (format != Format) throw new InvalidDataException($"policy format {format}; this build reads format {Format} (saved by another version of optim4rl)");
            string agent = Str(header, "agent"), task = Str(header, "task");
            var net = header["network"] as JsonObject ?? throw new InvalidDataException("has no network description");
            policy = agent switch
            {
                "A2C" => LoadA2C(header, task, net, r),
                "PPO" => LoadPpo(header, task, net, r),
                _ => throw new InvalidDataException($"holds an agent '{agent}' this build cannot rebuild (A2C, PPO)"),
            };
        });
        return policy!;
    }

    private static SavedPolicy LoadA2C(JsonObject header, string task, JsonObject net, BinaryReader r)
    {
        var shape = (net["observation_shape"] as JsonArray ?? throw new InvalidDataException("has no observation shape")).Select(n => n!.GetValue<int>()).ToArray();
        if (!ConvLayouts.TryParse(Str(net, "conv_layout"), out var layout)) throw new InvalidDataException($"names an unknown conv layout '{Str(net, "conv_layout")}'");
        NetworkSpec spec;
        try
        {
            spec = new NetworkSpec(shape, Int(net, "action_count"), Int(net, "hidden_size"), Int(net, "conv_filters"), layout);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"describes a network that cannot be built ({e.Message})", e);
        }

        float[] theta = ReadTheta(r, spec.Layout.Count);
        return new SavedPolicy(header, PolicyKind.A2C, task, (float)Dbl(header, "reward_scaling"), theta) { Network = spec };
    }

    private static SavedPolicy LoadPpo(JsonObject header, string task, JsonObject net, BinaryReader r)
    {
        int[] Sizes(string key) => (net[key] as JsonArray ?? throw new InvalidDataException($"has no '{key}'")).Select(n => n!.GetValue<int>()).ToArray();
        PpoNetworks nets;
        try
        {
            nets = new PpoNetworks(Int(net, "observation_size"), Int(net, "action_size"), Sizes("policy_hidden"), Sizes("value_hidden"));
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"describes networks that cannot be built ({e.Message})", e);
        }

        float[] theta = ReadTheta(r, nets.ParamCount);
        bool normalize = net["normalize_observations"]?.GetValue<bool>() ?? throw new InvalidDataException("does not say whether observations are normalised");
        var normalizer = new RunningNormalizer(nets.ObservationSize, normalize);
        normalizer.Load(r);
        return new SavedPolicy(header, PolicyKind.Ppo, task, 1f, theta) { PpoNetworks = nets, Normalizer = normalizer };
    }

    private static JsonObject Header(string agent, string task, float rewardScaling, long steps, long updates, JsonObject network, JsonObject? extra)
    {
        var header = new JsonObject
        {
            ["content"] = Content,
            ["policy_format"] = Format,
            ["agent"] = agent,
            ["task"] = task,
            ["reward_scaling"] = (double)rewardScaling,
            ["trained_steps"] = steps,
            ["updates"] = updates,
            ["network"] = network,
        };
        foreach (var (k, v) in extra ?? [])
        {
            if (!header.ContainsKey(k)) header[k] = v?.DeepClone();
        }

        return header;
    }

    private static void WriteTheta(BinaryWriter w, ReadOnlySpan<float> theta)
    {
        w.Write(theta.Length);
        BinaryArrays.WriteFloats(w, theta);
    }

    private static float[] ReadTheta(BinaryReader r, int expected)
    {
        int p = r.ReadInt32();
        if (p != expected) throw new InvalidDataException($"holds θ of {p} values but its network has {expected} parameters");
        var theta = new float[p];
        BinaryArrays.ReadFloats(r, theta);
        return theta;
    }

    private static string Str(JsonObject o, string key) =>
        o[key] is JsonValue v && v.TryGetValue(out string? s) ? s : throw new InvalidDataException($"has no '{key}' in its header");

    private static int Int(JsonObject o, string key) =>
        o[key] is JsonValue v && v.TryGetValue(out int i) ? i : throw new InvalidDataException($"has no integer '{key}' in its header");

    private static double Dbl(JsonObject o, string key) =>
        o[key] is JsonValue v && v.TryGetValue(out double d) ? d : throw new InvalidDataException($"has no number '{key}' in its header");
}
