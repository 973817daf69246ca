namespace Optim4RL.Envs.MuJoCo;

/// <summary>
/// An error reported by MuJoCo or by the binding: a model that does not load (the message names the file
/// and quotes MuJoCo's parser/compiler text), an engine error raised inside a MuJoCo call (trapped by the C
/// shim instead of MuJoCo's default handler, which would block on "Press Enter to exit" and exit the
/// process), or a missing/incompatible native library (the message says to run <c>scripts/setup.sh</c>).
/// </summary>
public sealed class MuJoCoException : Exception
{
    /// <summary>Creates the exception with a message.</summary>
    public MuJoCoException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    public MuJoCoException(string message, Exception inner) : base(message, inner)
    {
    }
}
