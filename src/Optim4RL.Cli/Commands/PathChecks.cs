using System.CommandLine;
using System.CommandLine.Parsing;

namespace Optim4RL.Cli.Commands;

/// <summary>
/// Checks of path options at parse time, so a directory given for a file, an empty string, a
/// missing input or a file given for a folder is one line naming the option and the fix, before
/// any work starts.
/// </summary>
internal static class PathChecks
{
    /// <summary>
    /// The <c>--logs</c> option of every verb that writes runs (run, sweep, demo): the root folder of
    /// run directories, default <c>logs</c>; <paramref name="where"/> says what goes where under it.
    /// </summary>
    public static Option<string> LogsOption(string where) => new Option<string>("--logs")
    {
        Description = $"Root folder of run directories (created when missing): {where}.",
        DefaultValueFactory = _ => Experiments.RunDirectory.DefaultLogsRoot,
    }.OutputFolder();

    /// <summary>An input file that must exist (<paramref name="example"/> shows what to give).</summary>
    public static T InputFile<T>(this T option, string example) where T : Option<string> =>
        option.Check(v => InputFileProblem(option.Name, v, example));

    /// <summary>A folder that is created when missing; it must not be an existing file.</summary>
    public static T OutputFolder<T>(this T option) where T : Option => option.Check(v =>
        v.Trim().Length == 0 ? $"{option.Name} is empty; give a folder, or leave the option out for the default."
        : File.Exists(v) ? $"{option.Name} '{v}' is a file; give a folder (it is created when missing)." : null);

    /// <summary>A file to write (or a path prefix to which extensions are added); it must not be an existing folder.</summary>
    public static T OutputFile<T>(this T option) where T : Option => option.Check(v =>
        v.Trim().Length == 0 ? $"{option.Name} is empty; give a file path, or leave the option out for the default."
        : Directory.Exists(v) ? $"{option.Name} '{v}' is a folder; give a file path inside it, such as {Path.Combine(v, "out")}." : null);

    /// <summary>Reports <paramref name="problem"/> of the option's value when it is given.</summary>
    private static T Check<T>(this T option, Func<string, string?> problem) where T : Option
    {
        option.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string?>() is { } v) Report(r, problem(v));
        });
        return option;
    }

    /// <summary>
    /// The PATH… argument of the verbs that read runs (plot, report, analyze): one or more run or sweep
    /// directories, or files, that must exist and be non-empty strings.
    /// </summary>
    public static Argument<string[]> ExistingPaths(string name, string description)
    {
        var argument = new Argument<string[]>(name) { Description = description, Arity = ArgumentArity.OneOrMore };
        argument.Validators.Add(r =>
        {
            foreach (string v in r.GetValueOrDefault<string[]>() ?? [])
            {
                string? problem = v.Trim().Length == 0 ? $"an empty path was given for {argument.Name}; give a run or sweep directory such as logs/a2c_catch."
                    : !File.Exists(v) && !Directory.Exists(v) ? $"'{v}' does not exist; give a run or sweep directory such as logs/a2c_catch." : null;
                if (problem is not null)
                {
                    r.AddError(problem);
                    return;
                }
            }
        });
        return argument;
    }

    /// <summary>Null when <paramref name="path"/> names an existing file; otherwise what is wrong and how to fix it.</summary>
    public static string? InputFileProblem(string option, string? path, string example)
    {
        if (path is null) return null;
        if (path.Trim().Length == 0) return $"{option} is empty; give a file such as {example}.";
        if (Directory.Exists(path)) return $"{option} '{path}' is a folder; give a file in it, such as {example}.";
        if (!File.Exists(path)) return $"{option} '{path}' does not exist; give a file such as {example}.";
        return null;
    }

    private static void Report(OptionResult r, string? problem)
    {
        if (problem is not null) r.AddError(problem);
    }
}
