namespace Optim4RL.Distributed;

/// <summary>A job of one process: rank 0 of 1, where every collective operation returns its input.</summary>
public sealed class SingleProcessCommunicator : Communicator
{
    /// <summary>The one instance (it holds no state).</summary>
    public static SingleProcessCommunicator Instance { get; } = new();

    private SingleProcessCommunicator()
    {
    }

    /// <inheritdoc/>
    public override int Rank => 0;

    /// <inheritdoc/>
    public override int Size => 1;

    /// <inheritdoc/>
    public override void Barrier()
    {
    }

    /// <inheritdoc/>
    public override T[] Broadcast<T>(T[]? values, int root = 0)
    {
        CheckElementType<T>();
        CheckRoot(root);
        ArgumentNullException.ThrowIfNull(values);
        return values;
    }

    /// <inheritdoc/>
    public override T[][] Gather<T>(T[] local, int root = 0)
    {
        CheckElementType<T>();
        CheckRoot(root);
        ArgumentNullException.ThrowIfNull(local);
        return [local];
    }

    /// <inheritdoc/>
    public override void Abort(string message, int exitCode)
    {
        Console.Error.WriteLine(message);
        Environment.Exit(exitCode);
    }

    private static void CheckRoot(int root) => ArgumentOutOfRangeException.ThrowIfNotEqual(root, 0);
}
