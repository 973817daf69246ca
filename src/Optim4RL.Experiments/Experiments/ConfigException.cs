namespace Optim4RL.Experiments;

/// <summary>
/// A sweep file or a resolved run configuration is malformed: invalid JSON, a value that is
/// not a list of alternatives, an empty list, a missing key, or a value of the wrong type.
/// The message is one line that names the file or key path, what was expected and what was found.
/// </summary>
/// <remarks>See docs/experiment-configs.md (the reference's experiment configuration convention).</remarks>
public sealed class ConfigException : Exception
{
    /// <summary>Creates the exception with a one-line message.</summary>
    public ConfigException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a one-line message and the error that caused it.</summary>
    public ConfigException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
