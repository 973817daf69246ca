namespace Optim4RL.Distributed;

/// <summary>A job cannot run as launched: no usable MPI library, an unsupported MPI launcher, or ranks that disagree. The message is one line that names the fix.</summary>
public sealed class DistributedException : Exception
{
    /// <summary>Creates the exception with its one-line message.</summary>
    public DistributedException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with its one-line message and the failure behind it.</summary>
    public DistributedException(string message, Exception inner) : base(message, inner)
    {
    }
}
