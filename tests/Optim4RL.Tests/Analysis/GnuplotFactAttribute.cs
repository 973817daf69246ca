using Optim4RL.Analysis;

namespace Optim4RL.Tests.Analysis;

/// <summary>A fact that needs gnuplot: skipped, with the reason and the fix, when it is not installed (CI installs it through scripts/setup.sh).</summary>
public sealed class GnuplotFactAttribute : FactAttribute
{
    private static readonly Lazy<bool> Available = new(() => Gnuplot.IsAvailable());

    public GnuplotFactAttribute()
    {
        if (!Available.Value) Skip = $"gnuplot is not installed: run scripts/setup.sh (Debian package {Gnuplot.Package}).";
    }
}
