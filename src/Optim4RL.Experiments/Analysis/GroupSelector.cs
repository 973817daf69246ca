using System.Text.RegularExpressions;

namespace Optim4RL.Analysis;

/// <summary>
/// Picks configurations by their config values: <c>key=value[,key=value…]</c> with dotted key paths of
/// <c>config.json</c> (<c>agent_optim.name=Adam,agent_optim.kwargs.learning_rate=0.003</c>). A group
/// matches when every one of its runs has every listed value. Values compare as numbers when both
/// sides are numbers (0.003 = 3e-3), otherwise as text ignoring case; <c>*</c> in a value matches any
/// characters (<c>agent_optim.kwargs.param_load_path=*untrained*</c>).
/// </summary>
public sealed class GroupSelector
{
    private readonly (string Key, string Value)[] _terms;

    private GroupSelector((string, string)[] terms, string text)
    {
        _terms = terms;
        Text = text;
    }

    /// <summary>The selector as given.</summary>
    public string Text { get; }

    /// <summary>The (key, value) pairs that must all hold.</summary>
    public IReadOnlyList<(string Key, string Value)> Terms => _terms;

    /// <summary>Parses <c>key=value[,key=value…]</c>.</summary>
    /// <param name="text">The selector.</param>
    /// <param name="option">The option's name, for the error message.</param>
    /// <exception cref="ArgumentException">Empty, or a term without <c>=</c> or without a key.</exception>
    public static GroupSelector Parse(string text, string option = "selector")
    {
        ArgumentNullException.ThrowIfNull(text);
        var terms = new List<(string, string)>();
        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) throw new ArgumentException($"{option} '{text}': '{part}' is not key=value (e.g. agent_optim.name=Adam).", nameof(text));
            terms.Add((part[..eq].Trim(), part[(eq + 1)..].Trim()));
        }

        if (terms.Count == 0) throw new ArgumentException($"{option} is empty; give key=value, e.g. agent_optim.name=Adam.", nameof(text));
        return new GroupSelector(terms.ToArray(), text.Trim());
    }

    /// <summary>True when every run of <paramref name="group"/> has every value of the selector.</summary>
    public bool Matches(RunGroup group)
    {
        ArgumentNullException.ThrowIfNull(group);
        return group.Runs.Count > 0 && group.Runs.All(run => _terms.All(t => run.Flat.TryGetValue(t.Key, out string? v) && ValueMatches(v, t.Value)));
    }

    /// <summary>Whether a config value <paramref name="actual"/> matches a selector value <paramref name="wanted"/>.</summary>
    public static bool ValueMatches(string actual, string wanted)
    {
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentNullException.ThrowIfNull(wanted);
        if (wanted.Contains('*', StringComparison.Ordinal))
            return Regex.IsMatch(actual, "^" + Regex.Escape(wanted).Replace("\\*", ".*", StringComparison.Ordinal) + "$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
        var inv = CultureInfo.InvariantCulture;
        if (double.TryParse(actual, NumberStyles.Float, inv, out double a) && double.TryParse(wanted, NumberStyles.Float, inv, out double b)) return a == b;
        return string.Equals(actual, wanted, StringComparison.OrdinalIgnoreCase);
    }

    /// <inheritdoc/>
    public override string ToString() => Text;
}
