using Optim4RL.Experiments;

namespace Optim4RL.Tests.Experiments;

/// <summary>Reports progress on the calling thread at once (Progress&lt;T&gt; would post it later), so a test can cancel at an exact iteration.</summary>
internal sealed class SyncProgress(Action<RunProgress> report) : IProgress<RunProgress>
{
    public void Report(RunProgress value) => report(value);
}
