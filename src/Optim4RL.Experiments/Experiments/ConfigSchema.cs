using System.Text.Json;
using System.Text.Json.Nodes;

namespace Optim4RL.Experiments;

/// <summary>The JSON type a configuration key holds (after the sweep picked one alternative).</summary>
public enum ConfigType
{
    /// <summary>An integer from −2147483648 to 2147483647; integral numbers with an exponent (5e5) are accepted.</summary>
    Integer,

    /// <summary>A 64-bit integer; integral numbers with an exponent (3e7) are accepted.</summary>
    Integer64,

    /// <summary>A finite number.</summary>
    Number,

    /// <summary><c>true</c> or <c>false</c> (the integers 1 and 0 are accepted).</summary>
    Boolean,

    /// <summary>A string.</summary>
    String,

    /// <summary>A string, or a non-empty list of strings.</summary>
    StringList,

    /// <summary>An integer, or a non-empty list of integers.</summary>
    IntegerList,

    /// <summary>One number for every task, or a list with one number per task (the tasks of <c>env.name</c>).</summary>
    NumberPerTask,

    /// <summary>One integer for every task, or a list with one integer per task.</summary>
    IntegerPerTask,
}

/// <summary>Which checks <see cref="ConfigSchema.Validate"/> makes besides keys, types, ranges and the rules between keys.</summary>
[Flags]
public enum ConfigChecks
{
    /// <summary>Only what the configuration itself says (what <c>sweep</c> lists and the tests of shipped files check).</summary>
    Static = 0,

    /// <summary>Also read the files the configuration names (φ files of <c>param_load_path</c>).</summary>
    Files = 1,

    /// <summary>Also compare the memory estimate (<see cref="MemoryEstimate"/>) with the memory available to this process.</summary>
    Memory = 2,

    /// <summary>Everything: what a run checks before it writes anything.</summary>
    Run = Files | Memory,
}

/// <summary>
/// The values a key accepts besides its type: a numeric interval, or a set of names.
/// <see cref="Description"/> is what docs/configs.md shows.
/// </summary>
public sealed class ConfigRange
{
    private readonly Func<double, bool>? _number;
    private readonly Func<string, bool>? _text;
    private readonly Func<IEnumerable<string>>? _names;

    private ConfigRange(string description, Func<double, bool>? number, Func<string, bool>? text, Func<IEnumerable<string>>? names, string noun = "value")
    {
        Description = description;
        _number = number;
        _text = text;
        _names = names;
        Noun = noun;
    }

    /// <summary>What a name of this range is ("task", "optimizer"), for messages.</summary>
    public string Noun { get; }

    /// <summary>How the range reads in documentation and messages, e.g. "≥ 1", "> 0", "0 to 1", "one of: A, B".</summary>
    public string Description { get; }

    /// <summary>Any value of the key's type.</summary>
    public static ConfigRange Any { get; } = new("any", null, null, null);

    /// <summary>Numbers x ≥ <paramref name="min"/>.</summary>
    public static ConfigRange AtLeast(double min) => new($"≥ {Num(min)}", x => x >= min, null, null);

    /// <summary>Numbers x &gt; <paramref name="min"/>.</summary>
    public static ConfigRange Above(double min) => new($"> {Num(min)}", x => x > min, null, null);

    /// <summary>Numbers <paramref name="lo"/> ≤ x ≤ <paramref name="hi"/>.</summary>
    public static ConfigRange Between(double lo, double hi) => new($"{Num(lo)} to {Num(hi)}", x => x >= lo && x <= hi, null, null);

    /// <summary>The number <paramref name="value"/> only.</summary>
    public static ConfigRange Exactly(double value) => new($"{Num(value)} only", x => x == value, null, null);

    /// <summary>One of <paramref name="names"/> (letter case ignored); messages call a name a <paramref name="noun"/>.</summary>
    public static ConfigRange OneOf(string noun, IReadOnlyList<string> names) =>
        new("one of: " + string.Join(", ", names), null, s => names.Contains(s, StringComparer.OrdinalIgnoreCase), () => names, noun);

    /// <summary>Strings accepted by <paramref name="accepts"/>; <paramref name="valid"/> lists them for messages, which call a name a <paramref name="noun"/>.</summary>
    public static ConfigRange Named(string description, string noun, Func<string, bool> accepts, Func<IEnumerable<string>> valid) =>
        new(description, null, accepts, valid, noun);

    /// <summary>Strings accepted by <paramref name="accepts"/> (free text such as file paths).</summary>
    public static ConfigRange Text(string description, Func<string, bool> accepts) => new(description, null, accepts, null);

    internal bool Accepts(double x) => _number is null || _number(x);

    internal bool Accepts(string s) => _text is null || _text(s);

    internal IEnumerable<string> ValidNames => _names?.Invoke() ?? [];

    internal bool HasNames => _names is not null;

    internal static string Num(double x) => x.ToString("R", CultureInfo.InvariantCulture);
}

/// <summary>One key of a run kind: its dotted path, type, range, default and meaning.</summary>
/// <param name="Path">Dotted key path, e.g. <c>agent.rollout_steps</c>.</param>
/// <param name="Type">The value's JSON type.</param>
/// <param name="Range">The values accepted.</param>
/// <param name="Default">The value used when the key is absent, as docs show it; null when the key is required.</param>
/// <param name="Meaning">One line: what the key does.</param>
public sealed record ConfigKey(string Path, ConfigType Type, ConfigRange Range, string? Default, string Meaning)
{
    /// <summary>True when a configuration must give the key.</summary>
    public bool Required => Default is null;
}

/// <summary>A key the reference's files carry that nothing here reads; accepted with any value.</summary>
/// <param name="Path">Dotted key path (the key and everything below it are accepted).</param>
/// <param name="Reason">Why it is ignored.</param>
public sealed record IgnoredKey(string Path, string Reason);

/// <summary>A second name for a section: keys under <see cref="Alias"/> are read as those under <see cref="Canonical"/>.</summary>
/// <param name="Alias">The other section name, e.g. <c>optim</c>.</param>
/// <param name="Canonical">The section the schema lists, e.g. <c>agent_optim</c>.</param>
/// <param name="Reason">Where the other name comes from.</param>
public sealed record ConfigAlias(string Alias, string Canonical, string Reason);

/// <summary>A rule between keys (or about resources), checked after every key's own type and range.</summary>
/// <param name="Description">One line for the documentation.</param>
/// <param name="Check">Throws a <see cref="ConfigException"/> when the rule is broken.</param>
public sealed record ConfigRule(string Description, Action<ConfigRuleContext> Check);

/// <summary>What a <see cref="ConfigRule"/> sees: the run (already checked key by key), the task count and the checks asked for.</summary>
public sealed class ConfigRuleContext
{
    private readonly Func<string, string> _actual;

    internal ConfigRuleContext(RunConfig run, RunKind kind, int tasks, ConfigChecks checks, Func<string, string> actual)
    {
        Run = run;
        Kind = kind;
        Tasks = tasks;
        Checks = checks;
        _actual = actual;
    }

    /// <summary>The resolved configuration.</summary>
    public RunConfig Run { get; }

    /// <summary>The run kind being checked.</summary>
    public RunKind Kind { get; }

    /// <summary>Number of tasks (entries of <c>env.name</c>); 1 when the kind has no environment.</summary>
    public int Tasks { get; }

    /// <summary>The checks asked for.</summary>
    public ConfigChecks Checks { get; }

    /// <summary>The path as the file spells it (an alias such as <c>optim</c> when the file uses one).</summary>
    public string Path(string canonical) => _actual(canonical);

    /// <summary>The value of an integer key, or its default.</summary>
    public int Int(string key) => Run.Has(Path(key)) ? Run.GetInt(Path(key)) : int.Parse(Kind.Key(key).Default!, CultureInfo.InvariantCulture);

    /// <summary>The value of a 64-bit integer key (required keys only).</summary>
    public long Long(string key) => Run.GetLong(Path(key));

    /// <summary>The value of a number key, or <paramref name="absent"/>.</summary>
    public double Double(string key, double absent) => Run.GetDouble(Path(key), absent);

    /// <summary>The value of a string key, or <paramref name="absent"/>.</summary>
    public string String(string key, string absent = "") => Run.GetString(Path(key), absent);

    /// <summary>The per-task values of an integer key (or its default for every task).</summary>
    public int[] IntPerTask(string key) => Run.Has(Path(key))
        ? Run.GetIntPerTask(Path(key), Tasks)
        : Enumerable.Repeat(int.Parse(Kind.Key(key).Default!, CultureInfo.InvariantCulture), Tasks).ToArray();

    /// <summary>A one-line error naming <paramref name="key"/> (as the file spells it).</summary>
    public ConfigException Error(string key, string problem) => new($"config key '{Path(key)}' {problem}");
}

/// <summary>
/// The keys one agent name (<c>agent.name</c>) reads, the keys it accepts and ignores, its aliases and
/// its rules between keys.
/// </summary>
public sealed class RunKind
{
    private readonly Dictionary<string, ConfigKey> _byPath;

    /// <summary>Creates a run kind.</summary>
    public RunKind(string agent, string description, IReadOnlyList<ConfigKey> keys, IReadOnlyList<IgnoredKey> ignored,
        IReadOnlyList<ConfigAlias> aliases, IReadOnlyList<ConfigRule> rules)
    {
        Agent = agent;
        Description = description;
        Keys = keys;
        Ignored = ignored;
        Aliases = aliases;
        Rules = rules;
        _byPath = keys.ToDictionary(k => k.Path, StringComparer.Ordinal);
        Sections = keys.SelectMany(k => Prefixes(k.Path)).Distinct(StringComparer.Ordinal).ToArray();
    }

    /// <summary>The agent name (<c>agent.name</c>).</summary>
    public string Agent { get; }

    /// <summary>One line: what this kind of run does.</summary>
    public string Description { get; }

    /// <summary>Every key the run reads, in documentation order.</summary>
    public IReadOnlyList<ConfigKey> Keys { get; }

    /// <summary>Keys accepted and ignored.</summary>
    public IReadOnlyList<IgnoredKey> Ignored { get; }

    /// <summary>Other names of sections.</summary>
    public IReadOnlyList<ConfigAlias> Aliases { get; }

    /// <summary>Rules between keys, checked in order.</summary>
    public IReadOnlyList<ConfigRule> Rules { get; }

    /// <summary>The objects that hold keys (<c>env</c>, <c>agent_optim.kwargs</c>, …).</summary>
    public IReadOnlyList<string> Sections { get; }

    /// <summary>The key at <paramref name="path"/>.</summary>
    /// <exception cref="KeyNotFoundException">This kind has no such key.</exception>
    public ConfigKey Key(string path) => _byPath[path];

    /// <summary>True when this kind reads <paramref name="path"/>.</summary>
    public bool HasKey(string path) => _byPath.ContainsKey(path);

    private static IEnumerable<string> Prefixes(string path)
    {
        for (int i = path.IndexOf('.', StringComparison.Ordinal); i >= 0; i = path.IndexOf('.', i + 1))
        {
            yield return path[..i];
        }
    }
}

/// <summary>
/// One configuration schema per run kind (<see cref="ConfigKeys.Kinds"/>): every key the runners read
/// with its type, range, default and meaning; keys accepted and ignored; section aliases; rules
/// between keys. <see cref="Validate"/> checks a resolved configuration against it before a run
/// writes anything, and <see cref="Markdown"/> writes docs/configs.md from it.
/// </summary>
public static class ConfigSchema
{
    /// <summary>Where the generated reference lives, relative to the repository root.</summary>
    public const string DocsPath = "docs/configs.md";

    /// <summary>Every run kind, in the order of <see cref="ExperimentRunner.AgentNames"/>.</summary>
    public static IReadOnlyList<RunKind> Kinds => ConfigKeys.Kinds;

    /// <summary>The schema of agent name <paramref name="agent"/>.</summary>
    /// <exception cref="ConfigException">The name is the reference's STAR agent or unknown (the message names the closest valid one).</exception>
    public static RunKind For(string agent)
    {
        ArgumentNullException.ThrowIfNull(agent);
        foreach (var kind in Kinds)
        {
            if (kind.Agent == agent) return kind;
        }

        if (agent.EndsWith("star", StringComparison.Ordinal) && Kinds.Any(k => k.Agent == agent[..^4]))
        {
            throw new ConfigException($"config key 'agent.name': '{agent}' is the reference's STAR agent; here every learned optimizer, STAR included, runs with '{agent[..^4]}' (set agent_optim.name to \"STAR\"; see configs/meta_star_catch.json).");
        }

        var names = Kinds.Select(k => k.Agent).ToArray();
        throw new ConfigException($"config key 'agent.name': unknown agent '{agent}'{DidYouMean(agent, names)}. Valid: {string.Join(", ", names)}.");
    }

    /// <summary>
    /// Checks a resolved configuration against the schema of its agent: every key is known (or
    /// ignored, or under an alias), required keys are present, every value has its type and range,
    /// and the kind's rules hold. With <see cref="ConfigChecks.Files"/> the φ files it names are read;
    /// with <see cref="ConfigChecks.Memory"/> the memory estimate is compared with the memory available.
    /// </summary>
    /// <exception cref="ConfigException">The first problem found, in one line naming the key path.</exception>
    /// <exception cref="IOException">With <see cref="ConfigChecks.Files"/>: a φ file is missing or unusable (<c>MetaParamsFileException</c>).</exception>
    public static void Validate(RunConfig run, ConfigChecks checks = ConfigChecks.Static)
    {
        ArgumentNullException.ThrowIfNull(run);
        JsonObject root = run.ToJsonObject();
        RunKind kind = For(run.GetString("agent.name"));

        // Aliases: a section may be given under one of its names, not both.
        var used = new Dictionary<string, string>(StringComparer.Ordinal); // canonical → actual
        foreach (var alias in kind.Aliases)
        {
            if (root.ContainsKey(alias.Alias))
            {
                if (root.ContainsKey(alias.Canonical))
                {
                    throw new ConfigException($"config keys '{alias.Alias}' and '{alias.Canonical}' name the same section for {kind.Agent}; give only one of them.");
                }

                used[alias.Canonical] = alias.Alias;
            }
        }

        string Actual(string canonical)
        {
            int dot = canonical.IndexOf('.', StringComparison.Ordinal);
            string head = dot < 0 ? canonical : canonical[..dot];
            return used.TryGetValue(head, out string? alias) ? alias + canonical[head.Length..] : canonical;
        }

        string Canonical(string actual)
        {
            int dot = actual.IndexOf('.', StringComparison.Ordinal);
            string head = dot < 0 ? actual : actual[..dot];
            foreach (var (canonical, alias) in used)
            {
                if (alias == head) return canonical + actual[head.Length..];
            }

            return actual;
        }

        CheckKnownKeys(kind, root, "", Canonical, Actual);

        int tasks = 1;
        foreach (var key in kind.Keys)
        {
            string path = Actual(key.Path);
            JsonNode? node = Find(root, path, out bool found);
            if (!found)
            {
                if (key.Required)
                {
                    string also = path != key.Path ? "" : AliasNote(kind, key.Path);
                    throw new ConfigException($"config key '{path}' is missing: {kind.Agent} needs it ({key.Meaning}){also}.");
                }

                continue;
            }

            CheckValue(key, path, node, tasks);
            if (key.Path == "env.name")
            {
                tasks = run.GetStringList(path).Count;
            }
        }

        var context = new ConfigRuleContext(run, kind, tasks, checks, Actual);
        foreach (var rule in kind.Rules)
        {
            rule.Check(context);
        }
    }

    /// <summary>The text of docs/configs.md: one table per run kind, its rules, ignored keys and aliases.</summary>
    public static string Markdown()
    {
        var sb = new StringBuilder();
        sb.Append("# Configuration reference\n\n");
        sb.Append("<!-- Generated from src/Optim4RL.Experiments/Experiments/ConfigKeys.cs by ConfigSchema.Markdown(); do not edit by hand.\n");
        sb.Append("     Regenerate with: OPTIM4RL_REGEN_DOCS=1 dotnet test tests/Optim4RL.Tests -c Release --filter ConfigDocsTests -->\n\n");
        sb.Append("Every key a run reads, per agent name (`agent.name`). Files are sweeps (see configs/README.md): each value\n");
        sb.Append("below is one alternative of a key's list. A run checks its configuration against this schema before it\n");
        sb.Append("writes anything: an unknown key (with the closest valid one), a missing required key, a value of the wrong\n");
        sb.Append("type or out of range, or a broken rule is a one-line error. `optim4rl sweep --config F` checks every index it\n");
        sb.Append("lists or runs.\n\n");
        sb.Append("Types: *integer* is −2147483648 to 2147483647 (5e5 is accepted when integral), *integer64* a 64-bit integer,\n");
        sb.Append("*number* a finite number, *boolean* true/false (or 1/0), *per task* one value for every task of `env.name` or\n");
        sb.Append("a list with one value per task.\n\n");
        sb.Append("Memory: before a run starts, the memory its buffers need is estimated (`MemoryEstimate`: network size,\n");
        sb.Append("learned-optimizer state, rollout buffers, times `env.num_envs`) and compared with the memory available to the\n");
        sb.Append("process; a larger estimate is an error that names it. `optim4rl run --force` (and `sweep --run --force`) skips\n");
        sb.Append("that comparison; sizes beyond what one .NET array can hold stay errors.\n\n");
        sb.Append("Run kinds: ").Append(string.Join(", ", Kinds.Select(k => $"[{k.Agent}](#{k.Agent.ToLowerInvariant()})"))).Append(".\n");
        foreach (var kind in Kinds)
        {
            sb.Append("\n## ").Append(kind.Agent).Append("\n\n").Append(kind.Description).Append("\n\n");
            sb.Append("| key | type | range | default | meaning |\n|---|---|---|---|---|\n");
            foreach (var key in kind.Keys)
            {
                sb.Append("| `").Append(key.Path).Append("` | ").Append(TypeName(key.Type)).Append(" | ").Append(Cell(key.Range.Description))
                  .Append(" | ").Append(key.Default is null ? "**required**" : Cell(key.Default)).Append(" | ").Append(Cell(key.Meaning)).Append(" |\n");
            }

            if (kind.Rules.Count > 0)
            {
                sb.Append("\nRules:\n\n");
                foreach (var rule in kind.Rules) sb.Append("- ").Append(rule.Description).Append('\n');
            }

            if (kind.Ignored.Count > 0)
            {
                sb.Append("\nAccepted and ignored:\n\n");
                foreach (var ignored in kind.Ignored) sb.Append("- `").Append(ignored.Path).Append("`: ").Append(ignored.Reason).Append('\n');
            }

            if (kind.Aliases.Count > 0)
            {
                sb.Append("\nAliases:\n\n");
                foreach (var alias in kind.Aliases)
                    sb.Append("- `").Append(alias.Alias).Append("` = `").Append(alias.Canonical).Append("`: ").Append(alias.Reason).Append('\n');
            }
        }

        sb.Append("\n## Aliases of the optimizer section\n\n").Append(ConfigKeys.AliasNotes).Append('\n');
        return sb.ToString();
    }

    /// <summary>The Levenshtein distance between two strings (insertions, deletions, substitutions).</summary>
    public static int EditDistance(string a, string b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) previous[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int substitute = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
                current[j] = Math.Min(substitute, Math.Min(previous[j] + 1, current[j - 1] + 1));
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }

    /// <summary>The candidate closest to <paramref name="text"/> by <see cref="EditDistance"/> (letter case ignored; first on ties); null when there is none.</summary>
    public static string? Closest(string text, IEnumerable<string> candidates)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(candidates);
        string? best = null;
        int bestDistance = int.MaxValue;
        string lower = text.ToLowerInvariant();
        string leaf = lower[(lower.LastIndexOf('.') + 1)..];
        foreach (string candidate in candidates)
        {
            string c = candidate.ToLowerInvariant();
            // A key written at the wrong level ("entropy_weight" for "agent.entropy_weight") is close too.
            int distance = Math.Min(EditDistance(lower, c), EditDistance(leaf, c[(c.LastIndexOf('.') + 1)..]) + 1);
            if (distance < bestDistance)
            {
                best = candidate;
                bestDistance = distance;
            }
        }

        return best;
    }

    internal static string DidYouMean(string text, IEnumerable<string> candidates) =>
        Closest(text, candidates) is { } c ? $" (did you mean '{c}'?)" : "";

    internal static string TypeName(ConfigType type) => type switch
    {
        ConfigType.Integer => "integer",
        ConfigType.Integer64 => "integer64",
        ConfigType.Number => "number",
        ConfigType.Boolean => "boolean",
        ConfigType.String => "string",
        ConfigType.StringList => "string or list of strings",
        ConfigType.IntegerList => "integer or list of integers",
        ConfigType.NumberPerTask => "number, per task",
        ConfigType.IntegerPerTask => "integer, per task",
        _ => type.ToString(),
    };

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal);

    private static string AliasNote(RunKind kind, string path)
    {
        foreach (var alias in kind.Aliases)
        {
            if (path.StartsWith(alias.Canonical + ".", StringComparison.Ordinal))
                return $" (or '{alias.Alias}{path[alias.Canonical.Length..]}')";
        }

        return "";
    }

    /// <summary>Every key path in the file is a key, a section holding keys, or an ignored key.</summary>
    private static void CheckKnownKeys(RunKind kind, JsonObject obj, string prefix, Func<string, string> canonical, Func<string, string> actual)
    {
        foreach (var (name, value) in obj)
        {
            string path = prefix + name;
            string c = canonical(path);
            if (kind.Ignored.Any(i => c == i.Path || c.StartsWith(i.Path + ".", StringComparison.Ordinal)))
            {
                continue;
            }

            if (kind.HasKey(c))
            {
                continue; // its value is checked with the key
            }

            if (kind.Sections.Contains(c))
            {
                if (value is not JsonObject child)
                {
                    var inside = kind.Keys.Where(k => k.Path.StartsWith(c + ".", StringComparison.Ordinal)).Select(k => actual(k.Path)).Take(3);
                    throw new ConfigException($"config key '{path}' must be an object of keys ({string.Join(", ", inside)}, ...), found {JsonText.Describe(value)}");
                }

                CheckKnownKeys(kind, child, path + ".", canonical, actual);
                continue;
            }

            var candidates = kind.Keys.Select(k => actual(k.Path)).Concat(kind.Sections.Select(actual)).Concat(kind.Ignored.Select(i => i.Path));
            string hint = OptimizerSectionOf(kind, path, c, actual) is { } other ? $" (did you mean '{other}'?)" : DidYouMean(path, candidates);
            throw new ConfigException($"config key '{path}' is not a key of {kind.Agent} configs{hint}; every key is listed in {DocsPath}.");
        }
    }

    /// <summary>
    /// The agent's optimizer goes by three section names across the kinds (agent_optim, PPO's optim,
    /// SLCollect's optimizer): for a path under one this kind does not read, the same path under the one it does.
    /// </summary>
    private static string? OptimizerSectionOf(RunKind kind, string path, string canonical, Func<string, string> actual)
    {
        string[] names = ["agent_optim", "optim", "optimizer"];
        int dot = path.IndexOf('.', StringComparison.Ordinal);
        string head = dot < 0 ? path : path[..dot];
        int canonicalDot = canonical.IndexOf('.', StringComparison.Ordinal);
        if (!names.Contains(head) || kind.Sections.Contains(canonicalDot < 0 ? canonical : canonical[..canonicalDot])) return null;
        foreach (string name in names)
        {
            if (name != head && kind.Sections.Contains(name)) return actual(name) + path[head.Length..];
        }

        return null;
    }

    private static JsonNode? Find(JsonObject root, string path, out bool found)
    {
        JsonNode? node = root;
        foreach (string part in path.Split('.'))
        {
            if (node is not JsonObject obj || !obj.TryGetPropertyValue(part, out node))
            {
                found = false;
                return null;
            }
        }

        found = true;
        return node;
    }

    private static void CheckValue(ConfigKey key, string path, JsonNode? node, int tasks)
    {
        switch (key.Type)
        {
            case ConfigType.Integer:
            case ConfigType.Integer64:
            case ConfigType.Number:
                CheckNumber(key, path, node, "", node);
                break;
            case ConfigType.Boolean:
                if (!IsBoolean(node)) throw Expected(path, "a boolean (true or false)", node);
                break;
            case ConfigType.String:
                CheckString(key, path, node, "a string", node);
                break;
            case ConfigType.StringList:
                foreach (var item in Items(path, node, "a string or a non-empty list of strings", -1))
                    CheckString(key, path, item, "a string or a non-empty list of strings", node);
                break;
            case ConfigType.IntegerList:
                foreach (var item in Items(path, node, "an integer or a non-empty list of integers", -1))
                    CheckNumber(key, path, item, " or a non-empty list of integers", node);
                break;
            case ConfigType.NumberPerTask:
                foreach (var item in Items(path, node, "a number or a list with one number per task", tasks))
                    CheckNumber(key, path, item, " or a list with one number per task", node);
                break;
            case ConfigType.IntegerPerTask:
                foreach (var item in Items(path, node, "an integer or a list with one integer per task", tasks))
                    CheckNumber(key, path, item, " or a list with one integer per task", node);
                break;
        }
    }

    private static IEnumerable<JsonNode?> Items(string path, JsonNode? node, string expected, int tasks)
    {
        if (node is not JsonArray array) return [node];
        if (array.Count == 0) throw Expected(path, expected, node);
        if (tasks > 0 && array.Count != tasks)
        {
            string t = tasks == 1 ? "1 task" : $"{tasks} tasks";
            throw new ConfigException($"config key '{path}' has {array.Count} values but env.name has {t}; give one value or one per task");
        }

        return array;
    }

    private static void CheckString(ConfigKey key, string path, JsonNode? item, string expected, JsonNode? whole)
    {
        if (item is not JsonValue v || v.GetValueKind() != JsonValueKind.String) throw Expected(path, expected, whole);
        string s = v.GetValue<string>();
        if (key.Range.Accepts(s)) return;
        if (key.Range.HasNames)
        {
            var names = key.Range.ValidNames.ToArray();
            throw new ConfigException($"config key '{path}': unknown {key.Range.Noun} '{s}'{DidYouMean(s, names)}. Valid: {string.Join(", ", names)}.");
        }

        throw new ConfigException($"config key '{path}' is out of range: it must be {key.Range.Description}, found {JsonText.Describe(item)}");
    }

    private static void CheckNumber(ConfigKey key, string path, JsonNode? item, string listSuffix, JsonNode? whole)
    {
        bool integer = key.Type is ConfigType.Integer or ConfigType.Integer64 or ConfigType.IntegerList or ConfigType.IntegerPerTask;
        string expected = (integer ? "an integer" : "a number") + listSuffix;
        if (item is not JsonValue v || v.GetValueKind() != JsonValueKind.Number ||
            !double.TryParse(v.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out double x))
        {
            throw Expected(path, expected, whole);
        }

        string range = key.Range.Description;
        if (!double.IsFinite(x))
        {
            throw OutOfRange(path, range == "any" ? "a finite number" : range, item);
        }

        if (integer)
        {
            // 2^63 is exactly representable; a 64-bit integer lies strictly below it.
            bool fits = key.Type == ConfigType.Integer64
                ? long.TryParse(v.ToJsonString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out _) || (x >= -9.2233720368547758E18 && x < 9.2233720368547758E18)
                : x >= int.MinValue && x <= int.MaxValue;
            if (!fits || !key.Range.Accepts(x))
            {
                string limits = key.Type == ConfigType.Integer64 ? "a 64-bit integer" : "an integer up to 2147483647";
                throw OutOfRange(path, range == "any" ? limits : $"{range} ({limits})", item);
            }

            if (x != Math.Floor(x)) throw Expected(path, expected, whole);
            return;
        }

        if (!key.Range.Accepts(x)) throw OutOfRange(path, range, item);
    }

    private static bool IsBoolean(JsonNode? node) =>
        node is JsonValue v && (v.GetValueKind() is JsonValueKind.True or JsonValueKind.False ||
                                (v.GetValueKind() == JsonValueKind.Number && v.ToJsonString() is "0" or "1"));

    private static ConfigException Expected(string path, string expected, JsonNode? found) =>
        new($"config key '{path}' must be {expected}, found {JsonText.Describe(found)}");

    private static ConfigException OutOfRange(string path, string range, JsonNode? found) =>
        new($"config key '{path}' is out of range: it must be {range}, found {JsonText.Describe(found)}");
}
