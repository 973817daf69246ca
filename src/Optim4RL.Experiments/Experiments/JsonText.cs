using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Optim4RL.Experiments;

/// <summary>Short, one-line renderings of JSON values for error messages and files.</summary>
internal static class JsonText
{
    private const int MaxShown = 60;

    /// <summary>Writer options for files people read: indented, non-ASCII and '+' left as they are.</summary>
    internal static readonly JsonSerializerOptions Indented = new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static readonly JsonSerializerOptions Compact = new()
    {
        WriteIndented = false,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>The value in compact JSON, cut to about 60 characters.</summary>
    internal static string Show(JsonNode? node) => Cut(node is null ? "null" : node.ToJsonString(Compact));

    /// <summary>The value in compact JSON, cut to about 60 characters.</summary>
    internal static string Show(JsonElement element) => Cut(JsonSerializer.Serialize(element, Compact));

    /// <summary>"string \"abc\"", "number 0.5", "list [1, 2]", "object {…}", "boolean true", "null".</summary>
    internal static string Describe(JsonNode? node) => node is null
        ? "null"
        : KindName(node.GetValueKind()) + " " + Show(node);

    /// <summary>Like <see cref="Describe(JsonNode?)"/> for a document element.</summary>
    internal static string Describe(JsonElement element) => element.ValueKind == JsonValueKind.Null
        ? "null"
        : KindName(element.ValueKind) + " " + Show(element);

    internal static string KindName(JsonValueKind kind) => kind switch
    {
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        JsonValueKind.Array => "list",
        JsonValueKind.Object => "object",
        JsonValueKind.Null => "null",
        _ => "value",
    };

    private static string Cut(string text) => text.Length <= MaxShown ? text : text[..(MaxShown - 3)] + "...";
}
