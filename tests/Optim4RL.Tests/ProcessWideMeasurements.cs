namespace Optim4RL.Tests;

/// <summary>
/// Test classes that measure process-wide quantities (e.g. <c>GC.GetTotalAllocatedBytes</c>) join this
/// collection: xunit runs it after the parallel collections, alone, so other tests cannot allocate
/// inside the measured window.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideMeasurements
{
    public const string Name = "Process-wide measurements";
}
