using Optim4RL.Experiments;

namespace Optim4RL.Tests.Experiments;

/// <summary>docs/configs.md is generated from the schema (<see cref="ConfigSchema.Markdown"/>) and must match it.</summary>
public class ConfigDocsTests
{
    private const string RegenVariable = "OPTIM4RL_REGEN_DOCS";

    [Fact]
    public void Docs_configs_md_is_what_the_schema_generates()
    {
        string path = Path.Combine(Path.GetDirectoryName(ShippedConfigTests.ConfigsDir())!, ConfigSchema.DocsPath);
        string expected = ConfigSchema.Markdown();
        if (Environment.GetEnvironmentVariable(RegenVariable) == "1")
        {
            File.WriteAllText(path, expected);
        }

        string actual = File.Exists(path) ? File.ReadAllText(path).ReplaceLineEndings("\n") : "";
        Assert.True(actual == expected,
            $"{ConfigSchema.DocsPath} differs from the schema (src/Optim4RL.Experiments/Experiments/ConfigKeys.cs). Regenerate it with: " +
            $"{RegenVariable}=1 dotnet test tests/Optim4RL.Tests -c Release --filter ConfigDocsTests");
    }
}
