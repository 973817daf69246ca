using System.Text;

namespace Optim4RL.Cli.Commands;

/// <summary>
/// Passes text on one whole line at a time. MPI launchers forward each rank's output as it arrives, so
/// pieces of lines written separately (a bold name, then the rest) from several ranks would interleave
/// mid-line; whole lines keep every rank's lines intact (add mpiexec -l or srun --label to prefix ranks).
/// </summary>
internal sealed class WholeLineWriter(TextWriter inner) : TextWriter
{
    private readonly StringBuilder pending = new();

    public override Encoding Encoding => inner.Encoding;

    public override void Write(char value)
    {
        lock (pending)
        {
            pending.Append(value);
            if (value == '\n') Emit();
        }
    }

    public override void Write(string? value)
    {
        if (value is null) return;
        lock (pending)
        {
            pending.Append(value);
            if (value.Contains('\n')) Emit();
        }
    }

    public override void Write(char[] buffer, int index, int count) => Write(new string(buffer, index, count));

    public override void Flush()
    {
        lock (pending)
        {
            if (pending.Length > 0) Emit();
            inner.Flush();
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) Flush();
        base.Dispose(disposing);
    }

    // Hands over everything up to the last newline (all of it when flushing) in one write.
    private void Emit()
    {
        string text = pending.ToString();
        int cut = text.LastIndexOf('\n') + 1;
        if (cut == 0) cut = text.Length;
        inner.Write(text[..cut]);
        inner.Flush();
        pending.Remove(0, cut);
    }
}
