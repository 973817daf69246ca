using System.Text.Json;
using System.Text.Json.Nodes;

namespace Optim4RL.Experiments;

/// <summary>
/// A sweep file: a JSON object whose every value is a list of alternatives. An alternative is
/// a plain value (number, string, boolean, null or a list — <c>[["catch"]]</c> is one
/// alternative whose value is <c>["catch"]</c>) or an object, itself swept the same way.
/// <see cref="Resolve"/> turns a 1-based configuration index into one plain configuration.
/// </summary>
/// <remarks>
/// <para>Counting: an object's count is the product over its keys of its lists' counts; a
/// list's count is the sum over its alternatives (1 for a plain value, the object's own count
/// for an object). <see cref="Total"/> is the root object's count.</para>
/// <para>Enumeration is mixed-radix in file order with the <b>first key varying fastest</b>:
/// for the 0-based index i and each key in order, the key takes alternative i mod count(key)
/// of its list and i becomes i div count(key). Inside a list the object alternatives take
/// consecutive ranges: alternative j covers the indices after those of alternatives 0..j−1,
/// and the offset within the range is resolved in the object the same way.</para>
/// <para>Index k is 1-based and selects i = (k − 1) mod <see cref="Total"/>, so k and
/// k + Total name the same configuration (repeats; runs differ only by their seed, see
/// <see cref="RunConfig.Seed(int)"/>). A negative k means k + Total + 1, so −1 is the last
/// configuration; 0 and k &lt; −Total are errors.</para>
/// <para>The convention: docs/experiment-configs.md; the reference's <c>utils/sweeper.py</c> (Sweeper).</para>
/// </remarks>
public sealed class SweepConfig
{
    private readonly SweepObject _root;

    private SweepConfig(SweepObject root, string name, string source)
    {
        _root = root;
        Name = name;
        Source = source;
        Total = root.Count;
    }

    /// <summary>
    /// The experiment name: the sweep file's name without <c>.json</c> (results of run k go to
    /// <c>logs/&lt;Name&gt;/k/</c>), or the name given to <see cref="Parse"/>.
    /// </summary>
    public string Name { get; }

    /// <summary>Where the text came from (the file path given to <see cref="Load"/>), for messages.</summary>
    public string Source { get; }

    /// <summary>The number of distinct configurations in the sweep (at least 1).</summary>
    public int Total { get; }

    /// <summary>Reads and checks a sweep file.</summary>
    /// <param name="path">Path of the JSON sweep file; its name without <c>.json</c> becomes <see cref="Name"/>.</param>
    /// <exception cref="ConfigException">The file is not valid JSON (the message gives line and
    /// position), its top level is not an object, a value is not a list of alternatives, a list
    /// is empty, a key repeats, or the sweep has more than <see cref="int.MaxValue"/> configurations.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static SweepConfig Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Trim().Length == 0) throw new ConfigException("the sweep file path is empty; give a file such as configs/a2c_catch.json.");
        if (Directory.Exists(path)) throw new ConfigException($"'{path}' is a folder; give a sweep file in it, such as {Path.Combine(path, "a2c_catch.json")}.");
        if (!File.Exists(path)) throw new ConfigException($"sweep file '{path}' does not exist; give a file such as configs/a2c_catch.json.");
        string text = File.ReadAllText(path);
        return Parse(text, RunDirectory.ExperimentName(path), path);
    }

    /// <summary>Parses and checks sweep text.</summary>
    /// <param name="json">The sweep file's text.</param>
    /// <param name="name">The experiment name to report as <see cref="Name"/>.</param>
    /// <param name="source">What to call the text in error messages (a file path, say).</param>
    /// <exception cref="ConfigException">As for <see cref="Load"/>.</exception>
    public static SweepConfig Parse(string json, string name = "sweep", string? source = null)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(name);
        source ??= name;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow });
        }
        catch (JsonException e)
        {
            long line = (e.LineNumber ?? 0) + 1;
            long position = (e.BytePositionInLine ?? 0) + 1;
            string reason = e.Message;
            int cut = reason.IndexOf(" LineNumber:", StringComparison.Ordinal);
            if (cut >= 0)
            {
                reason = reason[..cut];
            }

            throw new ConfigException($"{source}: invalid JSON at line {line}, position {position}: {reason}", e);
        }

        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new ConfigException(
                    $"{source}: a sweep file must be a JSON object of \"key\": [alternatives], found {JsonText.Describe(root)}");
            }

            return new SweepConfig(SweepObject.Build(root, "", source), name, source);
        }
    }

    /// <summary>
    /// Maps a configuration index to its positive form: k itself when k ≥ 1, k + Total + 1 when
    /// −Total ≤ k ≤ −1. The result names the run directory <c>logs/&lt;Name&gt;/&lt;result&gt;/</c>.
    /// </summary>
    /// <exception cref="ConfigException">k is 0 or below −Total.</exception>
    public int NormalizeIndex(int configIdx)
    {
        if (configIdx >= 1)
        {
            return configIdx;
        }

        if (configIdx == 0)
        {
            throw new ConfigException($"{Source}: config index 0 is invalid: indices start at 1 (negative indices count from the end, -1 is {Total})");
        }

        long k = (long)configIdx + Total + 1;
        if (k < 1)
        {
            throw new ConfigException($"{Source}: config index {configIdx} is out of range: negative indices go down to -{Total} (the number of configurations)");
        }

        return (int)k;
    }

    /// <summary>The 0-based combination i = (k − 1) mod Total selected by index k (after <see cref="NormalizeIndex"/>).</summary>
    /// <exception cref="ConfigException">k is 0 or below −Total.</exception>
    public int CombinationIndex(int configIdx) => (NormalizeIndex(configIdx) - 1) % Total;

    /// <summary>
    /// The plain configuration selected by 1-based index k: a fresh JSON object with the file's
    /// keys in file order, every value one chosen alternative (objects resolved recursively).
    /// k and k + Total give equal objects.
    /// </summary>
    /// <exception cref="ConfigException">k is 0 or below −Total.</exception>
    public JsonObject Resolve(int configIdx) => _root.Resolve(CombinationIndex(configIdx));

    /// <summary>
    /// Resolves index k and wraps it in a typed <see cref="RunConfig"/> that knows this
    /// experiment's <see cref="Name"/>, the positive index and <see cref="Total"/>.
    /// </summary>
    /// <exception cref="ConfigException">k is 0 or below −Total.</exception>
    public RunConfig ResolveRun(int configIdx)
    {
        int k = NormalizeIndex(configIdx);
        return new RunConfig(Resolve(k), Name, k, Total);
    }

    private static string Join(string prefix, string key) => prefix.Length == 0 ? key : prefix + "." + key;

    private static int CheckedCount(long count, string source, string path)
    {
        if (count > int.MaxValue)
        {
            string where = path.Length == 0 ? "the sweep" : $"key '{path}'";
            throw new ConfigException($"{source}: {where} has more than {int.MaxValue} combinations");
        }

        return (int)count;
    }

    /// <summary>An object of key → list of alternatives.</summary>
    private sealed class SweepObject
    {
        private readonly List<(string Key, SweepList List)> _entries;

        private SweepObject(List<(string Key, SweepList List)> entries, int count)
        {
            _entries = entries;
            Count = count;
        }

        public int Count { get; }

        public static SweepObject Build(JsonElement element, string path, string source)
        {
            var entries = new List<(string, SweepList)>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            long count = 1;
            foreach (JsonProperty property in element.EnumerateObject())
            {
                string keyPath = Join(path, property.Name);
                if (!seen.Add(property.Name))
                {
                    throw new ConfigException($"{source}: key '{keyPath}' appears twice");
                }

                JsonElement value = property.Value;
                if (value.ValueKind != JsonValueKind.Array)
                {
                    string example = value.ValueKind == JsonValueKind.Object ? "{...}" : JsonText.Show(value);
                    throw new ConfigException(
                        $"{source}: key '{keyPath}' must be a list of alternatives, e.g. \"{property.Name}\": [{example}]");
                }

                if (value.GetArrayLength() == 0)
                {
                    throw new ConfigException(
                        $"{source}: key '{keyPath}' has an empty list of alternatives; give at least one, e.g. \"{property.Name}\": [value]");
                }

                SweepList list = SweepList.Build(value, keyPath, source);
                entries.Add((property.Name, list));
                count = CheckedCount(count * list.Count, source, path);
            }

            return new SweepObject(entries, (int)count);
        }

        /// <summary>Mixed radix, first key fastest.</summary>
        public JsonObject Resolve(int index)
        {
            var result = new JsonObject();
            foreach ((string key, SweepList list) in _entries)
            {
                result[key] = list.Resolve(index % list.Count);
                index /= list.Count;
            }

            return result;
        }
    }

    /// <summary>A list of alternatives; object alternatives take consecutive index ranges.</summary>
    private sealed class SweepList
    {
        private readonly List<(JsonElement Plain, SweepObject? Object)> _alternatives;

        private SweepList(List<(JsonElement, SweepObject?)> alternatives, int count)
        {
            _alternatives = alternatives;
            Count = count;
        }

        public int Count { get; }

        public static SweepList Build(JsonElement array, string path, string source)
        {
            int length = array.GetArrayLength();
            var alternatives = new List<(JsonElement, SweepObject?)>(length);
            long count = 0;
            int position = 0;
            foreach (JsonElement item in array.EnumerateArray())
            {
                if (item.ValueKind == JsonValueKind.Object)
                {
                    string itemPath = length == 1 ? path : $"{path}[{position}]";
                    SweepObject obj = SweepObject.Build(item, itemPath, source);
                    alternatives.Add((default, obj));
                    count += obj.Count;
                }
                else
                {
                    alternatives.Add((item.Clone(), null));
                    count += 1;
                }

                count = CheckedCount(count, source, path);
                position++;
            }

            return new SweepList(alternatives, (int)count);
        }

        public JsonNode? Resolve(int index)
        {
            foreach ((JsonElement plain, SweepObject? obj) in _alternatives)
            {
                int width = obj?.Count ?? 1;
                if (index < width)
                {
                    return obj is not null ? obj.Resolve(index) : JsonNode.Parse(plain.GetRawText());
                }

                index -= width;
            }

            throw new InvalidOperationException("Index beyond the list's count; Count is computed from the same alternatives.");
        }
    }
}
