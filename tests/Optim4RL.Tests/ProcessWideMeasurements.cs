namespace Optim4RL.Tests;

/// <summary>
/// Test classes that measure or change process-wide state (<c>GC.GetTotalAllocatedBytes</c>, the console)
/// join this collection, which xunit runs on its own after the parallel ones, so other tests cannot disturb them.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideMeasurements
{
    public const string Name = "Process-wide measurements";
}
