using System.Reflection;

namespace Optim4RL.Envs.MuJoCo;

/// <summary>
/// The project's own MJCF models of the seven continuous-control tasks (docs/environments.md, "Models"), shipped as
/// embedded resources of this assembly (sources: <c>src/Optim4RL.MuJoCo/Models/*.xml</c>).
/// </summary>
public static class MuJoCoModels
{
    private const string Prefix = "Optim4RL.Envs.MuJoCo.Models.";

    /// <summary>The model names: ant, halfcheetah, hopper, humanoid, inverted_double_pendulum, inverted_pendulum, walker2d.</summary>
    public static IReadOnlyList<string> Names { get; } = Array.AsReadOnly(
        typeof(MuJoCoModels).Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal) && n.EndsWith(".xml", StringComparison.Ordinal))
            .Select(n => n[Prefix.Length..^4])
            .Order(StringComparer.Ordinal)
            .ToArray());

    /// <summary>The MJCF text of a model.</summary>
    /// <exception cref="ArgumentException">No model of that name.</exception>
    public static string ReadXml(string name)
    {
        Assembly asm = typeof(MuJoCoModels).Assembly;
        using Stream? s = asm.GetManifestResourceStream(Prefix + name + ".xml");
        if (s is null) throw new ArgumentException($"No MuJoCo model '{name}'. Models: {string.Join(", ", Names)}.", nameof(name));
        using var reader = new StreamReader(s);
        return reader.ReadToEnd();
    }

    /// <summary>Loads and compiles a model (each call returns a new, independent <see cref="MjModel"/>).</summary>
    /// <exception cref="ArgumentException">No model of that name.</exception>
    /// <exception cref="MuJoCoException">MuJoCo is unavailable or rejects the model.</exception>
    public static MjModel Load(string name) => MjModel.FromXmlString(ReadXml(name), name + ".xml");
}
