using System.Text.Json;
using System.Text.Json.Nodes;

namespace Optim4RL.Experiments;

/// <summary>
/// A typed, read-only view over one resolved configuration (see <see cref="SweepConfig.Resolve"/>).
/// Values are addressed by dotted key paths such as <c>"agent_optim.kwargs.learning_rate"</c>.
/// Every getter that finds a value of the wrong type throws a <see cref="ConfigException"/>
/// whose one-line message names the key path, the expected type and what was found.
/// </summary>
/// <remarks>
/// <para>Numbers written with an exponent (<c>5e5</c>, <c>3e7</c>) are accepted where an integer
/// is expected when they are integral and in range. Booleans accept <c>true</c>/<c>false</c> and
/// also the integers 0 and 1 (the reference's <c>save_param</c> default is 0).</para>
/// <para>Per-task values (reward_scaling, learning_rate, reset_interval) may be one value for
/// every task or a list with one value per task; see <see cref="GetDoublePerTask(string, int)"/>.</para>
/// <para>The convention: docs/experiment-configs.md.</para>
/// </remarks>
public sealed class RunConfig
{
    private readonly JsonObject _values;
    private readonly string _prefix;

    /// <summary>Wraps a resolved configuration (the object is deep-copied).</summary>
    /// <param name="values">The plain resolved configuration.</param>
    /// <param name="experiment">The experiment name (the sweep file's name without <c>.json</c>).</param>
    /// <param name="configIdx">The positive 1-based configuration index k of this run.</param>
    /// <param name="total">The number of configurations in the sweep.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="configIdx"/> or <paramref name="total"/> is below 1.</exception>
    public RunConfig(JsonObject values, string experiment = "", int configIdx = 1, int total = 1)
        : this((JsonObject)(values ?? throw new ArgumentNullException(nameof(values))).DeepClone(), "", experiment, configIdx, total)
    {
    }

    private RunConfig(JsonObject values, string prefix, string experiment, int configIdx, int total)
    {
        ArgumentNullException.ThrowIfNull(experiment);
        ArgumentOutOfRangeException.ThrowIfLessThan(configIdx, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(total, 1);
        _values = values;
        _prefix = prefix;
        Experiment = experiment;
        ConfigIdx = configIdx;
        Total = total;
    }

    /// <summary>The experiment name (the sweep file's name without <c>.json</c>); empty when unknown.</summary>
    public string Experiment { get; }

    /// <summary>The positive 1-based configuration index k of this run.</summary>
    public int ConfigIdx { get; }

    /// <summary>The number of configurations in the sweep this run came from.</summary>
    public int Total { get; }

    /// <summary>The keys at this level, in file order.</summary>
    public IEnumerable<string> Keys => _values.Select(p => p.Key);

    /// <summary>The seed of this run: <see cref="Seed(int)"/> of <see cref="ConfigIdx"/>.</summary>
    /// <exception cref="ConfigException">As for <see cref="Seed(int)"/>.</exception>
    public ulong RunSeed => Seed(ConfigIdx);

    /// <summary>A deep copy of the underlying values.</summary>
    public JsonObject ToJsonObject() => (JsonObject)_values.DeepClone();

    /// <summary>
    /// A view of the object at <paramref name="path"/>; its error messages keep the full key path
    /// (e.g. <c>Section("agent_optim").GetDouble("kwargs.learning_rate")</c> reports
    /// <c>'agent_optim.kwargs.learning_rate'</c>).
    /// </summary>
    /// <exception cref="ConfigException">The key is missing or is not an object.</exception>
    public RunConfig Section(string path)
    {
        JsonNode? node = Require(path);
        if (node is not JsonObject obj)
        {
            throw TypeError(path, "an object", node);
        }

        return new RunConfig(obj, FullPath(path) + ".", Experiment, ConfigIdx, Total);
    }

    /// <summary>True when the key path exists (its value may be any JSON value, null included).</summary>
    public bool Has(string path) => TryFind(path, out _);

    /// <summary>The string at the key path.</summary>
    /// <exception cref="ConfigException">Missing, or not a string.</exception>
    public string GetString(string path) => AsString(path, Require(path));

    /// <summary>The string at the key path, or <paramref name="defaultValue"/> when the key is absent.</summary>
    /// <exception cref="ConfigException">Present but not a string.</exception>
    public string GetString(string path, string defaultValue) =>
        TryFind(path, out JsonNode? node) ? AsString(path, node) : defaultValue;

    /// <summary>The number at the key path.</summary>
    /// <exception cref="ConfigException">Missing, or not a number.</exception>
    public double GetDouble(string path) => AsDouble(path, Require(path), "a number");

    /// <summary>The number at the key path, or <paramref name="defaultValue"/> when the key is absent.</summary>
    /// <exception cref="ConfigException">Present but not a number.</exception>
    public double GetDouble(string path, double defaultValue) =>
        TryFind(path, out JsonNode? node) ? AsDouble(path, node, "a number") : defaultValue;

    /// <summary>The integer at the key path (integral numbers such as <c>5e5</c> are accepted).</summary>
    /// <exception cref="ConfigException">Missing, not a number, not integral, or outside the range of <see cref="int"/>.</exception>
    public int GetInt(string path) => AsInt(path, Require(path), "an integer");

    /// <summary>The integer at the key path, or <paramref name="defaultValue"/> when the key is absent.</summary>
    /// <exception cref="ConfigException">Present but not an integer.</exception>
    public int GetInt(string path, int defaultValue) =>
        TryFind(path, out JsonNode? node) ? AsInt(path, node, "an integer") : defaultValue;

    /// <summary>The 64-bit integer at the key path (integral numbers such as <c>1e9</c> are accepted).</summary>
    /// <exception cref="ConfigException">Missing, not a number, not integral, or outside the range of <see cref="long"/>.</exception>
    public long GetLong(string path) => AsLong(path, Require(path), "an integer");

    /// <summary>The 64-bit integer at the key path, or <paramref name="defaultValue"/> when the key is absent.</summary>
    /// <exception cref="ConfigException">Present but not an integer.</exception>
    public long GetLong(string path, long defaultValue) =>
        TryFind(path, out JsonNode? node) ? AsLong(path, node, "an integer") : defaultValue;

    /// <summary>The boolean at the key path (<c>true</c>, <c>false</c>, or the integers 1 and 0).</summary>
    /// <exception cref="ConfigException">Missing, or not a boolean.</exception>
    public bool GetBool(string path) => AsBool(path, Require(path));

    /// <summary>The boolean at the key path, or <paramref name="defaultValue"/> when the key is absent.</summary>
    /// <exception cref="ConfigException">Present but not a boolean.</exception>
    public bool GetBool(string path, bool defaultValue) =>
        TryFind(path, out JsonNode? node) ? AsBool(path, node) : defaultValue;

    /// <summary>A single string or a list of strings at the key path, as a list (e.g. <c>env.name</c>).</summary>
    /// <exception cref="ConfigException">Missing, an empty list, or not a string / list of strings.</exception>
    public IReadOnlyList<string> GetStringList(string path) =>
        AsList(path, Require(path), "a string or a list of strings", (p, n) => AsString(p, n, "a string or a list of strings"));

    /// <summary>A single number or a list of numbers at the key path, as a list.</summary>
    /// <exception cref="ConfigException">Missing, an empty list, or not a number / list of numbers.</exception>
    public IReadOnlyList<double> GetDoubleList(string path) =>
        AsList(path, Require(path), "a number or a list of numbers", (p, n) => AsDouble(p, n, "a number or a list of numbers"));

    /// <summary>A single integer or a list of integers at the key path, as a list.</summary>
    /// <exception cref="ConfigException">Missing, an empty list, or not an integer / list of integers.</exception>
    public IReadOnlyList<int> GetIntList(string path) =>
        AsList(path, Require(path), "an integer or a list of integers", (p, n) => AsInt(p, n, "an integer or a list of integers"));

    /// <summary>
    /// A per-task number: one number shared by all <paramref name="taskCount"/> tasks, or a list with
    /// exactly one number per task (e.g. <c>env.reward_scaling</c>, <c>agent_optim.kwargs.learning_rate</c>).
    /// </summary>
    /// <exception cref="ConfigException">Missing, wrong type, or a list whose length is not <paramref name="taskCount"/>.</exception>
    public double[] GetDoublePerTask(string path, int taskCount) =>
        PerTask(path, GetDoubleList(path), taskCount, Require(path) is JsonArray);

    /// <summary>Like <see cref="GetDoublePerTask(string, int)"/>, with <paramref name="defaultValue"/> for every task when the key is absent.</summary>
    /// <exception cref="ConfigException">Present but of the wrong type or length.</exception>
    public double[] GetDoublePerTask(string path, int taskCount, double defaultValue) =>
        Has(path) ? GetDoublePerTask(path, taskCount) : Enumerable.Repeat(defaultValue, CheckTasks(taskCount)).ToArray();

    /// <summary>A per-task integer: one integer for all tasks, or one per task (e.g. <c>agent.reset_interval</c>).</summary>
    /// <exception cref="ConfigException">Missing, wrong type, or a list whose length is not <paramref name="taskCount"/>.</exception>
    public int[] GetIntPerTask(string path, int taskCount) =>
        PerTask(path, GetIntList(path), taskCount, Require(path) is JsonArray);

    /// <summary>Like <see cref="GetIntPerTask(string, int)"/>, with <paramref name="defaultValue"/> for every task when the key is absent.</summary>
    /// <exception cref="ConfigException">Present but of the wrong type or length.</exception>
    public int[] GetIntPerTask(string path, int taskCount, int defaultValue) =>
        Has(path) ? GetIntPerTask(path, taskCount) : Enumerable.Repeat(defaultValue, CheckTasks(taskCount)).ToArray();

    /// <summary>
    /// The seed of run <paramref name="configIdx"/>. Rule: when <c>generate_random_seed</c> is true,
    /// seed_k = <c>seed</c> + (k − 1); otherwise (false or absent) seed_k = <c>seed</c>. So every
    /// index of a sweep — different configurations and the repeats k, k + Total, … alike — gets its
    /// own, repeatable seed, replacing the reference's non-repeatable random draw.
    /// </summary>
    /// <param name="configIdx">The positive 1-based index (see <see cref="SweepConfig.NormalizeIndex"/>).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="configIdx"/> is below 1.</exception>
    /// <exception cref="ConfigException"><c>seed</c> is missing or not a non-negative integer,
    /// or <c>generate_random_seed</c> is not a boolean.</exception>
    public ulong Seed(int configIdx)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(configIdx, 1);
        long baseSeed = GetLong("seed");
        if (baseSeed < 0)
        {
            throw new ConfigException($"config key '{FullPath("seed")}' must be a non-negative integer, found number {baseSeed}");
        }

        bool derive = GetBool("generate_random_seed", false);
        return derive ? (ulong)baseSeed + (ulong)(configIdx - 1) : (ulong)baseSeed;
    }

    /// <summary>
    /// The run's <c>config.json</c> text: every resolved key in order with <c>seed</c> replaced by
    /// <see cref="RunSeed"/>, followed by <c>base_seed</c> (the file's seed), <c>config_idx</c>,
    /// <c>num_combinations</c> and <c>exp</c>. Indented, UTF-8 friendly.
    /// </summary>
    /// <exception cref="ConfigException">As for <see cref="Seed(int)"/>.</exception>
    public string ToConfigJson()
    {
        ulong seed = RunSeed;
        JsonObject copy = ToJsonObject();
        long baseSeed = GetLong("seed");
        copy["seed"] = seed;
        copy["base_seed"] = baseSeed;
        copy["config_idx"] = ConfigIdx;
        copy["num_combinations"] = Total;
        copy["exp"] = Experiment;
        return copy.ToJsonString(JsonText.Indented) + "\n";
    }

    /// <summary>Writes <see cref="ToConfigJson"/> atomically to <paramref name="path"/> (normally <see cref="RunDirectory.ConfigPath"/>).</summary>
    /// <exception cref="ConfigException">As for <see cref="Seed(int)"/>.</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public void WriteConfigJson(string path) => AtomicFile.WriteAllText(path, ToConfigJson());

    /// <inheritdoc/>
    public override string ToString() => _values.ToJsonString(JsonText.Indented);

    private static int CheckTasks(int taskCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(taskCount, 1);
        return taskCount;
    }

    private T[] PerTask<T>(string path, IReadOnlyList<T> values, int taskCount, bool wasList)
    {
        CheckTasks(taskCount);
        if (!wasList)
        {
            return Enumerable.Repeat(values[0], taskCount).ToArray();
        }

        if (values.Count != taskCount)
        {
            string tasks = taskCount == 1 ? "1 task" : $"{taskCount} tasks";
            throw new ConfigException(
                $"config key '{FullPath(path)}' has {values.Count} values but there are {tasks}; give one value or one per task");
        }

        return values.ToArray();
    }

    private string FullPath(string path) => _prefix + path;

    private bool TryFind(string path, out JsonNode? node)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string[] parts = path.Split('.');
        JsonObject current = _values;
        for (int i = 0; i < parts.Length; i++)
        {
            if (!current.TryGetPropertyValue(parts[i], out JsonNode? child))
            {
                node = null;
                return false;
            }

            if (i == parts.Length - 1)
            {
                node = child;
                return true;
            }

            if (child is not JsonObject obj)
            {
                string parent = FullPath(string.Join('.', parts, 0, i + 1));
                throw new ConfigException(
                    $"config key '{FullPath(path)}' cannot be read: '{parent}' must be an object, found {JsonText.Describe(child)}");
            }

            current = obj;
        }

        node = null;
        return false;
    }

    private JsonNode? Require(string path)
    {
        if (!TryFind(path, out JsonNode? node))
        {
            throw new ConfigException($"config key '{FullPath(path)}' is missing");
        }

        return node;
    }

    private ConfigException TypeError(string path, string expected, JsonNode? found) =>
        new($"config key '{FullPath(path)}' must be {expected}, found {JsonText.Describe(found)}");

    private string AsString(string path, JsonNode? node, string expected = "a string")
    {
        if (node is JsonValue value && value.GetValueKind() == JsonValueKind.String)
        {
            return value.GetValue<string>();
        }

        throw TypeError(path, expected, node);
    }

    private double AsDouble(string path, JsonNode? node, string expected)
    {
        if (node is JsonValue value && value.GetValueKind() == JsonValueKind.Number &&
            double.TryParse(value.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out double result) &&
            double.IsFinite(result))
        {
            return result;
        }

        throw TypeError(path, expected, node);
    }

    private long AsLong(string path, JsonNode? node, string expected)
    {
        if (node is JsonValue value && value.GetValueKind() == JsonValueKind.Number)
        {
            string text = value.ToJsonString();
            if (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long exact))
            {
                return exact;
            }

            // 2^63 is exactly representable; anything at or beyond it does not fit.
            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && d == Math.Floor(d))
            {
                if (d >= -9.2233720368547758E18 && d < 9.2233720368547758E18)
                {
                    return (long)d;
                }

                throw RangeError(path, expected + " between -9223372036854775808 and 9223372036854775807", node);
            }
        }

        throw TypeError(path, expected, node);
    }

    private ConfigException RangeError(string path, string expected, JsonNode? found) =>
        new($"config key '{FullPath(path)}' is out of range: it must be {expected}, found {JsonText.Describe(found)}");

    private int AsInt(string path, JsonNode? node, string expected)
    {
        long result = AsLong(path, node, expected);
        if (result < int.MinValue || result > int.MaxValue)
        {
            throw RangeError(path, expected + " between -2147483648 and 2147483647", node);
        }

        return (int)result;
    }

    private bool AsBool(string path, JsonNode? node)
    {
        if (node is JsonValue value)
        {
            switch (value.GetValueKind())
            {
                case JsonValueKind.True:
                    return true;
                case JsonValueKind.False:
                    return false;
                case JsonValueKind.Number:
                    string text = value.ToJsonString();
                    if (text == "0")
                    {
                        return false;
                    }

                    if (text == "1")
                    {
                        return true;
                    }

                    break;
            }
        }

        throw TypeError(path, "a boolean (true or false)", node);
    }

    private List<T> AsList<T>(string path, JsonNode? node, string expected, Func<string, JsonNode?, T> convert)
    {
        if (node is JsonArray array)
        {
            if (array.Count == 0)
            {
                throw TypeError(path, expected, node);
            }

            var result = new List<T>(array.Count);
            foreach (JsonNode? item in array)
            {
                try
                {
                    result.Add(convert(path, item));
                }
                catch (ConfigException e)
                {
                    throw new ConfigException($"config key '{FullPath(path)}' must be {expected}, found list {JsonText.Show(node)}", e);
                }
            }

            return result;
        }

        return [convert(path, node)];
    }
}
